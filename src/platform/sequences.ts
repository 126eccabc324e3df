import type { Connection } from 'mongoose';

const isDuplicateKey = (err: unknown) => (err as { code?: number } | null)?.code === 11000;

/**
 * Gap-free, duplicate-free counters that stay exact on FerretDB 1.24 as well as MongoDB.
 *
 * FerretDB 1.24 applies `$inc` (and conditional `findOneAndUpdate`) as read-modify-write without
 * isolation: 20 concurrent `$inc`s were measured to leave a counter at 6. Inserts against a unique
 * `_id` are exact, so each number is *claimed* by inserting `{ _id: "<name>:<n>" }`; a duplicate
 * key means another writer owns n and the next one is tried. A hint document remembers roughly
 * where the counter stands so a claim usually succeeds first time; the hint may lag (its `$max`
 * is not isolated either) but never runs ahead of a claimed number, so it only costs retries.
 * A writer that dies after claiming leaves an unused number: counters are unique and increasing,
 * and almost always contiguous.
 */
export function createSequenceAllocator(connection: Connection) {
  const claims = connection.collection<{ _id: string; at: Date }>('sequence_claims');
  const hints = connection.collection<{ _id: string; value: number }>('sequence_hints');

  async function raiseHint(name: string, value: number): Promise<void> {
    try {
      await hints.updateOne({ _id: name }, { $max: { value } }, { upsert: true });
    } catch (err) {
      // Two first-ever upserts race on the _id; the document exists now, which is all we need.
      if (!isDuplicateKey(err)) throw err;
    }
  }

  return {
    async next(name: string): Promise<number> {
      const hint = await hints.findOne({ _id: name });
      let candidate = (hint?.value ?? 0) + 1;
      for (;;) {
        try {
          await claims.insertOne({ _id: `${name}:${candidate}`, at: new Date() });
          break;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          candidate += 1;
        }
      }
      await raiseHint(name, candidate);
      return candidate;
    },
  };
}

export type SequenceAllocator = ReturnType<typeof createSequenceAllocator>;

import type { Connection } from 'mongoose';
import { isDuplicateKey } from './mongo';

/**
 * Duplicate-free, increasing counters that stay exact on FerretDB 1.24 as well as MongoDB.
 *
 * FerretDB 1.24 applies `$inc` (and conditional `findOneAndUpdate`) as read-modify-write without
 * isolation: 20 concurrent `$inc`s were measured to leave a counter at 6. Inserts against a unique
 * `_id` are exact, so each number is *claimed* by inserting `{ _id: "<name>:<n>" }`; a duplicate
 * key means another writer owns n and the next one is tried.
 *
 * Where to start looking: this process remembers the last number it saw per counter, so a claim
 * usually costs one insert. A hint document, written every HINT_EVERY numbers, tells a process that
 * has not seen the counter yet roughly where it stands; it may lag (its `$max` is not isolated
 * either) but never runs ahead of a claimed number, so a lag only costs a few extra inserts once.
 * A writer that dies after claiming leaves an unused number: numbers are unique and increasing,
 * and almost always contiguous.
 */
const HINT_EVERY = 16;

export function createSequenceAllocator(connection: Connection) {
  const claims = connection.collection<{ _id: string; at: Date }>('sequence_claims');
  const hints = connection.collection<{ _id: string; value: number }>('sequence_hints');
  const lastSeen = new Map<string, number>();

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
      let start = lastSeen.get(name);
      const cold = start === undefined;
      if (start === undefined) start = (await hints.findOne({ _id: name }))?.value ?? 0;
      let candidate = start + 1;
      for (let misses = 1; ; misses += 1) {
        try {
          await claims.insertOne({ _id: `${name}:${candidate}`, at: new Date() });
          break;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          candidate += 1;
        }
        // Far behind (another process took many numbers): jump to where the hint says it stands.
        if (misses % HINT_EVERY === 0) {
          const hint = (await hints.findOne({ _id: name }))?.value ?? 0;
          candidate = Math.max(candidate, hint + 1);
        }
      }
      if (lastSeen.size > 50_000) lastSeen.clear();
      lastSeen.set(name, Math.max(candidate, lastSeen.get(name) ?? 0));
      if (cold || candidate % HINT_EVERY === 0 || candidate - start > HINT_EVERY) await raiseHint(name, candidate);
      return candidate;
    },
  };
}

export type SequenceAllocator = ReturnType<typeof createSequenceAllocator>;

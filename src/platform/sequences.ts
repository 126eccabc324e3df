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
 * A writer that dies after claiming leaves an unused number, and so does an insert that fails for
 * another reason than a duplicate (this process has already handed out the numbers above it):
 * numbers are unique and increasing, and almost always contiguous. Chat message numbers, which
 * must be dense, do not come from here (see src/modules/chat/message-numbers.ts).
 *
 * Claims would grow by one document per number forever; sweepSequenceClaims deletes those far
 * below each hint. A deleted claim could be taken again by a process that still remembers a number
 * below it, so a remembered number is trusted for LAST_SEEN_TTL_MS only, and the sweep deletes only
 * claims below a hint it saw more than SWEEP_MIN_AGE_MS (far longer) ago.
 */
const HINT_EVERY = 16;
const LAST_SEEN_TTL_MS = 10 * 60_000;
export const SWEEP_MIN_AGE_MS = 60 * 60_000;

export function createSequenceAllocator(connection: Connection, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  const claims = connection.collection<{ _id: string; at: Date }>('sequence_claims');
  const hints = connection.collection<{ _id: string; value: number }>('sequence_hints');
  const lastSeen = new Map<string, { value: number; at: number }>();

  async function raiseHint(name: string, value: number): Promise<void> {
    try {
      await hints.updateOne({ _id: name }, { $max: { value } }, { upsert: true });
    } catch (err) {
      // Two first-ever upserts race on the _id; the document exists now, which is all we need.
      if (!isDuplicateKey(err)) throw err;
    }
  }

  // The highest number this process has tried for each counter, won or not. Concurrent callers
  // in one process take candidates above it, so they never race each other for one number
  // (without it, n callers at once cost about n²/2 failed inserts). Trusted like lastSeen.
  const handedOut = new Map<string, { value: number; at: number }>();

  function takeLocal(name: string, atLeast: number): number {
    const prior = handedOut.get(name);
    const floor = prior !== undefined && now() - prior.at < LAST_SEEN_TTL_MS ? prior.value : 0;
    const candidate = Math.max(atLeast, floor + 1);
    if (handedOut.size > 50_000) handedOut.clear();
    handedOut.set(name, { value: candidate, at: now() });
    return candidate;
  }

  return {
    /** The next number of the counter `name`; never below `atLeast` when it is given. */
    async next(name: string, atLeast = 0): Promise<number> {
      const seen = lastSeen.get(name);
      const fresh = seen !== undefined && now() - seen.at < LAST_SEEN_TTL_MS;
      const cold = !fresh;
      const start = fresh ? seen.value : Math.max(seen?.value ?? 0, (await hints.findOne({ _id: name }))?.value ?? 0);
      let candidate = takeLocal(name, Math.max(start + 1, atLeast));
      for (let misses = 1; ; misses += 1) {
        try {
          await claims.insertOne({ _id: `${name}:${candidate}`, at: new Date() });
          break;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
        // Far behind (another process took many numbers): jump to where the hint says it stands.
        const hint = misses % HINT_EVERY === 0 ? ((await hints.findOne({ _id: name }))?.value ?? 0) : 0;
        candidate = takeLocal(name, Math.max(candidate + 1, hint + 1));
      }
      if (lastSeen.size > 50_000) lastSeen.clear();
      lastSeen.set(name, { value: Math.max(candidate, lastSeen.get(name)?.value ?? 0), at: now() });
      if (cold || candidate % HINT_EVERY === 0 || candidate - start > HINT_EVERY) await raiseHint(name, candidate);
      return candidate;
    },
  };
}

export type SequenceAllocator = ReturnType<typeof createSequenceAllocator>;

export interface BlockSequenceOptions {
  /** Numbers per block: one claim (an insert) hands out this many. */
  size?: number;
  /**
   * A block's numbers are handed out only this long after its claim began; the rest is left
   * unused and the next number comes from a new, higher block. What this bounds: a number is
   * used (its change stored) within this long of being claimed, as with single claims, so a
   * reader that trusts only changes older than a settle time longer than this (chat's /sync,
   * CHAT_SYNC_SETTLE_MS) sees every lower number that will ever be stored.
   */
  validMs: number;
  /**
   * Numbers handed out one by one under this counter's name before blocks (a counter that
   * existed before): blocks start above its hint + a margin, so no number repeats.
   */
  continuesCounter?: string;
  now?: () => number;
}

// The hint of a counter that was claimed number by number lags its highest claim by at most a
// few HINT_EVERY; blocks start this far above it.
const BLOCK_FLOOR_MARGIN = 1_024;

/**
 * Unique, increasing numbers claimed in blocks: block k (from the allocator above, counter
 * `<name>:blocks`, so its claims are exact and swept like any other) is the numbers
 * k·size … k·size + size − 1. One insert per `size` numbers where `next` costs one per number.
 * Numbers are unique across processes and increasing within one; across processes they are
 * increasing up to `validMs` (a process may still hand out a lower number from its block up to
 * `validMs` after another claimed a higher one), and a block's unused numbers are gaps.
 * Concurrent callers in one process share one claim in flight.
 */
export function createBlockSequence(connection: Connection, allocator: SequenceAllocator, name: string, options: BlockSequenceOptions) {
  const size = options.size ?? 64;
  const now = options.now ?? (() => performance.now());
  const hints = connection.collection<{ _id: string; value: number }>('sequence_hints');
  let block: { next: number; end: number; until: number } | null = null;
  let claiming: Promise<{ next: number; end: number }> | null = null;
  let floorBlock: number | null = null;

  async function claim(): Promise<{ next: number; end: number; until: number }> {
    const started = now();
    if (floorBlock === null) {
      const before = options.continuesCounter ? ((await hints.findOne({ _id: options.continuesCounter }))?.value ?? 0) : 0;
      floorBlock = before > 0 ? Math.ceil((before + BLOCK_FLOOR_MARGIN) / size) : 0;
    }
    const k = await allocator.next(`${name}:blocks`, floorBlock);
    // Numbers start at 1, as the allocator's do: block 0 has no number 0.
    const claimed = { next: Math.max(1, k * size), end: (k + 1) * size, until: started + options.validMs };
    block = claimed;
    return claimed;
  }

  return {
    async next(): Promise<number> {
      if (block && block.next < block.end && now() < block.until) return block.next++;
      for (;;) {
        claiming ??= claim().finally(() => (claiming = null));
        // Whoever waited on the claim takes from it at once (in the same turn), even with validMs 0.
        const fresh = await claiming;
        if (fresh.next < fresh.end) return fresh.next++;
      }
    },
  };
}

export type BlockSequence = ReturnType<typeof createBlockSequence>;

export interface SequenceSweepOptions {
  now: Date;
  /** Claims this many numbers below a counter's hint stay (the hint may lag a few numbers). */
  margin?: number;
  /** Only claims below a hint observed at least this long ago are deleted (see LAST_SEEN_TTL_MS). */
  minAgeMs?: number;
  /** The most claims one run deletes; the rest wait for the next run. */
  maxDeletes?: number;
}

interface SweepState {
  _id: string;
  /** Every claim below this number is gone. */
  below: number;
  /** A hint value and when the sweep saw it; claims below it were all made before `at`. */
  observed: { value: number; at: Date } | null;
}

/**
 * Deletes `sequence_claims` far below each counter's hint, in two phases: one run notes the hint,
 * a run at least minAgeMs later deletes the claims below (that hint - margin). Runs on a job
 * schedule, so once at a time across processes with Redis; two overlapping runs only repeat work.
 * Deletes are by `_id` one at a time, the one filter FerretDB serves from an index.
 */
export async function sweepSequenceClaims(connection: Connection, options: SequenceSweepOptions): Promise<{ counters: number; deleted: number }> {
  const margin = options.margin ?? 256;
  const minAgeMs = options.minAgeMs ?? SWEEP_MIN_AGE_MS;
  let budget = options.maxDeletes ?? 20_000;
  const claims = connection.collection<{ _id: string }>('sequence_claims');
  const hints = connection.collection<{ _id: string; value: number }>('sequence_hints');
  const sweeps = connection.collection<SweepState>('sequence_sweeps');
  const states = new Map((await sweeps.find({}).toArray()).map((state) => [state._id, state]));
  let deleted = 0;
  let counters = 0;
  for (const hint of await hints.find({}).toArray()) {
    counters += 1;
    const state: SweepState = states.get(hint._id) ?? { _id: hint._id, below: 1, observed: null };
    if (hint.value - margin <= state.below) continue;
    let next: SweepState = state;
    if (!state.observed) {
      next = { ...state, observed: { value: hint.value, at: options.now } };
    } else if (options.now.getTime() - new Date(state.observed.at).getTime() >= minAgeMs && budget > 0) {
      const target = state.observed.value - margin;
      let below = state.below;
      while (below < target && budget > 0) {
        const batch = Array.from({ length: Math.min(16, target - below, budget) }, (_, i) => `${hint._id}:${below + i}`);
        const results = await Promise.all(batch.map((id) => claims.deleteOne({ _id: id })));
        deleted += results.reduce((sum, result) => sum + result.deletedCount, 0);
        below += batch.length;
        budget -= batch.length;
      }
      next = { ...state, below: Math.max(below, state.below), observed: below >= target ? { value: hint.value, at: options.now } : state.observed };
    }
    if (next === state) continue;
    try {
      await sweeps.replaceOne({ _id: hint._id }, next, { upsert: true });
    } catch (err) {
      // Another sweep's first upsert of this counter won; it will be read on the next run.
      if (!isDuplicateKey(err)) throw err;
    }
  }
  return { counters, deleted };
}

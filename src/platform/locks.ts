import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { errors } from './errors';
import { isDuplicateKey } from './mongo';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LockOptions {
  /** A holder that died is overtaken after this long. Keep it well above the guarded work. */
  leaseMs?: number;
  /** How long to wait for the lock before answering 503. */
  waitMs?: number;
}

/**
 * Short mutual exclusion on a key, for read-modify-write sequences that must not interleave.
 *
 * FerretDB 1.24 does not isolate updates (`$max`, `$set` after a read, `findOneAndUpdate`): a
 * writer waiting on SQLite's lock can land a stale value long after others checked theirs. An
 * insert against a unique `_id` is exact, so the lock is a document: whoever inserts it holds it,
 * everyone else retries until it is deleted or its lease runs out. Works the same on MongoDB.
 */
export function createLocks(connection: Connection) {
  const locks = connection.collection<{ _id: string; owner: string; expiresAt: Date }>('locks');

  async function acquire(key: string, owner: string, leaseMs: number, waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await locks.insertOne({ _id: key, owner, expiresAt: new Date(Date.now() + leaseMs) });
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const held = await locks.findOne({ _id: key });
      if (held && held.expiresAt.getTime() < Date.now()) {
        // A dead holder's lease ran out: remove exactly that lease; whoever inserts next wins.
        await locks.deleteOne({ _id: key, owner: held.owner });
        continue;
      }
      if (Date.now() > deadline) throw errors.serviceUnavailable('The resource is busy, try again shortly');
      await sleep(Math.min(5 + attempt * 5, 40));
    }
  }

  return {
    async withLock<T>(key: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
      const owner = randomBytes(8).toString('hex');
      await acquire(key, owner, options.leaseMs ?? 10_000, options.waitMs ?? 5_000);
      try {
        return await work();
      } finally {
        // By `_id` alone: FerretDB serves only that filter without a scan. The lock is ours unless
        // the work outlived its lease, which leaseMs is chosen to rule out.
        await locks.deleteOne({ _id: key }).catch(() => undefined);
      }
    },
  };
}

export type Locks = ReturnType<typeof createLocks>;

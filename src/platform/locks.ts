import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { errors } from './errors';
import { isDuplicateKey } from './mongo';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LockOptions {
  /**
   * A holder that died is overtaken this long after its last renewal. The holder renews every
   * third of it while its work runs, so the work may take longer; only a dead (or frozen) holder
   * lets the lease run out.
   */
  leaseMs?: number;
  /** How long to wait for the lock before answering 503. */
  waitMs?: number;
}

export const DEFAULT_LEASE_MS = 3_000;
export const DEFAULT_WAIT_MS = 5_000;

/**
 * Short mutual exclusion on a key, for read-modify-write sequences that must not interleave.
 *
 * FerretDB 1.24 does not isolate updates (`$max`, `$set` after a read, `findOneAndUpdate`): a
 * writer can land a stale value long after others checked theirs. An insert against a unique
 * `_id` is exact, so the lock is a document: whoever inserts it holds it, everyone else retries
 * until it is deleted or its lease runs out. Works the same on MongoDB.
 *
 * Leases are short (DEFAULT_LEASE_MS) and renewed while the holder works, so a process that dies
 * holding a lock blocks others for at most one lease. Callers in one process queue in memory
 * first, so only one of them at a time polls the store for a given key.
 */
export function createLocks(connection: Connection, defaults: LockOptions = {}) {
  const locks = connection.collection<{ _id: string; owner: string; expiresAt: Date }>('locks');
  const local = new Map<string, Promise<unknown>>();

  async function acquire(key: string, owner: string, leaseMs: number, deadline: number): Promise<void> {
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
      if (Date.now() > deadline) throw busy();
      // Never sleep past the moment the holder's lease would end, so a dead holder costs one lease.
      const untilExpiry = held ? held.expiresAt.getTime() - Date.now() + 1 : 0;
      await sleep(Math.max(1, Math.min(5 + attempt * 5, 40, untilExpiry)));
    }
  }

  function busy() {
    return errors.serviceUnavailable('The resource is busy, try again shortly');
  }

  async function run<T>(key: string, work: () => Promise<T>, leaseMs: number, deadline: number): Promise<T> {
    const owner = randomBytes(8).toString('hex');
    await acquire(key, owner, leaseMs, deadline);
    const renew = setInterval(() => {
      void locks.updateOne({ _id: key, owner }, { $set: { expiresAt: new Date(Date.now() + leaseMs) } }).catch(() => undefined);
    }, Math.max(50, Math.floor(leaseMs / 3)));
    renew.unref();
    try {
      return await work();
    } finally {
      clearInterval(renew);
      await locks.deleteOne({ _id: key, owner }).catch(() => undefined);
    }
  }

  return {
    async withLock<T>(key: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
      const leaseMs = options.leaseMs ?? defaults.leaseMs ?? DEFAULT_LEASE_MS;
      const waitMs = options.waitMs ?? defaults.waitMs ?? Math.max(DEFAULT_WAIT_MS, 2 * leaseMs);
      const deadline = Date.now() + waitMs;
      // In-process queue per key: a chain of promises, each link waiting for the one before it.
      const previous = local.get(key) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => (release = resolve));
      const tail = previous.then(() => mine);
      local.set(key, tail);
      try {
        let timer: NodeJS.Timeout | undefined;
        const waited = await Promise.race([
          previous.then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())))),
        ]);
        clearTimeout(timer);
        if (!waited) throw busy();
        return await run(key, work, leaseMs, deadline);
      } finally {
        release();
        if (local.get(key) === tail) local.delete(key);
      }
    },
  };
}

export type Locks = ReturnType<typeof createLocks>;

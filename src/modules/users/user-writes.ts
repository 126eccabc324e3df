import type { Connection, Model, Types, UpdateQuery } from 'mongoose';
import { createLocks, type Locks } from '../../platform/locks';
import type { FollowDoc, UserDoc } from './user.model';

export type CountField = 'followersCount' | 'followingCount';

const locksByConnection = new WeakMap<Connection, Locks>();
/** One lock client per connection, so callers in one process queue in memory first. */
export function userLocks(connection: Connection): Locks {
  let locks = locksByConnection.get(connection);
  if (!locks) {
    locks = createLocks(connection);
    locksByConnection.set(connection, locks);
  }
  return locks;
}

/**
 * Every write to a user document, under that user's lock (`user:<id>`). FerretDB 1.24 applies an
 * update by reading the whole document, changing it in its own process and writing it back, so
 * two unserialised updates of different fields (a profile edit and a follower count) can lose
 * one. The counts are read on every view and changed only here: a delta applied under the lock
 * after the edge insert or delete decided that something changed, exact under concurrency, and
 * recomputed from the edges by `repairCounts` (a crash between the edge and the count leaves a
 * drift that the repair removes).
 */
export function createUserWrites(users: Model<UserDoc>, follows: Model<FollowDoc>, locks: Locks) {
  const key = (id: Types.ObjectId) => `user:${String(id)}`;
  return {
    /** False when no document matched `{ _id, ...filter }`. */
    async update(id: Types.ObjectId, update: UpdateQuery<UserDoc>, filter: Record<string, unknown> = {}): Promise<boolean> {
      return locks.withLock(key(id), async () => (await users.updateOne({ _id: id, ...filter }, update)).matchedCount > 0);
    },

    async adjustCount(id: Types.ObjectId, field: CountField, delta: number): Promise<void> {
      await locks.withLock(key(id), async () => {
        const user = await users.findById(id, { followersCount: 1, followingCount: 1 }).lean();
        if (!user) return;
        await users.updateOne({ _id: id }, { $set: { [field]: Math.max(0, (user[field] ?? 0) + delta) } });
      });
    },

    /** Recomputes both counts from the follow edges (the truth). */
    async repairCounts(id: Types.ObjectId): Promise<Record<CountField, number> | null> {
      return locks.withLock(key(id), async () => {
        const [followersCount, followingCount] = await Promise.all([
          follows.countDocuments({ followeeId: id }),
          follows.countDocuments({ followerId: id }),
        ]);
        const updated = await users.updateOne({ _id: id }, { $set: { followersCount, followingCount } });
        return updated.matchedCount > 0 ? { followersCount, followingCount } : null;
      });
    },
  };
}

export type UserWrites = ReturnType<typeof createUserWrites>;

import type { Connection, Model, Types, UpdateQuery } from 'mongoose';
import { createLocks, type Locks } from '../../platform/locks';
import type { FollowDoc, UserDoc } from './user.model';
import type { ProfileChanges } from './profile-summaries';

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
export function createUserWrites(users: Model<UserDoc>, follows: Model<FollowDoc>, locks: Locks, changes?: ProfileChanges) {
  const key = (id: Types.ObjectId) => `user:${String(id)}`;
  return {
    /**
     * False when no document matched `{ _id, ...filter }`. A write that matched is announced to
     * the profile caches of every process (awaited), so the caller's answer comes after they heard.
     */
    async update(id: Types.ObjectId, update: UpdateQuery<UserDoc>, filter: Record<string, unknown> = {}): Promise<boolean> {
      const matched = await locks.withLock(key(id), async () => (await users.updateOne({ _id: id, ...filter }, update)).matchedCount > 0);
      if (matched && changes) await changes.changed([String(id)]);
      return matched;
    },

    /** The counts are shown by cached profiles, so a change is announced like any other write. */
    async adjustCount(id: Types.ObjectId, field: CountField, delta: number): Promise<void> {
      const moved = await locks.withLock(key(id), async () => {
        const user = await users.findById(id, { followersCount: 1, followingCount: 1 }).lean();
        if (!user) return false;
        await users.updateOne({ _id: id }, { $set: { [field]: Math.max(0, (user[field] ?? 0) + delta) } });
        return true;
      });
      if (moved && changes) await changes.changed([String(id)]);
    },

    /**
     * Every user's counts checked against the edges, in `_id` order after `afterId`: one pass over
     * the users (a cursor in batches of `batchSize`), two counts per user, and the locked repair
     * only where they differ (a follow racing the check just repairs that user once more). A run
     * that stopped can be resumed from the `lastId` it reported.
     */
    async repairAllCounts(options: { batchSize?: number; afterId?: Types.ObjectId | null } = {}): Promise<{ checked: number; repaired: number; lastId: string | null }> {
      const batchSize = options.batchSize ?? 500;
      const filter = options.afterId ? { _id: { $gt: options.afterId } } : {};
      const cursor = users.find(filter, { _id: 1, followersCount: 1, followingCount: 1 }).sort({ _id: 1 }).batchSize(batchSize).lean().cursor();
      let checked = 0;
      let repaired = 0;
      let lastId: string | null = null;
      let batch: Pick<UserDoc, '_id' | 'followersCount' | 'followingCount'>[] = [];
      const check = async (rows: typeof batch) => {
        await Promise.all(
          rows.map(async (user) => {
            const [followersCount, followingCount] = await Promise.all([
              follows.countDocuments({ followeeId: user._id }),
              follows.countDocuments({ followerId: user._id }),
            ]);
            if (followersCount !== (user.followersCount ?? 0) || followingCount !== (user.followingCount ?? 0)) {
              await this.repairCounts(user._id);
              repaired += 1;
            }
          }),
        );
        checked += rows.length;
        lastId = String(rows[rows.length - 1]?._id ?? lastId);
      };
      for await (const user of cursor) {
        batch.push(user);
        // Checked a few at a time: each check is two store round trips.
        if (batch.length >= 16) {
          await check(batch);
          batch = [];
        }
      }
      if (batch.length) await check(batch);
      return { checked, repaired, lastId };
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
      }).then(async (counts) => {
        if (counts && changes) await changes.changed([String(id)]);
        return counts;
      });
    },
  };
}

export type UserWrites = ReturnType<typeof createUserWrites>;

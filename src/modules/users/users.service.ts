import { Types, type Model } from 'mongoose';
import { errors } from '../../platform/errors';
import { isDuplicateKey, parseObjectId } from '../../platform/mongo';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isObjectIdHex } from '../../platform/pagination';
import type { FollowDoc, Preferences, UserDoc, BusinessProfile } from './user.model';
import { toMe, toPublicProfile, type MeView, type PublicProfileView } from './users.mapper';
import type { UserWrites } from './user-writes';
import type { ProfileChanges, ProfileSummary, ProfileSummaryCache } from './profile-summaries';

export interface ProfilePatch {
  name?: string;
  phone?: string | null;
  business?: Partial<Omit<BusinessProfile, 'logoUploadId'>>;
}

export interface PreferencesPatch {
  language?: string;
  timezone?: string;
  notifications?: Preferences['notifications'];
  quietHours?: Partial<Preferences['quietHours']>;
}

/** Turns a nested patch into $set paths so that fields the client did not send stay as they are. */
function toSetPaths(prefix: string, patch: Record<string, unknown>, out: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const path = `${prefix}.${key}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && key !== 'notifications') {
      toSetPaths(path, value as Record<string, unknown>, out);
    } else {
      out[path] = value;
    }
  }
}


export function createProfileService({ users, writes, reads }: { users: Model<UserDoc>; writes: Pick<UserWrites, 'update'>; reads: Pick<ProfileChanges, 'read'> }) {
  return {
    /**
     * No store read in the steady state: the document comes from the users module's cache
     * (profile-summaries.ts), the counts are stored on it, maintained by follow and unfollow.
     */
    async getMe(userId: string): Promise<MeView> {
      const user = await reads.read(users, userId);
      if (!user) throw errors.notFound('User');
      return toMe(user);
    },

    async updateMe(userId: string, patch: ProfilePatch): Promise<MeView> {
      const $set: Record<string, unknown> = {};
      const $unset: Record<string, 1> = {};
      if (patch.name !== undefined) $set.name = patch.name;
      if (patch.phone === null) $unset.phone = 1;
      else if (patch.phone !== undefined) $set.phone = patch.phone;
      if (patch.business) {
        const { categories, address, ...rest } = patch.business;
        toSetPaths('business', rest, $set);
        if (categories !== undefined) $set['business.categories'] = categories;
        if (address) toSetPaths('business.address', address as Record<string, unknown>, $set);
      }
      const update: Record<string, unknown> = {};
      if (Object.keys($set).length) update.$set = $set;
      if (Object.keys($unset).length) update.$unset = $unset;
      // updateOne then read: FerretDB 1.24 cannot project findAndModify, and the schema hides secrets.
      if (Object.keys(update).length) await writes.update(new Types.ObjectId(userId), update, { status: 'active' });
      const user = await users.findById(userId).lean();
      if (!user) throw errors.notFound('User');
      return toMe(user);
    },

    async updatePreferences(userId: string, patch: PreferencesPatch): Promise<MeView> {
      const $set: Record<string, unknown> = {};
      if (patch.language !== undefined) $set['preferences.language'] = patch.language;
      if (patch.timezone !== undefined) $set['preferences.timezone'] = patch.timezone;
      if (patch.quietHours) toSetPaths('preferences.quietHours', patch.quietHours, $set);
      // Each category is replaced as a whole; categories not sent keep their channels.
      for (const [category, channels] of Object.entries(patch.notifications ?? {})) {
        $set[`preferences.notifications.${category}`] = channels;
      }
      if (Object.keys($set).length) await writes.update(new Types.ObjectId(userId), { $set }, { status: 'active' });
      const user = await users.findById(userId).lean();
      if (!user) throw errors.notFound('User');
      return toMe(user);
    },
  };
}

export type ProfileService = ReturnType<typeof createProfileService>;

export interface FollowPage {
  data: PublicProfileView[];
  page: { nextCursor: string | null; limit: number };
}

type FollowCursor = { id: string };
const isFollowCursor = (v: Record<string, unknown>): v is FollowCursor => isObjectIdHex(v.id);

export function createFollowService({ follows, writes, people }: { follows: Model<FollowDoc>; writes: UserWrites; people: Pick<ProfileSummaryCache, 'document' | 'documents'> }) {
  async function findActive(id: string) {
    const user = await people.document(id);
    return user?.status === 'active' ? user : null;
  }

  /** After the edge insert or delete decided that something changed: one step each, under each user's lock. */
  async function moveCounts(followeeId: Types.ObjectId, followerId: Types.ObjectId, delta: 1 | -1): Promise<void> {
    await Promise.all([writes.adjustCount(followeeId, 'followersCount', delta), writes.adjustCount(followerId, 'followingCount', delta)]);
  }

  async function page(filter: 'followers' | 'following', userId: string, limit = DEFAULT_PAGE_LIMIT, cursor?: string): Promise<FollowPage> {
    const user = await findActive(userId);
    if (!user) throw errors.notFound('User');
    // An empty ?cursor= has always meant the first page.
    const after = decodeCursor(cursor || undefined, isFollowCursor);
    const key = filter === 'followers' ? 'followeeId' : 'followerId';
    const other = filter === 'followers' ? 'followerId' : 'followeeId';
    const query: Record<string, unknown> = { [key]: user._id };
    if (after) query._id = { $lt: new Types.ObjectId(after.id) };
    const rows = await follows.find(query).sort({ _id: -1 }).limit(limit + 1).lean();
    const pageRows = rows.slice(0, limit);
    const ids = pageRows.map((row) => row[other]);
    // From the cache, one read by `_id` per miss: `{ _id: { $in } }` is not pushed down by FerretDB 1.24.
    const byId = await people.documents(ids.map(String));
    const data = ids.flatMap((id) => {
      const person = byId.get(String(id));
      return person?.status === 'active' ? [toPublicProfile(person)] : [];
    });
    const last = pageRows[pageRows.length - 1];
    return { data, page: { nextCursor: rows.length > limit && last ? encodeCursor({ id: String(last._id) }) : null, limit } };
  }

  return {
    async publicProfile(id: string): Promise<PublicProfileView> {
      const user = await findActive(id);
      if (!user) throw errors.notFound('User');
      return toPublicProfile(user);
    },

    /** Idempotent: the unique (follower, followee) index decides; counters move only on a real change. */
    async follow(followerId: string, followeeId: string): Promise<{ following: true }> {
      const target = await findActive(followeeId);
      if (!target) throw errors.notFound('User');
      if (String(target._id) === followerId) {
        throw errors.validation([{ field: 'id', message: 'You cannot follow yourself' }]);
      }
      try {
        await follows.create({ followerId: new Types.ObjectId(followerId), followeeId: target._id });
      } catch (err) {
        if (isDuplicateKey(err)) return { following: true };
        throw err;
      }
      await moveCounts(target._id, new Types.ObjectId(followerId), 1);
      return { following: true };
    },

    async unfollow(followerId: string, followeeId: string): Promise<{ following: false }> {
      const target = parseObjectId(followeeId);
      if (!target) throw errors.notFound('User');
      const removed = await follows.deleteOne({ followerId: new Types.ObjectId(followerId), followeeId: target });
      if (removed.deletedCount === 1) await moveCounts(target, new Types.ObjectId(followerId), -1);
      return { following: false };
    },

    /** Recomputes a user's follower and following counts from the edges; null when no such user. */
    repairCounts: (userId: string) => {
      const id = parseObjectId(userId);
      return id ? writes.repairCounts(id) : Promise.resolve(null);
    },

    followers: (userId: string, limit?: number, cursor?: string) => page('followers', userId, limit, cursor),
    following: (userId: string, limit?: number, cursor?: string) => page('following', userId, limit, cursor),
  };
}

export type FollowService = ReturnType<typeof createFollowService>;

/** What other modules may ask about people without seeing their records. */
export interface UserDirectory {
  /** True when every id names an account that is not deleted (suspended accounts still exist). */
  allExist(userIds: string[]): Promise<boolean>;
  /** Where and how to reach a user (notifications): contact details and notification preferences; null when no such account. */
  notificationProfile(userId: string): Promise<NotificationProfile | null>;
  /** Ids of active accounts in a segment, in id order after `afterId`, at most `limit` (campaign batches). */
  listIds(segment: UserSegment, afterId: string | null, limit: number): Promise<string[]>;
  /**
   * Display summaries (name, company, avatar) of many people at once, for lists: from a bounded
   * in-process cache invalidated on every process when a profile changes, so the steady state
   * reads nothing. Ids of no (or a deleted) account are absent from the answer.
   */
  summaries(userIds: string[]): Promise<Map<string, ProfileSummary>>;
}

export interface NotificationProfile {
  userId: string;
  email: string;
  emailVerified: boolean;
  phone: string | null;
  name: string;
  role: string;
  status: string;
  language: string;
  timezone: string;
  notifications: Preferences['notifications'];
  quietHours: Preferences['quietHours'];
}

export interface UserSegment {
  roles?: string[];
  /** ISO 3166-1 alpha-2 codes of the business address. */
  countries?: string[];
  /** Accounts changed (signed up or edited) at or after this instant. */
  activeSince?: Date | null;
}

export function createUserDirectory(users: Model<UserDoc>, profileSummaries: ProfileSummaryCache): UserDirectory {
  return {
    summaries: (userIds) => profileSummaries.summaries(userIds),

    async allExist(userIds) {
      const unique = [...new Set(userIds)];
      const ids = unique.map(parseObjectId);
      if (ids.some((id) => id === null)) return false;
      const found = await users.countDocuments({ _id: { $in: ids }, status: { $ne: 'deleted' } });
      return found === unique.length;
    },

    async notificationProfile(userId) {
      const user = await profileSummaries.document(userId);
      if (!user) return null;
      const me = toMe(user);
      return {
        userId: me.id,
        email: me.email,
        emailVerified: me.emailVerified,
        phone: me.phone,
        name: me.name,
        role: me.role,
        status: me.status,
        language: me.preferences.language,
        timezone: me.preferences.timezone,
        notifications: me.preferences.notifications,
        quietHours: me.preferences.quietHours,
      };
    },

    async listIds(segment, afterId, limit) {
      const query: Record<string, unknown> = { status: 'active' };
      const after = afterId ? parseObjectId(afterId) : null;
      if (after) query._id = { $gt: after };
      if (segment.roles?.length) query.role = { $in: segment.roles };
      if (segment.countries?.length) query['business.address.country'] = { $in: segment.countries };
      if (segment.activeSince) query.updatedAt = { $gte: segment.activeSince };
      const rows = await users.find(query, { _id: 1 }).sort({ _id: 1 }).limit(limit).lean();
      return rows.map((row) => String(row._id));
    },
  };
}

import type { RequestHandler } from 'express';
import type { Connection } from 'mongoose';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import { parseObjectId } from '../../platform/mongo';
import { getFollowModel, getUserModel } from './user.model';
import { createUserAccounts, type UserAccounts } from './accounts.service';
import { createFollowService, createProfileService, createUserDirectory, type ProfileService, type UserDirectory } from './users.service';
import { createUsersRouter } from './users.routes';
import { createUserWrites, userLocks } from './user-writes';
import { createUserAdminDirectory, type UserAdminDirectory } from './users.admin';
import { createProfileSummaryCache, profileChanges, type ProfileSummaryCache } from './profile-summaries';
import { createLocalProfileChannel, createRedisProfileChannel, profileChannelName } from './profile-channel';
import type { UsersConfig } from './users.config';

// The users module's contract. Other modules import only from here (a lint rule enforces it).
//
// The account record (its type, roles and how emails compare). Users owns the `users` collection;
// auth reaches the credential fields it keeps there (password hash, lockout) through UserAccounts.
export { normaliseEmail, ROLES, type UserDoc, type UserStatus } from './user.model';
export type { UserAccounts, SignInRecord, NewAccount } from './accounts.service';
// Views of a user, shaped by one mapper each.
export { toMe, toPublicProfile, type MeView, type PublicProfileView } from './users.mapper';
// The caller's own profile, served under /api/auth/me by auth; these schemas validate its inputs.
export type { ProfileService, ProfilePatch, PreferencesPatch, UserDirectory, NotificationProfile, UserSegment } from './users.service';
export { updateMeSchema, updatePreferencesSchema } from './users.schemas';
export type { UserAdminDirectory, UserSearchQuery } from './users.admin';
export type { ProfileSummary } from './profile-summaries';
export { readUsersConfig, type UsersConfig } from './users.config';

export { profileChannelName } from './profile-channel';

/**
 * For a process without the users module (the create-admin command): where its writes to user
 * documents are announced, so running servers' caches hear of them (through Redis, by the caller).
 */
export function listenToUserWrites(mongo: Connection, publish: (userIds: string[]) => Promise<void>): void {
  profileChanges(mongo).listen(publish);
}

/**
 * Users' services for the module that serves the account (auth, also on the bare connection of
 * the create-admin command). Stateless over the connection, so building them twice is harmless;
 * it also registers the users and follows models, whose indexes are created at start.
 */
export function createAccountServices(mongo: Connection): { accounts: UserAccounts; profiles: ProfileService } {
  const users = getUserModel(mongo);
  const hub = profileChanges(mongo);
  const writes = createUserWrites(users, getFollowModel(mongo), userLocks(mongo), hub);
  return { accounts: createUserAccounts(users, writes), profiles: createProfileService({ users, writes, reads: hub }) };
}

export interface UsersModule extends AppModule {
  /** For chat and others: questions about people, answered without handing out user records. */
  directory: UserDirectory;
  /** Recomputes a user's follower and following counts from the follow edges (repair after a crash or by hand). */
  repairCounts(userId: string): Promise<{ followersCount: number; followingCount: number } | null>;
  /**
   * Checks every user's counts against the edges in `_id` order (after `afterId` when resuming),
   * repairing those that differ under the user's lock; for an admin route or job. `lastId` is
   * where a stopped run resumes.
   */
  repairAllCounts(options?: { batchSize?: number; afterId?: string | null }): Promise<{ checked: number; repaired: number; lastId: string | null }>;
  /** For the admin module (which checks the caller's role): search, view, counts by role and status. */
  admin: UserAdminDirectory;
  /** The cache of user documents behind profiles, summaries and /me (hit and miss counts, for tests and diagnostics). */
  profileSummaries: ProfileSummaryCache;
}

/** Public profiles and follows under /api/users; the caller's own profile is served by /api/auth/me. */
export function createUsersModule(deps: { ctx: AppContext; config: UsersConfig; auth: { requireAuth: RequestHandler } }): UsersModule {
  const { ctx, config } = deps;
  const users = getUserModel(ctx.mongo);
  const followModel = getFollowModel(ctx.mongo);
  const changes = profileChanges(ctx.mongo);
  const writes = createUserWrites(users, followModel, userLocks(ctx.mongo), changes);
  const channel = ctx.redis
    ? createRedisProfileChannel({ redis: ctx.redis, channel: profileChannelName(ctx.config.redis.keyPrefix), logger: ctx.logger })
    : createLocalProfileChannel();
  const profileSummaries = createProfileSummaryCache({
    users,
    channel,
    maxEntries: config.profileCacheMaxEntries,
    ttlMs: config.profileCacheTtlSeconds * 1000,
  });
  // Every user write on this connection (auth's account services included) publishes here, and
  // their reads of a user document (auth's /me) go through the cache.
  changes.listen((userIds) => channel.publish(userIds));
  changes.serveReadsFrom(profileSummaries);
  const follows = createFollowService({ follows: followModel, writes, people: profileSummaries });
  return {
    name: 'users',
    http: createUsersRouter(follows, deps.auth.requireAuth),
    directory: createUserDirectory(users, profileSummaries),
    repairCounts: (userId) => follows.repairCounts(userId),
    repairAllCounts: (options = {}) => {
      const afterId = options.afterId ? parseObjectId(options.afterId) : null;
      if (options.afterId && !afterId) return Promise.resolve({ checked: 0, repaired: 0, lastId: null });
      return writes.repairAllCounts({ batchSize: options.batchSize, afterId });
    },
    admin: createUserAdminDirectory(users),
    profileSummaries,
    start: () => channel.start(),
    stop: () => channel.close(),
  };
}

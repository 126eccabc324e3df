import type { RequestHandler } from 'express';
import type { Connection } from 'mongoose';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import { getFollowModel, getUserModel } from './user.model';
import { createUserAccounts, type UserAccounts } from './accounts.service';
import { createFollowService, createProfileService, createUserDirectory, type ProfileService, type UserDirectory } from './users.service';
import { createUsersRouter } from './users.routes';
import { createUserWrites, userLocks } from './user-writes';
import { createUserAdminDirectory, type UserAdminDirectory } from './users.admin';

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

/**
 * Users' services for the module that serves the account (auth, also on the bare connection of
 * the create-admin command). Stateless over the connection, so building them twice is harmless;
 * it also registers the users and follows models, whose indexes are created at start.
 */
export function createAccountServices(mongo: Connection): { accounts: UserAccounts; profiles: ProfileService } {
  const users = getUserModel(mongo);
  const writes = createUserWrites(users, getFollowModel(mongo), userLocks(mongo));
  return { accounts: createUserAccounts(users, writes), profiles: createProfileService({ users, writes }) };
}

export interface UsersModule extends AppModule {
  /** For chat and others: questions about people, answered without handing out user records. */
  directory: UserDirectory;
  /** Recomputes a user's follower and following counts from the follow edges (repair after a crash or by hand). */
  repairCounts(userId: string): Promise<{ followersCount: number; followingCount: number } | null>;
  /** For the admin module (which checks the caller's role): search, view, counts by role and status. */
  admin: UserAdminDirectory;
}

/** Public profiles and follows under /api/users; the caller's own profile is served by /api/auth/me. */
export function createUsersModule(deps: { ctx: AppContext; auth: { requireAuth: RequestHandler } }): UsersModule {
  const users = getUserModel(deps.ctx.mongo);
  const followModel = getFollowModel(deps.ctx.mongo);
  const writes = createUserWrites(users, followModel, userLocks(deps.ctx.mongo));
  const follows = createFollowService({ users, follows: followModel, writes });
  return {
    name: 'users',
    http: createUsersRouter(follows, deps.auth.requireAuth),
    directory: createUserDirectory(users),
    repairCounts: (userId) => follows.repairCounts(userId),
    admin: createUserAdminDirectory(users),
  };
}

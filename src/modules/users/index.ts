import type { RequestHandler } from 'express';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import { getFollowModel, getUserModel } from './user.model';
import { createFollowService, createUserDirectory, type UserDirectory } from './users.service';
import { createUsersRouter } from './users.routes';

// The users module's contract. Other modules import only from here (a lint rule enforces it).
//
// The account record: users owns the `users` collection; auth keeps the credential fields of the
// same document (password hash, lockout), so it receives the model and the record's type.
export { getUserModel, getFollowModel, normaliseEmail, ROLES, type UserDoc, type UserStatus } from './user.model';
// Views of a user, shaped by one mapper each.
export { toMe, toPublicProfile, type MeView, type PublicProfileView } from './users.mapper';
// The caller's own profile, served under /api/auth/me by auth; these schemas validate its inputs.
export { createProfileService, type ProfileService, type ProfilePatch, type PreferencesPatch, type UserDirectory } from './users.service';
export { updateMeSchema, updatePreferencesSchema } from './users.schemas';

export interface UsersModule extends AppModule {
  /** For chat and others: questions about people, answered without handing out user records. */
  directory: UserDirectory;
}

/** Public profiles and follows under /api/users; the caller's own profile is served by /api/auth/me. */
export function createUsersModule(deps: { ctx: AppContext; auth: { requireAuth: RequestHandler } }): UsersModule {
  const users = getUserModel(deps.ctx.mongo);
  const follows = createFollowService({ users, follows: getFollowModel(deps.ctx.mongo) });
  return { name: 'users', http: createUsersRouter(follows, deps.auth.requireAuth), directory: createUserDirectory(users) };
}

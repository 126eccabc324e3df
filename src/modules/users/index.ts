import type { RequestHandler } from 'express';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import { followModel, userModel } from './user.model';
import { createFollowService } from './users.service';
import { createUsersRouter } from './users.routes';

export { userModel, followModel, normaliseEmail, ROLES, type UserDoc, type UserStatus } from './user.model';
export { toMe, toPublicProfile, type MeView, type PublicProfileView } from './users.mapper';
export { createProfileService, type ProfileService, type ProfilePatch, type PreferencesPatch } from './users.service';

/** Public profiles and follows under /api/users; the caller's own profile is served by /api/auth/me. */
export function createUsersModule(deps: { ctx: AppContext; auth: { requireAuth: RequestHandler } }): AppModule {
  const users = userModel(deps.ctx.mongo);
  const follows = createFollowService({ users, follows: followModel(deps.ctx.mongo) });
  return { name: 'users', http: createUsersRouter(follows, deps.auth.requireAuth) };
}

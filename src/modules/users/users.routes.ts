import type { RequestHandler } from 'express';
import { createModuleRouter } from '../../platform/http/router';
import { withInput } from '../../platform/http/validate';
import { getAuth } from '../../platform/auth-context';
import type { FollowService } from './users.service';
import { followPageSchema, userIdParamSchema } from './users.schemas';

export function createUsersRouter(follows: FollowService, requireAuth: RequestHandler) {
  const routes = createModuleRouter('/api/users');

  routes.get('/:id', requireAuth, withInput(userIdParamSchema, ['params'], async (input, res) => {
    res.json({ data: await follows.publicProfile(input.id) });
  }));

  routes.post('/:id/follow', requireAuth, withInput(userIdParamSchema, ['params'], async (input, res) => {
    res.json({ data: await follows.follow(getAuth(res).userId, input.id) });
  }));

  routes.delete('/:id/follow', requireAuth, withInput(userIdParamSchema, ['params'], async (input, res) => {
    res.json({ data: await follows.unfollow(getAuth(res).userId, input.id) });
  }));

  routes.get('/:id/followers', requireAuth, withInput(followPageSchema, ['params', 'query'], async (input, res) => {
    res.json(await follows.followers(input.id, input.limit, input.cursor));
  }));

  routes.get('/:id/following', requireAuth, withInput(followPageSchema, ['params', 'query'], async (input, res) => {
    res.json(await follows.following(input.id, input.limit, input.cursor));
  }));

  return routes;
}

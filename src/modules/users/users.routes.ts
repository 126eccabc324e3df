import type { RequestHandler } from 'express';
import { createModuleRouter } from '../../platform/http/router';
import { validate } from '../../platform/http/validate';
import { getAuth } from '../../platform/auth-context';
import type { FollowService } from './users.service';
import { followPageSchema, userIdParamSchema } from './users.schemas';

export function createUsersRouter(follows: FollowService, requireAuth: RequestHandler) {
  const routes = createModuleRouter('/api/users');

  routes.get('/:id', requireAuth, validate(userIdParamSchema, ['params']), async (_req, res) => {
    res.json({ data: await follows.publicProfile((res.locals.input as { id: string }).id) });
  });

  routes.post('/:id/follow', requireAuth, validate(userIdParamSchema, ['params']), async (_req, res) => {
    res.json({ data: await follows.follow(getAuth(res).userId, (res.locals.input as { id: string }).id) });
  });

  routes.delete('/:id/follow', requireAuth, validate(userIdParamSchema, ['params']), async (_req, res) => {
    res.json({ data: await follows.unfollow(getAuth(res).userId, (res.locals.input as { id: string }).id) });
  });

  routes.get('/:id/followers', requireAuth, validate(followPageSchema, ['params', 'query']), async (_req, res) => {
    const input = res.locals.input as { id: string; limit?: number; cursor?: string };
    res.json(await follows.followers(input.id, input.limit, input.cursor));
  });

  routes.get('/:id/following', requireAuth, validate(followPageSchema, ['params', 'query']), async (_req, res) => {
    const input = res.locals.input as { id: string; limit?: number; cursor?: string };
    res.json(await follows.following(input.id, input.limit, input.cursor));
  });

  return routes;
}

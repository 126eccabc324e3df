import type { RequestHandler, Response } from 'express';
import type { Socket } from 'socket.io';
import { getAuth, userRoom, type AuthContext, type Role } from '../../platform/auth-context';
import { errors } from '../../platform/errors';
import type { AccessTokens } from './tokens';
import type { SessionsService } from './sessions.service';

function bearer(header: string | undefined): string {
  const match = /^Bearer ([A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]*\.[A-Za-z0-9\-_=]*)$/.exec(header?.trim() ?? '');
  if (!match) throw errors.unauthenticated();
  return match[1] as string;
}

export function createAuthGuards(accessTokens: AccessTokens, sessions: SessionsService) {
  /** The same check for REST and the socket handshake. */
  async function authenticateToken(token: string): Promise<AuthContext> {
    const claims = accessTokens.verify(token);
    return sessions.authenticate(claims);
  }

  const requireAuth: RequestHandler = async (req, res, next) => {
    res.locals.auth = await authenticateToken(bearer(req.headers.authorization));
    next();
  };

  /** requireAuth plus a role check; a role outside the list is 403 (the route itself is public knowledge). */
  const requireRole =
    (...roles: Role[]): RequestHandler =>
    async (req, res, next) => {
      const auth = await authenticateToken(bearer(req.headers.authorization));
      res.locals.auth = auth;
      if (!roles.includes(auth.role)) throw errors.forbidden();
      next();
    };

  async function authenticateSocket(socket: Socket): Promise<void> {
    const token: unknown = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0) throw errors.unauthenticated();
    const auth = await authenticateToken(token.replace(/^Bearer /, ''));
    socket.data.auth = auth;
    await socket.join(userRoom(auth.userId));
  }

  return { requireAuth, requireRole, authenticateSocket, authenticateToken };
}

export const ADMIN_ROLES: readonly Role[] = ['admin', 'super_admin'];

/** "Only the owner or an admin": true when the caller is the owner or holds an admin role. */
export function isOwnerOrAdmin(auth: AuthContext, ownerId: string): boolean {
  return auth.userId === ownerId || ADMIN_ROLES.includes(auth.role);
}

/** Throws NOT_FOUND (not 403: existence is not leaked) unless the caller owns the resource or is an admin. */
export function assertOwnerOrAdmin(res: Response, ownerId: string, what = 'Resource'): AuthContext {
  const auth = getAuth(res);
  if (!isOwnerOrAdmin(auth, ownerId)) throw errors.notFound(what);
  return auth;
}

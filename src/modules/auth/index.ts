import type { RequestHandler } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import type { Server as IoServer } from 'socket.io';
import { userRoom, type AuthContext, type Role } from '../../platform/auth-context';
import { createRateLimit } from '../../platform/http/rate-limit';
import { createMailer, type Mailer } from '../../platform/mail';
import { createAccountServices } from '../users';
import { getAuthModels } from './auth.model';
import { createPasswords } from './passwords';
import { createAccessTokens } from './tokens';
import { createSessionsService } from './sessions.service';
import { createEmailTokensService } from './email-tokens.service';
import { createAuthService } from './auth.service';
import { createAccountService } from './account.service';
import { createAuthGuards } from './auth.middleware';
import { createAuthRouter } from './auth.routes';
import { createAuthSweeper } from './sweeper';
import { accessChannelName, createLocalAccessChannel, createRedisAccessChannel } from './access-channel';
import { createAccessCache, type AccessCache } from './access-cache';
import { createAccessService, type AccessService } from './access.service';
import type { AuthConfig } from './auth.config';

// The auth module's contract: guards and ownership checks for other modules, the module itself,
// and the create-admin command's tool. Other modules import only from here.
export { isOwnerOrAdmin, assertOwnerOrAdmin, ADMIN_ROLES } from './auth.middleware';
export { createSuperAdminTool } from './admin-bootstrap';
export { AUTH_ERROR_CODES, type AuthErrorCode } from './auth.errors';
export { readAuthConfig, type AuthConfig } from './auth.config';

/** What other modules receive as ModuleDeps.auth. */
export interface AuthGuards {
  requireAuth: RequestHandler;
  requireRole: (...roles: Role[]) => RequestHandler;
}

export interface AuthModule extends AppModule, AuthGuards {
  service: ReturnType<typeof createAuthService>;
  sessions: ReturnType<typeof createSessionsService>;
  /** Suspend, reinstate, delete, change a role: effective at once on every process (for an admin module). */
  access: AccessService;
  /** The in-process access cache (tests and the benchmark read its stats). */
  accessCache: AccessCache;
  /** One sweep of expired secrets (the module also runs it every 10 minutes). */
  sweep(): Promise<void>;
  /** An admin's forced reset: every session of the user ends (sockets close) and a reset link is mailed. NOT_FOUND for no such user. */
  forcePasswordReset(userId: string): Promise<void>;
}

/** Builds every auth service on one context; also used by the create-admin command. */
export function createAuthServices(
  ctx: AppContext,
  authConfig: AuthConfig,
  mailer: Mailer,
  onRevoked?: (userId: string, sessionIds: string[]) => void,
  cache?: AccessCache,
) {
  const { clock, logger } = ctx;
  const config = { auth: authConfig, mail: ctx.config.mail };
  const { accounts: users, profiles } = createAccountServices(ctx.mongo);
  const models = getAuthModels(ctx.mongo);
  const passwords = createPasswords(config.auth.bcryptCost);
  const accessTokens = createAccessTokens(authConfig.jwt);
  const sessions = createSessionsService({ models, users, accessTokens, refreshTtlDays: config.auth.refreshTtlDays, refreshReuseGraceSeconds: config.auth.refreshReuseGraceSeconds, clock, logger, onRevoked, cache, invalidate: cache?.invalidate });
  const emailTokens = createEmailTokensService({ models, users, mailer, config, clock, logger });
  const auth = createAuthService({ users, loginFailures: models.loginFailures, passwords, sessions, emailTokens, config: config.auth, clock, events: ctx.events });
  const account = createAccountService({ users, passwords, sessions, emailTokens, clock, events: ctx.events });
  return { models, users, accessTokens, sessions, emailTokens, auth, account, profiles };
}

/**
 * Closes the live sockets of revoked sessions (on every process, through the adapter), so a
 * signed-out phone stops receiving events too. Best effort: new connections are checked anyway.
 */
function socketCloser(io: IoServer, logger: AppContext['logger']) {
  return (userId: string, sessionIds: string[]) => {
    const revoked = new Set(sessionIds);
    io.in(userRoom(userId))
      .fetchSockets()
      .then((sockets) => {
        for (const socket of sockets) {
          if (revoked.has((socket.data as { auth?: AuthContext }).auth?.sessionId ?? '')) socket.disconnect(true);
        }
      })
      .catch((err: unknown) => logger.warn('Could not close revoked sockets', { error: err instanceof Error ? err.message : String(err) }));
  };
}

export function createAuthModule(deps: { ctx: AppContext; io: IoServer; config: AuthConfig }): AuthModule {
  const { ctx, config } = deps;
  const mailer = createMailer(ctx.config, ctx.logger);
  const channel = ctx.redis
    ? createRedisAccessChannel({ redis: ctx.redis, channel: accessChannelName(ctx.config.redis.keyPrefix), logger: ctx.logger })
    : createLocalAccessChannel();
  const accessCache = createAccessCache({ channel, maxEntries: config.cacheMaxEntries, ttlMs: config.cacheTtlSeconds * 1000 });
  const services = createAuthServices(ctx, config, mailer, socketCloser(deps.io, ctx.logger), accessCache);
  const access = createAccessService({
    users: services.users,
    sessions: services.sessions,
    cache: accessCache,
    // Through the adapter: the user's sockets on every process. New handshakes read the new state.
    disconnectUser: (userId) => deps.io.in(userRoom(userId)).disconnectSockets(true),
  });
  const guards = createAuthGuards(services.accessTokens, services.sessions);
  // Keyed on IP plus the email in the body, so one address cannot be hammered from one IP and
  // a shared IP (carrier NAT) does not lock out everyone behind it.
  const authLimit = createRateLimit({
    name: 'auth',
    windowMs: ctx.config.rateLimit.authWindowMs,
    limit: ctx.config.rateLimit.authMax,
    redis: ctx.redis,
    keyPrefix: ctx.config.redis.keyPrefix,
    key: (req) => {
      const body = req.body as { email?: unknown } | undefined;
      const email = typeof body?.email === 'string' ? body.email.trim().toLowerCase().slice(0, 254) : '';
      return `${ipKeyGenerator(req.ip ?? '')}|${email}`;
    },
  });
  const sweeper = createAuthSweeper(services.models, ctx.clock, ctx.logger, config.failedLoginWindowMinutes);
  return {
    name: 'auth',
    http: createAuthRouter({ ...services, requireAuth: guards.requireAuth, authLimit }),
    authenticateSocket: guards.authenticateSocket,
    requireAuth: guards.requireAuth,
    requireRole: guards.requireRole,
    service: services.auth,
    sessions: services.sessions,
    access,
    accessCache,
    sweep: () => sweeper.sweep(),
    forcePasswordReset: async (userId) => {
      const user = await services.profiles.getMe(userId);
      await services.sessions.revokeAll(userId, 'password_reset_forced');
      await services.emailTokens.sendReset(user.email);
    },
    start: async () => {
      await channel.start();
      sweeper.start();
    },
    stop: async () => {
      sweeper.stop();
      await channel.close();
      mailer.close();
    },
  };
}

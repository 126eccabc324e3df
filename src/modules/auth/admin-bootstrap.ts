import type { Connection } from 'mongoose';
import type { PlatformConfig } from '../../platform/config';
import type { AuthConfig } from './auth.config';

type Config = PlatformConfig & { auth: AuthConfig };
import type { Logger } from '../../platform/logger';
import { createMailer } from '../../platform/mail';
import { createAccountServices, listenToUserWrites, normaliseEmail, profileChannelName } from '../users';
import { getAuthModels } from './auth.model';
import { createPasswords, passwordProblem } from './passwords';
import { createAccessTokens } from './tokens';
import { createSessionsService } from './sessions.service';
import { createEmailTokensService } from './email-tokens.service';
import { createAuthService } from './auth.service';
import { createRedis } from '../../platform/redis';
import { accessChannelName, type AccessInvalidation } from './access-channel';

/**
 * Running servers cache access state and user documents: a promotion here must reach them like
 * any revocation or profile change. Without REDIS_URL there is one server process, whose entries
 * run out with AUTH_CACHE_TTL_SECONDS and USERS_PROFILE_CACHE_TTL_SECONDS.
 */
function publisher(config: Config, logger: Logger) {
  return async (channel: string, message: unknown): Promise<void> => {
    if (!config.redis.url) return;
    const redis = createRedis(config.redis.url, logger, 'create-admin');
    try {
      await redis.connect();
      await redis.publish(channel, JSON.stringify(message));
    } catch (err) {
      logger.warn('Could not tell running servers; the change reaches them within their cache TTLs', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      redis.disconnect();
    }
  };
}

/**
 * The only way to the first super_admin: `npm run create-admin`. It reuses the auth services on a
 * bare MongoDB connection (no HTTP; Redis only to tell running servers), so the account looks exactly like any other.
 */
export function createSuperAdminTool(mongo: Connection, config: Config, clock: () => Date, logger: Logger) {
  const publish = publisher(config, logger);
  const { accounts: users } = createAccountServices(mongo);
  listenToUserWrites(mongo, (userIds) => publish(profileChannelName(config.redis.keyPrefix), userIds));
  const models = getAuthModels(mongo);
  const passwords = createPasswords(config.auth.bcryptCost);
  const sessions = createSessionsService({
    models,
    users,
    accessTokens: createAccessTokens(config.auth.jwt),
    refreshTtlDays: config.auth.refreshTtlDays,
    refreshReuseGraceSeconds: config.auth.refreshReuseGraceSeconds,
    clock,
    logger,
    invalidate: (invalidation: AccessInvalidation) => publish(accessChannelName(config.redis.keyPrefix), invalidation),
  });
  const emailTokens = createEmailTokensService({ models, users, mailer: createMailer(config, logger), config, clock, logger });
  const auth = createAuthService({ users, loginFailures: models.loginFailures, passwords, sessions, emailTokens, config: config.auth, clock });
  return {
    async create(input: { email: string; name: string; role: 'admin' | 'super_admin'; password: string }) {
      const email = normaliseEmail(input.email);
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new Error('The email address is not valid');
      const problem = passwordProblem(input.password);
      if (problem) throw new Error(`The password ${problem}`);
      const result = await auth.createPrivileged({ ...input, email });
      return { ...result, email };
    },
  };
}

import type { EnvReader, PlatformConfig } from '../../platform/config';

/** Access tokens: HS256 JWTs signed with JWT_SECRET. */
export interface JwtConfig {
  secret: string;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
}

/** Auth's settings: tokens, passwords, sessions, login lockout and the access cache. */
export interface AuthConfig {
  jwt: JwtConfig;
  bcryptCost: number;
  refreshTtlDays: number;
  refreshReuseGraceSeconds: number;
  emailTokenTtlHours: number;
  resetTokenTtlMinutes: number;
  maxFailedLogins: number;
  failedLoginWindowMinutes: number;
  lockMinutes: number;
  /** In-process access cache (sessions, users): entries per kind, and the safety-net TTL. */
  cacheMaxEntries: number;
  cacheTtlSeconds: number;
}

export function readAuthConfig(read: EnvReader, platform: PlatformConfig): AuthConfig {
  const secret = read.string('JWT_SECRET');
  if (secret && secret.length < 32) read.problems.push('JWT_SECRET must be at least 32 characters');
  const config: AuthConfig = {
    jwt: {
      secret,
      issuer: read.string('JWT_ISSUER', 'trade-backend'),
      audience: read.string('JWT_AUDIENCE', 'trade-app'),
      accessTtlSeconds: read.int('JWT_ACCESS_TTL_SECONDS', 900, 10, 86_400),
    },
    bcryptCost: read.int('BCRYPT_COST', 12, 4, 15),
    refreshTtlDays: read.int('REFRESH_TOKEN_TTL_DAYS', 60, 1, 365),
    refreshReuseGraceSeconds: read.int('REFRESH_REUSE_GRACE_SECONDS', 10, 0, 120),
    emailTokenTtlHours: read.int('EMAIL_TOKEN_TTL_HOURS', 24, 1, 720),
    resetTokenTtlMinutes: read.int('RESET_TOKEN_TTL_MINUTES', 60, 5, 1_440),
    maxFailedLogins: read.int('LOGIN_MAX_FAILURES', 5, 1, 100),
    failedLoginWindowMinutes: read.int('LOGIN_FAILURE_WINDOW_MINUTES', 15, 1, 1_440),
    lockMinutes: read.int('LOGIN_LOCK_MINUTES', 15, 1, 1_440),
    cacheMaxEntries: read.int('AUTH_CACHE_MAX_ENTRIES', 50_000, 0, 10_000_000),
    cacheTtlSeconds: read.int('AUTH_CACHE_TTL_SECONDS', 60, 0, 3_600),
  };
  if (platform.nodeEnv === 'production' && config.bcryptCost < 12) {
    read.problems.push('BCRYPT_COST must be at least 12 in production');
  }
  return config;
}

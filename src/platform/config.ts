/**
 * Configuration is read once, from the environment (dotenv fills it in development), and validated
 * at boot. Every problem is collected so the operator sees all of them in one message.
 */
export type NodeEnv = 'development' | 'production' | 'test';

/**
 * The platform's own settings: process, HTTP, stores, rate limits, mail. Each business module
 * declares and reads its own section in src/modules/<m>/<m>.config.ts; src/config.ts composes the
 * platform's and every module's into one Config, validated together at boot.
 */
export interface PlatformConfig {
  nodeEnv: NodeEnv;
  host: string;
  port: number;
  logLevel: string;
  trustProxy: number;
  corsOrigins: string[];
  jsonBodyLimit: string;
  shutdownTimeoutMs: number;
  /** When set, GET /metrics answers only `Authorization: Bearer <token>`. */
  metricsToken: string | null;
  mongo: { uri: string; poolSize: number; serverSelectionTimeoutMs: number };
  postgres: { url: string | null; poolSize: number };
  redis: { url: string | null; keyPrefix: string };
  rateLimit: { windowMs: number; max: number; authWindowMs: number; authMax: number };
  mail: { smtpUrl: string | null; from: string; appUrl: string };
}

/** A module's section reader: reads its variables, records problems in `read`, returns its settings. */
export type ConfigSectionReader<T> = (read: EnvReader, platform: PlatformConfig) => T;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/** A tiny reader that records problems instead of throwing on the first one. */
export class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback?: string): string {
    const value = this.env[name]?.trim();
    if (value) return value;
    if (fallback !== undefined) return fallback;
    this.problems.push(`${name} is required`);
    return '';
  }

  optionalString(name: string): string | null {
    const value = this.env[name]?.trim();
    return value ? value : null;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
    return fallback;
  }

  url(name: string, protocols: string[], required: boolean): string | null {
    const raw = this.env[name]?.trim();
    if (!raw) {
      if (required) this.problems.push(`${name} is required`);
      return null;
    }
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')}`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return raw;
  }

  list(name: string): string[] {
    return (this.env[name] ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }
}

function readPlatformConfig(read: EnvReader): PlatformConfig {
  const config: PlatformConfig = {
    nodeEnv: read.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development'),
    host: read.string('HOST', '0.0.0.0'),
    port: read.int('PORT', 3000, 0, 65535),
    logLevel: read.oneOf('LOG_LEVEL', ['error', 'warn', 'info', 'http', 'debug'] as const, 'info'),
    trustProxy: read.int('TRUST_PROXY', 0, 0, 10),
    corsOrigins: read.list('CORS_ORIGINS'),
    jsonBodyLimit: read.string('JSON_BODY_LIMIT', '100kb'),
    shutdownTimeoutMs: read.int('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 120_000),
    metricsToken: read.optionalString('METRICS_TOKEN'),
    mongo: {
      uri: read.url('MONGODB_URI', ['mongodb:', 'mongodb+srv:'], true) ?? '',
      poolSize: read.int('MONGODB_POOL_SIZE', 20, 1, 500),
      serverSelectionTimeoutMs: read.int('MONGODB_SERVER_SELECTION_TIMEOUT_MS', 5_000, 100, 60_000),
    },
    postgres: {
      url: read.url('POSTGRES_URL', ['postgres:', 'postgresql:'], false),
      poolSize: read.int('POSTGRES_POOL_SIZE', 10, 1, 200),
    },
    redis: {
      url: read.url('REDIS_URL', ['redis:', 'rediss:'], false),
      keyPrefix: read.string('REDIS_KEY_PREFIX', 'trade:'),
    },
    rateLimit: {
      windowMs: read.int('RATE_LIMIT_WINDOW_MS', 60_000, 1_000, 3_600_000),
      max: read.int('RATE_LIMIT_MAX', 300, 1, 1_000_000),
      authWindowMs: read.int('AUTH_RATE_LIMIT_WINDOW_MS', 15 * 60_000, 1_000, 3_600_000),
      authMax: read.int('AUTH_RATE_LIMIT_MAX', 50, 1, 1_000_000),
    },
    mail: {
      smtpUrl: read.url('SMTP_URL', ['smtp:', 'smtps:'], false),
      from: read.string('MAIL_FROM', 'Trade <no-reply@trade.local>'),
      appUrl: read.url('APP_URL', ['http:', 'https:'], false) ?? 'http://localhost:3000',
    },
  };
  if (config.metricsToken !== null && config.metricsToken.length < 16) {
    read.problems.push('METRICS_TOKEN must be at least 16 characters when set');
  }
  return config;
}

/**
 * Reads the platform's settings and every module's section with one reader, so the operator sees
 * every problem of every section in one message; throws ConfigError if there is any.
 */
export function composeConfig<R extends Record<string, ConfigSectionReader<unknown>>>(
  env: Env,
  sections: R,
): PlatformConfig & { [K in keyof R]: ReturnType<R[K]> } {
  const read = new EnvReader(env);
  const platform = readPlatformConfig(read);
  const composed: Record<string, unknown> = { ...platform };
  for (const [key, readSection] of Object.entries(sections)) composed[key] = readSection(read, platform);
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return composed as PlatformConfig & { [K in keyof R]: ReturnType<R[K]> };
}

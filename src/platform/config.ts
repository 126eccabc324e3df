/**
 * Configuration is read once, from the environment (dotenv fills it in development), and validated
 * at boot. Every problem is collected so the operator sees all of them in one message.
 */
export type NodeEnv = 'development' | 'production' | 'test';

export interface Config {
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
  jwt: { secret: string; issuer: string; audience: string; accessTtlSeconds: number };
  auth: {
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
  };
  mail: { smtpUrl: string | null; from: string; appUrl: string };
  uploads: UploadsConfig;
  chat: ChatConfig;
}

export interface ChatConfig {
  editWindowSeconds: number;
  sendRateMax: number;
  sendRateWindowMs: number;
  typingTimeoutMs: number;
  presenceHeartbeatMs: number;
  syncSettleMs: number;
  /** Lease of chat's store locks: a dead process holding one blocks others this long at most. */
  lockLeaseMs: number;
  groupMaxMembers: number;
}

export interface UploadsConfig {
  driver: 'local' | 's3';
  /** Local objects live in <dir>/objects; every driver stages incoming files in <dir>/tmp. */
  dir: string;
  s3: {
    bucket: string | null;
    endpoint: string | null;
    region: string;
    accessKeyId: string | null;
    secretAccessKey: string | null;
    forcePathStyle: boolean;
  };
  maxBytes: { image: number; document: number; voice: number };
  voiceMaxSeconds: number;
  imageMaxPixels: number;
  imageMaxSide: number;
  thumbnailSize: number;
  /** Uploads per user per window: image processing is the most CPU a client can ask for. */
  rateLimit: { windowMs: number; max: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** A tiny reader that records problems instead of throwing on the first one. */
class EnvReader {
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

export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const jwtSecret = read.string('JWT_SECRET');
  if (jwtSecret && jwtSecret.length < 32) read.problems.push('JWT_SECRET must be at least 32 characters');

  const config: Config = {
    nodeEnv,
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
    jwt: {
      secret: jwtSecret,
      issuer: read.string('JWT_ISSUER', 'trade-backend'),
      audience: read.string('JWT_AUDIENCE', 'trade-app'),
      accessTtlSeconds: read.int('JWT_ACCESS_TTL_SECONDS', 900, 10, 86_400),
    },
    auth: {
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
    },
    mail: {
      smtpUrl: read.url('SMTP_URL', ['smtp:', 'smtps:'], false),
      from: read.string('MAIL_FROM', 'Trade <no-reply@trade.local>'),
      appUrl: read.url('APP_URL', ['http:', 'https:'], false) ?? 'http://localhost:3000',
    },
    uploads: readUploadsConfig(read),
    chat: readChatConfig(read),
  };
  if (config.uploads.driver === 's3' && !config.uploads.s3.bucket) {
    read.problems.push('UPLOAD_S3_BUCKET is required when UPLOAD_STORAGE_DRIVER=s3');
  }
  if (config.metricsToken !== null && config.metricsToken.length < 16) {
    read.problems.push('METRICS_TOKEN must be at least 16 characters when set');
  }
  if (nodeEnv === 'production' && config.auth.bcryptCost < 12) {
    read.problems.push('BCRYPT_COST must be at least 12 in production');
  }
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

const MB = 1024 * 1024;

function readUploadsConfig(read: EnvReader): UploadsConfig {
  return {
    driver: read.oneOf('UPLOAD_STORAGE_DRIVER', ['local', 's3'] as const, 'local'),
    dir: read.string('UPLOAD_DIR', '.data/uploads'),
    s3: {
      bucket: read.optionalString('UPLOAD_S3_BUCKET'),
      endpoint: read.url('UPLOAD_S3_ENDPOINT', ['http:', 'https:'], false),
      region: read.string('UPLOAD_S3_REGION', 'us-east-1'),
      accessKeyId: read.optionalString('UPLOAD_S3_ACCESS_KEY_ID'),
      secretAccessKey: read.optionalString('UPLOAD_S3_SECRET_ACCESS_KEY'),
      forcePathStyle: read.oneOf('UPLOAD_S3_FORCE_PATH_STYLE', ['true', 'false'] as const, 'false') === 'true',
    },
    maxBytes: {
      image: read.int('UPLOAD_IMAGE_MAX_BYTES', 10 * MB, 1, 100 * MB),
      document: read.int('UPLOAD_DOCUMENT_MAX_BYTES', 20 * MB, 1, 200 * MB),
      voice: read.int('UPLOAD_VOICE_MAX_BYTES', 10 * MB, 1, 100 * MB),
    },
    voiceMaxSeconds: read.int('UPLOAD_VOICE_MAX_SECONDS', 300, 1, 3_600),
    imageMaxPixels: read.int('UPLOAD_IMAGE_MAX_PIXELS', 40_000_000, 1, 268_402_689),
    imageMaxSide: read.int('UPLOAD_IMAGE_MAX_SIDE', 2048, 16, 16_384),
    thumbnailSize: read.int('UPLOAD_THUMBNAIL_SIZE', 320, 16, 2048),
    rateLimit: {
      windowMs: read.int('UPLOAD_RATE_LIMIT_WINDOW_MS', 10 * 60_000, 1_000, 86_400_000),
      max: read.int('UPLOAD_RATE_LIMIT_MAX', 60, 1, 1_000_000),
    },
  };
}

function readChatConfig(read: EnvReader): ChatConfig {
  return {
    editWindowSeconds: read.int('CHAT_EDIT_WINDOW_SECONDS', 900, 0, 7 * 86_400),
    sendRateMax: read.int('CHAT_SEND_RATE_MAX', 30, 1, 1_000_000),
    sendRateWindowMs: read.int('CHAT_SEND_RATE_WINDOW_MS', 10_000, 1_000, 3_600_000),
    typingTimeoutMs: read.int('CHAT_TYPING_TIMEOUT_MS', 5_000, 100, 60_000),
    presenceHeartbeatMs: read.int('CHAT_PRESENCE_HEARTBEAT_MS', 5_000, 100, 60_000),
    syncSettleMs: read.int('CHAT_SYNC_SETTLE_MS', 2_000, 0, 60_000),
    lockLeaseMs: read.int('CHAT_LOCK_LEASE_MS', 3_000, 100, 60_000),
    groupMaxMembers: read.int('CHAT_GROUP_MAX_MEMBERS', 256, 3, 10_000),
  };
}

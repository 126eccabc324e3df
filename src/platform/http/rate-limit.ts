import { rateLimit, type Store, type Options, type IncrementResponse } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Redis } from 'ioredis';
import type { RequestHandler } from 'express';
import { errors } from '../errors';

export interface RateLimitOptions {
  name: string;
  windowMs: number;
  limit: number;
  redis: Redis | null;
  keyPrefix: string;
  /** Defaults to the client IP; auth routes may key on IP + email. */
  key?: (req: Parameters<RequestHandler>[0]) => string;
}

/**
 * rate-limit-redis loads its Lua scripts once, in init; if Redis is down at that moment the store
 * keeps the failed load forever. This wrapper starts a fresh store after any failure, so limits
 * come back by themselves once Redis does.
 */
class RecoveringRedisStore implements Store {
  private inner: RedisStore;
  private options: Options | undefined;
  localKeys = false;

  constructor(private readonly make: () => RedisStore) {
    this.inner = make();
  }

  get prefix(): string {
    return this.inner.prefix;
  }

  init(options: Options): void {
    this.options = options;
    this.inner.init(options).catch(() => undefined);
  }

  private renew(): void {
    this.inner = this.make();
    if (this.options) this.inner.init(this.options).catch(() => undefined);
  }

  private async guard<T>(op: (store: RedisStore) => Promise<T>): Promise<T> {
    try {
      return await op(this.inner);
    } catch (err) {
      this.renew();
      throw err;
    }
  }

  increment(key: string): Promise<IncrementResponse> {
    return this.guard((store) => store.increment(key));
  }

  async decrement(key: string): Promise<void> {
    await this.guard((store) => store.decrement(key));
  }

  async resetKey(key: string): Promise<void> {
    await this.guard((store) => store.resetKey(key));
  }
}

/**
 * express-rate-limit with the Redis store when Redis is configured, so every process shares one
 * budget per client. Standard RateLimit headers; a 429 carries Retry-After and the error envelope.
 */
export function createRateLimit(options: RateLimitOptions): RequestHandler {
  const redis = options.redis;
  const store: Store | undefined = redis
    ? new RecoveringRedisStore(
        () =>
          new RedisStore({
            prefix: `${options.keyPrefix}rl:${options.name}:`,
            sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
          }),
      )
    : undefined;
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store,
    // When Redis is down, let traffic through rather than turning an outage into a 500 for everyone.
    passOnStoreError: true,
    keyGenerator: options.key,
    handler: (_req, _res, next, opts) => {
      next(errors.rateLimited(Math.ceil(opts.windowMs / 1000)));
    },
  });
}

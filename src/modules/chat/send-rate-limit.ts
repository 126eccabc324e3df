import type { Redis } from 'ioredis';
import { chatErrors } from './chat.errors';

// One command per send (a MULTI of INCR and PEXPIRE was four to write and four replies to read):
// the expiry is set by the send that opens the window, atomically with its count.
const COUNT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/**
 * A fixed window per user, shared by every process through Redis, so a client cannot multiply its
 * budget by spreading devices across processes. Without Redis (one process) the window is local.
 * The REST route and the socket event both pass through it, since both call the same service.
 */
export function createSendRateLimit(options: { redis: Redis | null; keyPrefix: string; max: number; windowMs: number; clock: () => Date }) {
  const local = new Map<string, { window: number; count: number }>();

  async function count(userId: string, window: number): Promise<number> {
    const redis = options.redis;
    if (redis && redis.status === 'ready') {
      const key = `${options.keyPrefix}chat:send:${userId}:${window}`;
      try {
        return Number(await redis.eval(COUNT, 1, key, options.windowMs * 2));
      } catch {
        // Redis trouble must not stop chat: fall back to the local window.
      }
    }
    const entry = local.get(userId);
    if (!entry || entry.window !== window) {
      if (local.size > 50_000) local.clear();
      local.set(userId, { window, count: 1 });
      return 1;
    }
    entry.count += 1;
    return entry.count;
  }

  return async function consume(userId: string): Promise<void> {
    const now = options.clock().getTime();
    const window = Math.floor(now / options.windowMs);
    if ((await count(userId, window)) > options.max) {
      // The hint is when this window ends (no jitter: the budget is not free before then).
      throw chatErrors.rateLimited(Math.max(1, (window + 1) * options.windowMs - now));
    }
  };
}

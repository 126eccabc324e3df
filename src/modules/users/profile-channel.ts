import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger';

/** The pub/sub channel of changed profiles, under the deployment's key prefix. */
export const profileChannelName = (keyPrefix: string) => `${keyPrefix}users:profiles`;

/**
 * How every process hears that a user's profile changed (the same rules as auth's access channel,
 * src/modules/auth/access-channel.ts, for display data): a cache may serve an entry only while
 * `live()` holds and `generation()` is the one it was cached under, since a channel that went
 * down may have lost messages.
 */
export interface ProfileChannel {
  live(): boolean;
  generation(): number;
  /** Delivers to every process, this one included (before it returns, for this one). */
  publish(userIds: string[]): Promise<void>;
  onChange(handler: (userIds: string[]) => void): void;
  onDown(handler: () => void): void;
  /** One turn of the event loop, so a message already in the socket buffer is handled first. */
  settle(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function parse(raw: string): string[] | null {
  try {
    const value = JSON.parse(raw) as unknown;
    return Array.isArray(value) && value.every((id) => typeof id === 'string') ? (value as string[]) : null;
  } catch {
    return null;
  }
}

/** One process (no REDIS_URL): delivery is a function call, always live. */
export function createLocalProfileChannel(): ProfileChannel {
  const handlers: ((userIds: string[]) => void)[] = [];
  return {
    live: () => true,
    generation: () => 0,
    async publish(userIds) {
      for (const handler of handlers) handler(userIds);
    },
    onChange: (handler) => void handlers.push(handler),
    onDown: () => undefined,
    settle: () => Promise.resolve(),
    start: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

export interface RedisProfileChannelDeps {
  redis: Redis;
  channel: string;
  logger: Logger;
  pingEveryMs?: number;
  staleAfterMs?: number;
  now?: () => number;
}

/**
 * Redis pub/sub. Live only while the subscriber is connected, subscribed and answered a ping
 * within `staleAfterMs`; while it is not, caches read the store. A publish that fails is applied
 * here at once and retried every ping until Redis takes it.
 */
export function createRedisProfileChannel({ redis, channel, logger, pingEveryMs = 1_000, staleAfterMs = 3_000, now = Date.now }: RedisProfileChannelDeps): ProfileChannel {
  const subscriber = redis.duplicate({
    lazyConnect: true,
    autoResubscribe: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: Math.max(500, staleAfterMs - pingEveryMs),
    connectionName: 'trade-backend:users-profiles',
  });
  const handlers: ((userIds: string[]) => void)[] = [];
  const downHandlers: (() => void)[] = [];
  const pending: string[] = [];
  let subscribed = false;
  let generation = 0;
  let lastPongAt = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  function down(reason: string): void {
    if (!subscribed) return;
    subscribed = false;
    generation += 1;
    logger.warn('Profile cache channel is down: profile summaries are read from the store until it is back', { reason });
    for (const handler of downHandlers) handler();
  }
  const deliver = (userIds: string[]) => {
    for (const handler of handlers) handler(userIds);
  };

  subscriber.on('error', () => undefined);
  subscriber.on('close', () => down('closed'));
  subscriber.on('end', () => down('ended'));
  subscriber.on('ready', () => {
    subscriber
      .subscribe(channel)
      .then(() => {
        generation += 1;
        lastPongAt = now();
        subscribed = true;
      })
      .catch(() => subscriber.disconnect(true));
  });
  subscriber.on('message', (from: string, raw: string) => {
    if (from !== channel) return;
    const userIds = parse(raw);
    if (userIds) deliver(userIds);
  });

  async function flush(): Promise<void> {
    while (pending.length > 0) {
      await redis.publish(channel, pending[0] as string);
      pending.shift();
    }
  }

  function tick(): void {
    if (pending.length > 0) flush().catch(() => undefined);
    if (!subscribed) return;
    if (now() - lastPongAt >= staleAfterMs) {
      down('no pong');
      subscriber.disconnect(true);
      return;
    }
    subscriber.ping().then(
      () => {
        lastPongAt = now();
      },
      () => undefined,
    );
  }

  return {
    live: () => subscribed && subscriber.status === 'ready' && now() - lastPongAt < staleAfterMs,
    generation: () => generation,
    async publish(userIds) {
      deliver(userIds);
      pending.push(JSON.stringify(userIds));
      try {
        await flush();
      } catch (err) {
        logger.error('Could not publish a profile change; retrying', { error: err instanceof Error ? err.message : String(err) });
      }
    },
    onChange: (handler) => void handlers.push(handler),
    onDown: (handler) => void downHandlers.push(handler),
    settle: () => new Promise((resolve) => setImmediate(resolve)),
    async start() {
      timer = setInterval(tick, pingEveryMs);
      timer.unref();
      await subscriber.connect().catch((err: Error) => logger.warn('Profile cache channel could not connect yet', { error: err.message }));
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await flush().catch(() => undefined);
      subscribed = false;
      subscriber.disconnect();
    },
  };
}

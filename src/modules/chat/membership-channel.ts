import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger';

/** The pub/sub channel, under the deployment's key prefix. */
export const membershipChannelName = (keyPrefix: string) => `${keyPrefix}chat:membership`;

/** Conversations whose participant list changed (a member added, removed, or left). */
export interface MembershipInvalidation {
  conversations: string[];
}

/**
 * How every process hears that a cached participant list is wrong (the same contract as auth's
 * access channel, which this follows). A cache may serve an entry only while `live()` holds and
 * `generation()` is the one it was cached under: a channel that went down may have lost
 * messages, so everything cached before is distrusted once it is back.
 */
export interface MembershipChannel {
  live(): boolean;
  generation(): number;
  /** Delivers to every process, this one included (before it returns, for this one). */
  publish(invalidation: MembershipInvalidation): Promise<void>;
  onInvalidation(handler: (invalidation: MembershipInvalidation) => void): void;
  /** Called when the channel goes down, so a cache can drop what it can no longer trust. */
  onDown(handler: () => void): void;
  /**
   * Resolves after the I/O callbacks already due have run: a message published before a client's
   * request was sent is in this process's socket buffer when the request is read, and one turn of
   * the event loop lets its handler run before the cache is consulted.
   */
  settle(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function parse(raw: string): MembershipInvalidation | null {
  try {
    const value = JSON.parse(raw) as MembershipInvalidation;
    if (!Array.isArray(value.conversations) || !value.conversations.every((id) => typeof id === 'string')) return null;
    return value;
  } catch {
    return null;
  }
}

/** One process (no REDIS_URL): delivery is a function call, so the channel is always live. */
export function createLocalMembershipChannel(): MembershipChannel {
  const handlers: ((invalidation: MembershipInvalidation) => void)[] = [];
  return {
    live: () => true,
    generation: () => 0,
    async publish(invalidation) {
      for (const handler of handlers) handler(invalidation);
    },
    onInvalidation: (handler) => void handlers.push(handler),
    onDown: () => undefined,
    settle: () => Promise.resolve(),
    start: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

export interface RedisMembershipChannelDeps {
  /** The app's main client: publishes (fails fast while Redis is away). Duplicated for the subscriber. */
  redis: Redis;
  channel: string;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** The subscriber pings this often; without a pong for `staleAfterMs` it counts as down. */
  pingEveryMs?: number;
  staleAfterMs?: number;
  now?: () => number;
}

/**
 * Redis pub/sub on `<prefix>chat:membership`. Live only while the subscriber is connected,
 * subscribed and answered a ping recently (a half-open TCP connection delivers nothing and
 * reports nothing). A publish that fails is applied here at once and retried until Redis takes it.
 */
export function createRedisMembershipChannel({ redis, channel, logger, pingEveryMs = 1_000, staleAfterMs = 3_000, now = Date.now }: RedisMembershipChannelDeps): MembershipChannel {
  const subscriber = redis.duplicate({
    lazyConnect: true,
    autoResubscribe: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: Math.max(500, staleAfterMs - pingEveryMs),
    connectionName: 'trade-backend:chat-membership',
  });
  const handlers: ((invalidation: MembershipInvalidation) => void)[] = [];
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
    logger.warn('Chat membership channel is down: sends read participants from the store until it is back', { reason });
    for (const handler of downHandlers) handler();
  }

  const deliver = (invalidation: MembershipInvalidation) => {
    for (const handler of handlers) handler(invalidation);
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
    const invalidation = parse(raw);
    if (invalidation) deliver(invalidation);
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
    async publish(invalidation) {
      deliver(invalidation);
      pending.push(JSON.stringify(invalidation));
      try {
        await flush();
      } catch (err) {
        // Other processes cannot hear it now; their entries run out with the TTL at worst, and the
        // tick retries. Their own channel is usually down too, so they read the store.
        logger.error('Could not publish a chat membership invalidation; retrying', { error: err instanceof Error ? err.message : String(err) });
      }
    },
    onInvalidation: (handler) => void handlers.push(handler),
    onDown: (handler) => void downHandlers.push(handler),
    settle: () => new Promise((resolve) => setImmediate(resolve)),
    async start() {
      timer = setInterval(tick, pingEveryMs);
      timer.unref();
      await subscriber.connect().catch((err: Error) => logger.warn('Chat membership channel could not connect yet', { error: err.message }));
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

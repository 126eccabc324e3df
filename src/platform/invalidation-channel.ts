import type { Redis } from 'ioredis';
import type { Logger } from './logger';

/**
 * How every process hears that something it cached is wrong (auth's access channel, chat's
 * membership channel and users' profile channel are instances). A cache may serve an entry only
 * while `live()` holds and `generation()` is the one it was cached under: a channel that went
 * down may have lost messages, so everything cached before is distrusted once it is back.
 */
export interface InvalidationChannel<T> {
  live(): boolean;
  generation(): number;
  /** Delivers to every process, this one included (before it returns, for this one). */
  publish(invalidation: T): Promise<void>;
  onInvalidation(handler: (invalidation: T) => void): void;
  /** Called when the channel goes down, so a cache can drop what it can no longer trust. */
  onDown(handler: () => void): void;
  /**
   * Resolves after the I/O callbacks already due have run. A message published before a client's
   * request was sent is in this process's socket buffer when the request is read; waiting one turn
   * of the event loop lets its handler run before the cache is consulted.
   */
  settle(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** One process (no REDIS_URL): delivery is a function call, so the channel is always live. */
export function createLocalInvalidationChannel<T>(): InvalidationChannel<T> {
  const handlers: ((invalidation: T) => void)[] = [];
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

/** The log lines of one channel (each names what the channel protects and what happens meanwhile). */
export interface InvalidationChannelMessages {
  /** warn, with `{ reason }`, when the subscriber goes down. */
  down: string;
  /** warn, with `{ error }`, when the first connect in start() fails (ioredis keeps retrying). */
  notConnected: string;
  /** error, with `{ error }`, when a publish fails (it stays pending and the tick retries it). */
  publishFailed: string;
}

/** What a module's factory takes from its caller (the module adds parse, connectionName, messages). */
export interface RedisInvalidationChannelDeps {
  /** The app's main client: publishes (fails fast while Redis is away). Duplicated for the subscriber. */
  redis: Redis;
  channel: string;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** The subscriber pings this often; without a pong for `staleAfterMs` it counts as down. */
  pingEveryMs?: number;
  staleAfterMs?: number;
  now?: () => number;
}

export interface RedisInvalidationChannelOptions<T> extends RedisInvalidationChannelDeps {
  /** A message from the channel, or null to ignore it (malformed, or from an incompatible version). */
  parse: (raw: string) => T | null;
  /** CLIENT SETNAME of the subscriber connection, e.g. 'trade-backend:auth-access'. */
  connectionName: string;
  messages: InvalidationChannelMessages;
}

/**
 * Redis pub/sub on `channel`. Live only while the subscriber is connected, subscribed and
 * answered a ping recently (a half-open TCP connection delivers nothing and reports nothing).
 * A publish that fails is applied here at once and retried every ping until Redis takes it.
 */
export function createRedisInvalidationChannel<T>({
  redis,
  channel,
  parse,
  logger,
  connectionName,
  messages,
  pingEveryMs = 1_000,
  staleAfterMs = 3_000,
  now = Date.now,
}: RedisInvalidationChannelOptions<T>): InvalidationChannel<T> {
  const subscriber = redis.duplicate({
    lazyConnect: true,
    autoResubscribe: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: Math.max(500, staleAfterMs - pingEveryMs),
    connectionName,
  });
  const handlers: ((invalidation: T) => void)[] = [];
  const downHandlers: (() => void)[] = [];
  const pending: { raw: string; waiters: { resolve: () => void; reject: (err: unknown) => void }[] }[] = [];
  let subscribed = false;
  let generation = 0;
  let lastPongAt = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  function down(reason: string): void {
    if (!subscribed) return;
    subscribed = false;
    generation += 1;
    logger.warn(messages.down, { reason });
    for (const handler of downHandlers) handler();
  }

  const deliver = (invalidation: T) => {
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

  // One flush at a time, sending everything pending at once (in order, on one connection) and
  // dropping it only once Redis took it; each caller is answered when the batch holding its own
  // message landed, so a publish resolves after its message went out, and each message goes out
  // once (again only after a failure, which is harmless). Before, every caller ran its own loop
  // over the shared queue: concurrent sends published the same message once per loop, and a
  // caller could return while its message was still in flight.
  let flushing: Promise<void> | null = null;
  async function sendPending(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending.slice();
      try {
        await Promise.all(batch.map((entry) => redis.publish(channel, entry.raw)));
      } catch (err) {
        // Kept for the tick's retry; whoever waits is told now.
        for (const entry of batch) entry.waiters.splice(0).forEach((waiter) => waiter.reject(err));
        throw err;
      }
      pending.splice(0, batch.length);
      for (const entry of batch) entry.waiters.forEach((waiter) => waiter.resolve());
    }
  }
  function flush(): Promise<void> {
    if (flushing) return flushing;
    if (pending.length === 0) return Promise.resolve();
    // `finally` runs a turn later, after `flushing` is set, even when nothing was awaited.
    flushing = sendPending().finally(() => {
      flushing = null;
    });
    return flushing;
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
      try {
        await new Promise<void>((resolve, reject) => {
          pending.push({ raw: JSON.stringify(invalidation), waiters: [{ resolve, reject }] });
          flush().catch(() => undefined);
        });
      } catch (err) {
        // Other processes cannot hear it now; their entries run out with the TTL at worst, and
        // the tick retries. Their own channel is usually down too, so they read the store.
        logger.error(messages.publishFailed, { error: err instanceof Error ? err.message : String(err) });
      }
    },
    onInvalidation: (handler) => void handlers.push(handler),
    onDown: (handler) => void downHandlers.push(handler),
    settle: () => new Promise((resolve) => setImmediate(resolve)),
    async start() {
      timer = setInterval(tick, pingEveryMs);
      timer.unref();
      await subscriber.connect().catch((err: Error) => logger.warn(messages.notConnected, { error: err.message }));
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

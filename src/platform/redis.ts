import { Redis } from 'ioredis';
import type { Logger } from './logger';

/**
 * Redis is optional at run time. The client retries forever in the background; commands fail fast
 * while it is down (no offline queue), so a Redis outage degrades features instead of hanging them.
 */
export function createRedis(url: string, logger: Logger, name = 'main'): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    connectionName: `trade-backend:${name}`,
    // disconnect() is only used at shutdown or while Redis is away: no need to keep a 2 s timer.
    disconnectTimeout: 200,
  });
  let reported = false;
  client.on('error', (err) => {
    if (!reported) logger.warn('Redis error', { client: name, error: err.message });
    reported = true;
  });
  client.on('ready', () => {
    reported = false;
    logger.info('Redis ready', { client: name });
  });
  return client;
}

/**
 * The Socket.io streams adapter duplicates this client for its blocking readers and calls
 * connect() on the copies without handling a rejection when lazyConnect is set, so this client
 * connects eagerly. It queues commands while Redis is away: its readers loop on XREAD and would
 * spin on immediate failures.
 */
export function createAdapterRedis(url: string, logger: Logger): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: null,
    connectTimeout: 3_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    connectionName: 'trade-backend:socket-adapter',
    // A reader's socket is mid-XREAD when we disconnect, so Redis closes it only when the block
    // ends; without a short deadline ioredis keeps a 2 s timer alive and shutdown (and every
    // test file's teardown) waits for it. Only reads travel here: nothing is lost by cutting it.
    disconnectTimeout: 100,
  });
  client.on('error', () => undefined);
  client.once('ready', () => logger.debug('Redis adapter client ready'));
  // The adapter's copies reconnect forever and only stop after a blocking read returns, which
  // never happens while Redis is down: keep hold of them so shutdown can drop them.
  const copies: Redis[] = [];
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override) => {
    const copy = duplicate(override);
    copies.push(copy);
    return copy;
  };
  adapterCopies.set(client, copies);
  return client;
}

const adapterCopies = new WeakMap<Redis, Redis[]>();

/** QUIT waits in the offline queue while disconnected; a client that is not ready is just dropped. */
export async function closeRedis(client: Redis | null): Promise<void> {
  if (!client) return;
  for (const copy of adapterCopies.get(client) ?? []) copy.disconnect();
  if (client.status === 'ready') await client.quit();
  else client.disconnect();
}

export async function connectRedis(client: Redis): Promise<void> {
  await client.connect();
}

export async function pingRedis(client: Redis): Promise<void> {
  await client.ping();
}

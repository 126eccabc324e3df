import type { Connection } from 'mongoose';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { PlatformConfig } from './config';
import type { Logger } from './logger';
import { connectMongo } from './mongo';
import { createPostgresPool } from './postgres';
import { closeRedis, connectRedis, createAdapterRedis, createRedis } from './redis';
import { migrate } from './migrations';

export interface Connections {
  mongo: Connection;
  postgres: Pool | null;
  redis: Redis | null;
  /** A second Redis connection for the Socket.io streams adapter, which blocks on XREAD. */
  adapterRedis: Redis | null;
}

/**
 * MongoDB is required: failing to reach it stops the start. PostgreSQL and Redis are optional:
 * unset means disabled; set but unreachable means degraded (logged, shown by readiness), and the
 * clients keep reconnecting in the background.
 */
export async function openConnections(config: PlatformConfig, logger: Logger): Promise<Connections> {
  const mongo = await connectMongo(config.mongo, logger);

  let postgres: Pool | null = null;
  if (config.postgres.url) {
    postgres = createPostgresPool({ url: config.postgres.url, poolSize: config.postgres.poolSize }, logger);
    try {
      await migrate(postgres, logger);
    } catch (err) {
      logger.warn('PostgreSQL migrations did not run; analytics are degraded until a restart', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  } else {
    logger.warn('POSTGRES_URL is not set: analytics are off');
  }

  let redis: Redis | null = null;
  let adapterRedis: Redis | null = null;
  if (config.redis.url) {
    redis = createRedis(config.redis.url, logger, 'main');
    adapterRedis = createAdapterRedis(config.redis.url, logger);
    await connectRedis(redis).catch((err: Error) =>
      logger.warn('Redis is unreachable at start; running degraded while it reconnects', { error: err.message }),
    );
  } else {
    logger.warn('REDIS_URL is not set: one process only (no shared rate limits, presence or socket adapter)');
  }
  return { mongo, postgres, redis, adapterRedis };
}

export async function closeConnections(connections: Connections, logger: Logger): Promise<void> {
  const results = await Promise.allSettled([
    connections.mongo.close(),
    connections.postgres?.end(),
    closeRedis(connections.redis),
    closeRedis(connections.adapterRedis),
  ]);
  for (const result of results) {
    if (result.status === 'rejected') logger.warn('Error while closing a connection', { error: String(result.reason) });
  }
}

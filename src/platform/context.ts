import type { Connection } from 'mongoose';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { PlatformConfig } from './config';
import type { Logger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { createEventBus, type EventBus } from './events';
import { createJobRunner, type JobRunner } from './jobs';
import type { Connections } from './connections';

/** What every module may depend on. Built by main.ts (or the test harness) and passed down. */
export interface AppContext<C extends PlatformConfig = PlatformConfig> {
  /** The platform's settings; the composition root's context also carries every module's section. */
  config: C;
  logger: Logger;
  mongo: Connection;
  postgres: Pool | null;
  redis: Redis | null;
  metrics: Metrics;
  /** Typed domain events: publish after the write is stored; subscriptions are wired at composition. */
  events: EventBus;
  /** Durable jobs and schedules (BullMQ, or in-process without Redis); started by the server. */
  jobs: JobRunner;
  clock: () => Date;
  startedAt: Date;
}

/**
 * The one way a process builds its context from loaded settings and open connections (main.ts,
 * the seed, the test harness): metrics, the event bus and the job runner are made here, so every
 * entry point gets the same wiring. `clock` is a test's injected clock.
 */
export function createAppContext<C extends PlatformConfig>(
  config: C,
  logger: Logger,
  connections: Pick<Connections, 'mongo' | 'postgres' | 'redis'>,
  options: { clock?: () => Date } = {},
): AppContext<C> {
  const metrics = createMetrics();
  return {
    config,
    logger,
    mongo: connections.mongo,
    postgres: connections.postgres,
    redis: connections.redis,
    metrics,
    events: createEventBus({ logger, metrics }),
    jobs: createJobRunner({ redisUrl: config.redis.url, keyPrefix: config.redis.keyPrefix, logger, metrics, shutdownTimeoutMs: config.shutdownTimeoutMs }),
    clock: options.clock ?? (() => new Date()),
    startedAt: new Date(),
  };
}

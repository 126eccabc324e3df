import type { Connection } from 'mongoose';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Config } from './config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { EventBus } from './events';
import type { JobRunner } from './jobs';

/** What every module may depend on. Built by main.ts (or the test harness) and passed down. */
export interface AppContext {
  config: Config;
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

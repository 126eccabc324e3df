import type { Connection } from 'mongoose';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { PlatformConfig } from './config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { EventBus } from './events';
import type { JobRunner } from './jobs';

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

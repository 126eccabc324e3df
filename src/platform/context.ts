import type { Connection } from 'mongoose';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Config } from './config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

/** What every module may depend on. Built by main.ts (or the test harness) and passed down. */
export interface AppContext {
  config: Config;
  logger: Logger;
  mongo: Connection;
  postgres: Pool | null;
  redis: Redis | null;
  metrics: Metrics;
  clock: () => Date;
  startedAt: Date;
}

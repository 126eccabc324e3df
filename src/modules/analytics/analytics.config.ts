import type { EnvReader } from '../../platform/config';

/** Analytics settings, read from ANALYTICS_* variables. */
export interface AnalyticsConfig {
  /** Off: no subscriber is registered and the read routes answer from empty tables. */
  enabled: boolean;
  /** Rows per multi-row INSERT. */
  batchSize: number;
  /** How often the buffer is flushed when it holds less than a batch. */
  flushIntervalMs: number;
  /** Events held in memory at most (PostgreSQL slow or down); beyond it new events are dropped and counted. */
  bufferMaxEvents: number;
  /**
   * Events the Redis spill holds at most (shared by every process): where events go when memory is
   * full; beyond it they are dropped and counted. 0 turns the spill off (memory only, as without Redis).
   */
  spillMaxEvents: number;
  /** The longest wait between two attempts while PostgreSQL refuses writes. */
  retryMaxMs: number;
  /** How often today's and yesterday's rollups are recomputed. */
  rollupEveryMs: number;
}

export function readAnalyticsConfig(read: EnvReader): AnalyticsConfig {
  return {
    enabled: read.oneOf('ANALYTICS_ENABLED', ['true', 'false'] as const, 'true') === 'true',
    batchSize: read.int('ANALYTICS_BATCH_SIZE', 500, 1, 10_000),
    flushIntervalMs: read.int('ANALYTICS_FLUSH_INTERVAL_MS', 1_000, 10, 60_000),
    bufferMaxEvents: read.int('ANALYTICS_BUFFER_MAX_EVENTS', 100_000, 10, 10_000_000),
    spillMaxEvents: read.int('ANALYTICS_SPILL_MAX_EVENTS', 1_000_000, 0, 100_000_000),
    retryMaxMs: read.int('ANALYTICS_RETRY_MAX_MS', 30_000, 100, 600_000),
    rollupEveryMs: read.int('ANALYTICS_ROLLUP_EVERY_MS', 5 * 60_000, 1_000, 86_400_000),
  };
}

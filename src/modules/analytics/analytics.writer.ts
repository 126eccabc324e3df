import type { Pool } from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../platform/logger';
import type { AnalyticsRow } from './analytics.rows';

export interface AnalyticsWriterOptions {
  pool: Pool;
  logger: Logger;
  batchSize: number;
  flushIntervalMs: number;
  bufferMaxEvents: number;
  retryMaxMs: number;
  registry?: Registry;
  /** Told when PostgreSQL starts refusing writes (down: true, with the error) and when writes resume. */
  onHealthChange?: (change: { down: boolean; error: string | null; buffered: number }) => void;
}

export interface AnalyticsWriterStats {
  buffered: number;
  written: number;
  dropped: number;
  failedFlushes: number;
  /** Set while PostgreSQL refuses writes: when the next attempt may run. */
  retryAt: string | null;
}

export interface AnalyticsWriter {
  /** Synchronous and O(1): never waits for PostgreSQL, never throws. */
  record(row: AnalyticsRow): void;
  /** Writes everything buffered now (tests, shutdown); resolves false when PostgreSQL refused a batch. */
  flush(): Promise<boolean>;
  start(): void;
  /** Stops the timer and makes a last attempt, bounded by `deadlineMs`. */
  close(deadlineMs?: number): Promise<void>;
  stats(): AnalyticsWriterStats;
}

function metricsFor(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  const existing = (name: string) => registry?.getSingleMetric(name);
  return {
    written: (existing('analytics_events_written_total') as Counter | undefined) ?? new Counter({ name: 'analytics_events_written_total', help: 'Analytics rows stored in PostgreSQL', registers }),
    dropped:
      (existing('analytics_events_dropped_total') as Counter<'reason'> | undefined) ??
      new Counter({ name: 'analytics_events_dropped_total', help: 'Analytics events dropped: buffer full, or still buffered at shutdown', labelNames: ['reason'] as const, registers }),
    failures: (existing('analytics_flush_failures_total') as Counter | undefined) ?? new Counter({ name: 'analytics_flush_failures_total', help: 'Analytics batches PostgreSQL refused (they stay buffered and are retried)', registers }),
    buffered: (existing('analytics_buffer_events') as Gauge | undefined) ?? new Gauge({ name: 'analytics_buffer_events', help: 'Analytics events waiting in memory', registers }),
  };
}

const INSERT = `INSERT INTO analytics_domain_events (event_id, name, occurred_at, user_id, entity_id, amount, currency, properties)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::jsonb[])
ON CONFLICT DO NOTHING`;

const monthKey = (at: Date) => `${at.getUTCFullYear()}-${at.getUTCMonth()}`;

/**
 * A bounded in-memory buffer flushed in multi-row INSERTs: on a timer, as soon as a batch is full,
 * and on shutdown. PostgreSQL being slow or down never reaches the publisher: rows wait (up to
 * `bufferMaxEvents`, then new ones are dropped and counted in analytics_events_dropped_total) and
 * the flush retries with exponential backoff up to `retryMaxMs`. What is lost: the buffer when the
 * process dies (at most `bufferMaxEvents` rows, normally one flush interval's worth), and rows
 * beyond the bound during a long outage. A batch is removed from the buffer only after its INSERT
 * commits; each row's uuid makes a retried batch idempotent.
 */
export function createAnalyticsWriter(options: AnalyticsWriterOptions): AnalyticsWriter {
  const { pool, logger, batchSize, flushIntervalMs, bufferMaxEvents, retryMaxMs } = options;
  const metrics = metricsFor(options.registry);
  let buffer: AnalyticsRow[] = [];
  const knownMonths = new Set<string>();
  let flushing: Promise<boolean> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let failuresInRow = 0;
  let retryAt = 0;
  let closed = false;
  const counts = { written: 0, dropped: 0, failedFlushes: 0 };

  function drop(reason: string, n: number) {
    counts.dropped += n;
    metrics.dropped.inc({ reason }, n);
  }

  async function ensureMonths(rows: AnalyticsRow[]) {
    for (const row of rows) {
      const key = monthKey(row.occurredAt);
      if (knownMonths.has(key)) continue;
      await pool.query('SELECT analytics_ensure_month($1)', [row.occurredAt.toISOString()]);
      knownMonths.add(key);
    }
  }

  async function insert(rows: AnalyticsRow[]) {
    await ensureMonths(rows);
    await pool.query(INSERT, [
      rows.map((r) => r.eventId),
      rows.map((r) => r.name),
      rows.map((r) => r.occurredAt.toISOString()),
      rows.map((r) => r.userId),
      rows.map((r) => r.entityId),
      rows.map((r) => r.amount),
      rows.map((r) => r.currency),
      rows.map((r) => JSON.stringify(r.properties)),
    ]);
  }

  async function runFlush(): Promise<boolean> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, batchSize);
      try {
        await insert(batch);
      } catch (err) {
        failuresInRow += 1;
        counts.failedFlushes += 1;
        metrics.failures.inc();
        const delay = Math.min(retryMaxMs, flushIntervalMs * 2 ** Math.min(failuresInRow, 16));
        retryAt = Date.now() + delay;
        if (failuresInRow === 1) options.onHealthChange?.({ down: true, error: err instanceof Error ? err.message : String(err), buffered: buffer.length });
        if (failuresInRow === 1 || failuresInRow % 10 === 0) {
          logger.warn('Analytics could not write to PostgreSQL; events stay buffered', {
            error: err instanceof Error ? err.message : String(err),
            buffered: buffer.length,
            retryInMs: delay,
          });
        }
        return false;
      }
      // Rows recorded meanwhile were appended after the batch, so the batch is still the front.
      buffer = buffer.slice(batch.length);
      metrics.buffered.set(buffer.length);
      counts.written += batch.length;
      metrics.written.inc(batch.length);
      if (failuresInRow > 0) {
        logger.info('Analytics writes to PostgreSQL resumed', { buffered: buffer.length });
        options.onHealthChange?.({ down: false, error: null, buffered: buffer.length });
      }
      failuresInRow = 0;
      retryAt = 0;
    }
    return true;
  }

  function flush(): Promise<boolean> {
    if (!flushing) {
      flushing = runFlush().finally(() => {
        flushing = null;
      });
    }
    return flushing;
  }

  function tick() {
    if (buffer.length > 0 && Date.now() >= retryAt) void flush();
  }

  return {
    record(row) {
      try {
        if (buffer.length >= bufferMaxEvents) {
          drop('buffer_full', 1);
          return;
        }
        buffer.push(row);
        metrics.buffered.set(buffer.length);
        if (!closed && buffer.length >= batchSize && !flushing && Date.now() >= retryAt) setImmediate(tick);
      } catch (err) {
        logger.error('Analytics could not buffer an event', { error: err instanceof Error ? err.message : String(err) });
      }
    },

    async flush() {
      // An explicit flush (tests, shutdown) does not wait for the backoff.
      if (flushing) await flushing;
      return flush();
    },

    start() {
      if (timer || closed) return;
      timer = setInterval(tick, flushIntervalMs);
      timer.unref();
    },

    async close(deadlineMs = 5_000) {
      closed = true;
      if (timer) clearInterval(timer);
      timer = null;
      let timeout: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timeout = setTimeout(resolve, deadlineMs);
      });
      await Promise.race([(flushing ?? Promise.resolve(true)).then(() => flush()), deadline]);
      clearTimeout(timeout);
      if (buffer.length > 0) {
        logger.warn('Analytics events still buffered at shutdown were dropped', { count: buffer.length });
        drop('shutdown', buffer.length);
        buffer = [];
        metrics.buffered.set(0);
      }
    },

    stats() {
      return { buffered: buffer.length, ...counts, retryAt: retryAt ? new Date(retryAt).toISOString() : null };
    },
  };
}

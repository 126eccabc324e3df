import type { Pool } from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../platform/logger';
import type { AnalyticsRow } from './analytics.rows';
import type { AnalyticsSpill } from './analytics.spill';

export interface AnalyticsWriterOptions {
  pool: Pool;
  logger: Logger;
  batchSize: number;
  flushIntervalMs: number;
  bufferMaxEvents: number;
  retryMaxMs: number;
  registry?: Registry;
  /**
   * Where events go when memory is full (PostgreSQL down or slow): a bounded Redis list shared by
   * the deployment's processes. Without one, events beyond `bufferMaxEvents` are dropped and counted.
   */
  spill?: AnalyticsSpill | null;
  /** Told when PostgreSQL starts refusing writes (down: true, with the error) and when writes resume. */
  onHealthChange?: (change: { down: boolean; error: string | null; buffered: number }) => void;
}

export interface AnalyticsWriterStats {
  buffered: number;
  written: number;
  dropped: number;
  /** Rows this process moved to the spill, and the spill's length when it last looked. */
  spilled: number;
  spillLength: number;
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
      new Counter({
        name: 'analytics_events_dropped_total',
        help: 'Analytics events dropped: memory full without a spill, spill full, unreadable in the spill, or still held at shutdown',
        labelNames: ['reason'] as const,
        registers,
      }),
    failures: (existing('analytics_flush_failures_total') as Counter | undefined) ?? new Counter({ name: 'analytics_flush_failures_total', help: 'Analytics batches PostgreSQL refused (they stay buffered and are retried)', registers }),
    buffered: (existing('analytics_buffer_events') as Gauge | undefined) ?? new Gauge({ name: 'analytics_buffer_events', help: 'Analytics events waiting in memory', registers }),
    spilled: (existing('analytics_events_spilled_total') as Counter | undefined) ?? new Counter({ name: 'analytics_events_spilled_total', help: 'Analytics events moved to the Redis spill (memory full or shutdown)', registers }),
    spillLength: (existing('analytics_spill_events') as Gauge | undefined) ?? new Gauge({ name: 'analytics_spill_events', help: 'Analytics events waiting in the Redis spill (as last seen by this process)', registers }),
  };
}

const INSERT = `INSERT INTO analytics_domain_events (event_id, name, occurred_at, user_id, entity_id, amount, currency, properties)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::jsonb[])
ON CONFLICT DO NOTHING`;

const monthKey = (at: Date) => `${at.getUTCFullYear()}-${at.getUTCMonth()}`;

/**
 * A bounded in-memory buffer flushed in multi-row INSERTs: on a timer, as soon as a batch is full,
 * and on shutdown. PostgreSQL being slow or down never reaches the publisher: rows wait in memory
 * (up to `bufferMaxEvents`), then in the Redis spill (up to its own bound), and the flush retries
 * with exponential backoff up to `retryMaxMs`. Order is kept: once rows are in the spill, new rows
 * follow them there until it is drained (memory first, then the spill's head, batch by batch). A
 * row leaves memory or the spill only after its INSERT commits, and each row's uuid makes a
 * retried batch idempotent, so delivery is at least once. What is lost: memory when the process
 * dies, rows beyond both bounds (counted), and with Redis unreachable, rows beyond memory (counted).
 */
export function createAnalyticsWriter(options: AnalyticsWriterOptions): AnalyticsWriter {
  const { pool, logger, batchSize, flushIntervalMs, bufferMaxEvents, retryMaxMs } = options;
  const spill = options.spill ?? null;
  const metrics = metricsFor(options.registry);
  let buffer: AnalyticsRow[] = [];
  /** Rows on their way to the spill (bounded: beyond it they stay in memory or are dropped). */
  let outbox: AnalyticsRow[] = [];
  const outboxMax = Math.max(1_000, batchSize);
  /** The spill may hold rows: new rows queue behind them, and the flush drains it after memory. */
  let spilling = false;
  let pushing: Promise<void> | null = null;
  const knownMonths = new Set<string>();
  let flushing: Promise<boolean> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let failuresInRow = 0;
  let retryAt = 0;
  let closed = false;
  let spillWarned = false;
  const counts = { written: 0, dropped: 0, failedFlushes: 0, spilled: 0, spillLength: 0 };

  function drop(reason: string, n: number) {
    if (n <= 0) return;
    counts.dropped += n;
    metrics.dropped.inc({ reason }, n);
  }

  function setSpillLength(length: number) {
    counts.spillLength = length;
    metrics.spillLength.set(length);
  }

  function warnSpill(message: string, err: unknown) {
    if (spillWarned) return;
    spillWarned = true;
    logger.warn(message, { error: err instanceof Error ? err.message : String(err), buffered: buffer.length });
  }

  /** Rows that could not reach the spill go back to memory while there is room; the rest are dropped. */
  function keepInMemory(rows: AnalyticsRow[], reason: string) {
    const room = Math.max(0, bufferMaxEvents - buffer.length);
    buffer.push(...rows.slice(0, room));
    metrics.buffered.set(buffer.length);
    drop(reason, rows.length - room);
  }

  async function pushOutbox(): Promise<void> {
    while (outbox.length > 0 && spill) {
      const chunk = outbox.slice(0, 500);
      try {
        const { stored, length } = await spill.push(chunk);
        outbox = outbox.slice(chunk.length);
        if (stored > 0) spilling = true;
        counts.spilled += stored;
        metrics.spilled.inc(stored);
        setSpillLength(length);
        drop('spill_full', chunk.length - stored);
        spillWarned = false;
      } catch (err) {
        warnSpill('Analytics could not spill events to Redis; they stay in memory while there is room', err);
        const rest = outbox;
        outbox = [];
        keepInMemory(rest, 'buffer_full');
        return;
      }
    }
  }

  function schedulePush() {
    if (pushing) return;
    pushing = pushOutbox().finally(() => {
      pushing = null;
    });
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
    if (rows.length === 0) return;
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

  function failed(err: unknown) {
    failuresInRow += 1;
    counts.failedFlushes += 1;
    metrics.failures.inc();
    const delay = Math.min(retryMaxMs, flushIntervalMs * 2 ** Math.min(failuresInRow, 16));
    retryAt = Date.now() + delay;
    const waiting = buffer.length + outbox.length + counts.spillLength;
    if (failuresInRow === 1) options.onHealthChange?.({ down: true, error: err instanceof Error ? err.message : String(err), buffered: waiting });
    if (failuresInRow === 1 || failuresInRow % 10 === 0) {
      logger.warn('Analytics could not write to PostgreSQL; events stay buffered', {
        error: err instanceof Error ? err.message : String(err),
        buffered: buffer.length,
        spilled: counts.spillLength,
        retryInMs: delay,
      });
    }
  }

  function succeeded(n: number) {
    counts.written += n;
    metrics.written.inc(n);
    if (failuresInRow > 0) {
      logger.info('Analytics writes to PostgreSQL resumed', { buffered: buffer.length, spilled: counts.spillLength });
      options.onHealthChange?.({ down: false, error: null, buffered: buffer.length + counts.spillLength });
    }
    failuresInRow = 0;
    retryAt = 0;
  }

  async function runFlush(): Promise<boolean> {
    for (;;) {
      if (buffer.length > 0) {
        const batch = buffer.slice(0, batchSize);
        try {
          await insert(batch);
        } catch (err) {
          failed(err);
          return false;
        }
        // Rows recorded meanwhile were appended after the batch, so the batch is still the front.
        buffer = buffer.slice(batch.length);
        metrics.buffered.set(buffer.length);
        succeeded(batch.length);
        continue;
      }
      if (!spill || !(spilling || outbox.length > 0)) return true;
      if (pushing) await pushing;
      if (outbox.length > 0) schedulePush();
      if (pushing) await pushing;
      let head: Awaited<ReturnType<AnalyticsSpill['peek']>>;
      try {
        head = await spill.peek(batchSize);
      } catch (err) {
        // Redis is away: what it holds waits there; the next tick tries again.
        warnSpill('Analytics could not read the Redis spill; its events wait there', err);
        return true;
      }
      if (head.raw.length === 0) {
        setSpillLength(0);
        if (outbox.length === 0 && !pushing) {
          spilling = false;
          return true;
        }
        continue;
      }
      try {
        await insert(head.rows);
      } catch (err) {
        failed(err);
        return false;
      }
      try {
        const { removed, length } = await spill.remove(head.raw);
        setSpillLength(length);
        // Not removed: another process drained the same head first (and stored it too).
        if (removed) {
          drop('spill_corrupt', head.corrupt);
          succeeded(head.rows.length);
        }
      } catch (err) {
        // Stored but still in the spill: it will be read and inserted again, which changes nothing.
        warnSpill('Analytics could not trim the Redis spill; the rows will be written again (idempotent)', err);
        return true;
      }
    }
  }

  function flush(): Promise<boolean> {
    if (!flushing) {
      flushing = runFlush()
        .then(async (ok) => {
          // Rows on their way to the spill are where the caller can count them once this resolves.
          while (pushing) await pushing;
          return ok;
        })
        .finally(() => {
        flushing = null;
      });
    }
    return flushing;
  }

  function tick() {
    if ((buffer.length > 0 || spilling || outbox.length > 0) && Date.now() >= retryAt) void flush();
  }

  return {
    record(row) {
      try {
        const spillReady = !!spill && spill.available() && outbox.length < outboxMax;
        // Once rows are in the spill, new rows follow them there (order), unless Redis is away.
        if ((spilling || outbox.length > 0) && spillReady) {
          outbox.push(row);
          schedulePush();
        } else if (buffer.length < bufferMaxEvents) {
          buffer.push(row);
          metrics.buffered.set(buffer.length);
        } else if (spillReady) {
          outbox.push(row);
          schedulePush();
        } else {
          drop('buffer_full', 1);
          return;
        }
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
      // A spill left by an earlier process (or another one) is drained by whoever is running.
      if (spill?.available()) {
        spill
          .length()
          .then((length) => {
            setSpillLength(length);
            if (length > 0) spilling = true;
          })
          .catch(() => undefined);
      }
    },

    async close(deadlineMs = 5_000) {
      closed = true;
      if (timer) clearInterval(timer);
      timer = null;
      const started = Date.now();
      const within = async <T>(work: Promise<T>, ms: number) => {
        let timeout: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((resolve) => {
          timeout = setTimeout(resolve, Math.max(0, ms));
        });
        await Promise.race([work, deadline]);
        clearTimeout(timeout);
      };
      // Half the time for PostgreSQL; what is left then goes to the spill, which survives the process.
      await within((flushing ?? Promise.resolve(true)).then(() => flush()), spill ? deadlineMs / 2 : deadlineMs);
      if (spill && spill.available() && buffer.length + outbox.length > 0) {
        const rest = [...buffer, ...outbox];
        buffer = [];
        outbox = [];
        metrics.buffered.set(0);
        await within(
          (pushing ?? Promise.resolve())
            .then(() => spill.push(rest))
            .then(({ stored, length }) => {
              counts.spilled += stored;
              metrics.spilled.inc(stored);
              setSpillLength(length);
              drop('spill_full', rest.length - stored);
              if (stored > 0) logger.info('Analytics events still buffered at shutdown were moved to the Redis spill', { count: stored });
            })
            .catch((err: unknown) => {
              logger.warn('Analytics events still buffered at shutdown were dropped (Redis refused them)', { count: rest.length, error: err instanceof Error ? err.message : String(err) });
              drop('shutdown', rest.length);
            }),
          deadlineMs - (Date.now() - started),
        );
      }
      const left = buffer.length + outbox.length;
      if (left > 0) {
        logger.warn('Analytics events still buffered at shutdown were dropped', { count: left });
        drop('shutdown', left);
        buffer = [];
        outbox = [];
        metrics.buffered.set(0);
      }
    },

    stats() {
      return { buffered: buffer.length + outbox.length, ...counts, retryAt: retryAt ? new Date(retryAt).toISOString() : null };
    },
  };
}

import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import type { DomainEventName, EventBus } from '../../platform/events';
import type { AnalyticsConfig } from './analytics.config';
import { ANALYTICS_EVENTS, toAnalyticsRow, toOrderLineRows, type OrderLines } from './analytics.rows';
import { createAnalyticsWriter, type AnalyticsWriter } from './analytics.writer';
import { createRedisSpill } from './analytics.spill';
import { createRollups, utcDay, type Rollups } from './analytics.rollups';
import { createAnalyticsQueries, type AnalyticsQueries } from './analytics.queries';

// The analytics module's contract. Other modules import only from here.
export { readAnalyticsConfig, type AnalyticsConfig } from './analytics.config';
export { ANALYTICS_EVENTS, ORDER_LINE_ROW, toAnalyticsRow, toOrderLineRows, type AnalyticsRow, type OrderLines } from './analytics.rows';
export type { AnalyticsWriter, AnalyticsWriterStats } from './analytics.writer';
export type { Rollups } from './analytics.rollups';
export type { AnalyticsQueries, AnalyticsKpis, FunnelStep, CohortRow, TopVendor, TopProduct, TimeseriesPoint, Interval, Period } from './analytics.queries';

export interface AnalyticsModule extends AppModule {
  /** False without PostgreSQL or with ANALYTICS_ENABLED=false: nothing is recorded and the reads are null. */
  readonly enabled: boolean;
  /** The dashboard's reads (null without PostgreSQL). */
  queries: AnalyticsQueries | null;
  rollups: Rollups | null;
  writer: AnalyticsWriter | null;
  /** Subscribes the writer to every event analytics records (called once, by the composition root). */
  subscribe(events: EventBus): () => void;
  /** Writes what is buffered now (tests, benchmarks). */
  flush(): Promise<boolean>;
  /**
   * Where an order's lines are read when order.created is seen (OffersModule.orders.getOrder), for
   * "products by volume"; set by the composition root once offers exists. Without it, no line rows.
   */
  useOrderLines(lookup: (orderId: string) => Promise<OrderLines | null>): void;
  /** Registers a listener for PostgreSQL refusing analytics writes and recovering (the admin's system events). */
  onHealthChange(listener: (change: { down: boolean; error: string | null; buffered: number }) => void): void;
}

const ROLLUP_SCHEDULE = 'analytics-rollup';

/**
 * Domain events into PostgreSQL, without ever touching a request: the bus runs the subscriber
 * after the publisher's call stack, the subscriber only appends to a bounded buffer, and the
 * writer flushes it in batches (analytics.writer.ts). Rollups are recomputed on a schedule.
 */
export function createAnalyticsModule(deps: { ctx: AppContext; config: AnalyticsConfig }): AnalyticsModule {
  const { ctx, config } = deps;
  const pool = ctx.postgres;
  const enabled = config.enabled && pool !== null;
  const healthListeners: Array<(change: { down: boolean; error: string | null; buffered: number }) => void> = [];
  const writer = enabled && pool
    ? createAnalyticsWriter({
        onHealthChange: (change) => healthListeners.forEach((listener) => listener(change)),
        pool,
        logger: ctx.logger,
        batchSize: config.batchSize,
        flushIntervalMs: config.flushIntervalMs,
        bufferMaxEvents: config.bufferMaxEvents,
        // Beyond memory, a bounded Redis list shared by the processes; without Redis, memory only.
        spill: ctx.redis && config.spillMaxEvents > 0 ? createRedisSpill({ redis: ctx.redis, key: `${ctx.config.redis.keyPrefix}analytics:spill`, maxEvents: config.spillMaxEvents }) : null,
        retryMaxMs: config.retryMaxMs,
        registry: ctx.metrics.registry,
      })
    : null;
  const rollups = pool ? createRollups(pool) : null;
  const queries = pool ? createAnalyticsQueries(pool) : null;
  const unsubscribers: Array<() => void> = [];
  let orderLines: ((orderId: string) => Promise<OrderLines | null>) | null = null;

  if (rollups) {
    // Today's figures move all day; yesterday's are recomputed once more for late events.
    ctx.jobs.schedule(ROLLUP_SCHEDULE, { everyMs: config.rollupEveryMs }, async ({ now }) => {
      await rollups.rollupDay(utcDay(new Date(now.getTime() - 86_400_000)));
      await rollups.rollupDay(utcDay(now));
    });
  }

  return {
    name: 'analytics',
    enabled,
    queries,
    rollups,
    writer,
    subscribe(events) {
      if (!writer) return () => undefined;
      for (const name of ANALYTICS_EVENTS) {
        unsubscribers.push(
          events.subscribe(name as DomainEventName, (payload, meta) => writer.record(toAnalyticsRow(name, payload, meta.publishedAt)), {
            name: 'analytics',
          }),
        );
      }
      // Order lines: one MongoDB read per new order, in the subscriber (after the request's call
      // stack), never in the request; a failed read loses that order's lines only (logged).
      unsubscribers.push(
        events.subscribe(
          'order.created',
          async (payload) => {
            if (!orderLines) return;
            try {
              const lines = await orderLines(payload.orderId);
              if (lines) for (const row of toOrderLineRows(payload, lines)) writer.record(row);
            } catch (err) {
              ctx.logger.warn('Analytics could not read an order\'s lines', { orderId: payload.orderId, error: err instanceof Error ? err.message : String(err) });
            }
          },
          { name: 'analytics.order-lines' },
        ),
      );
      return () => unsubscribers.splice(0).forEach((off) => off());
    },
    useOrderLines: (lookup) => {
      orderLines = lookup;
    },
    flush: () => (writer ? writer.flush() : Promise.resolve(true)),
    onHealthChange: (listener) => void healthListeners.push(listener),
    start() {
      writer?.start();
      if (!enabled) ctx.logger.warn('Analytics are off (no PostgreSQL or ANALYTICS_ENABLED=false): domain events are not recorded');
    },
    async stop() {
      // Events published by requests that just finished are still on their way to the buffer.
      await ctx.events.drain();
      await writer?.close(Math.max(100, ctx.config.shutdownTimeoutMs / 2));
    },
  };
}

import { Registry, Histogram, Gauge, Counter, collectDefaultMetrics } from 'prom-client';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * One registry per app instance (two instances may share a test process). Besides the Prometheus
 * series, plain counters feed GET /api/system/stats for the admin dashboard.
 */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  connectedSockets: Gauge;
  /** Failures nobody expected: a 500 answer, an INTERNAL ack, or a rejection no code caught. */
  unhandledErrors: Counter<'source'>;
  domainEventsPublished: Counter<'event'>;
  /** A subscriber that threw or rejected; the publisher never sees it (src/platform/events.ts). */
  domainEventHandlerFailures: Counter<'event'>;
  /** Job attempts by outcome: completed, retrying (will run again) or failed (in the failed set). */
  jobAttempts: Counter<'queue' | 'outcome'>;
  requestCounts: { total: number; byStatusClass: Record<string, number> };
  eventLoop: IntervalHistogram;
  stop(): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const connectedSockets = new Gauge({
    name: 'socketio_connected_sockets',
    help: 'Socket.io connections open on this process',
    registers: [registry],
  });
  const unhandledErrors = new Counter({
    name: 'unhandled_errors_total',
    help: 'Unexpected errors by where they surfaced: request, socket, rejection or exception (the process keeps serving)',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const domainEventsPublished = new Counter({
    name: 'domain_events_published_total',
    help: 'Domain events published on this process',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const domainEventHandlerFailures = new Counter({
    name: 'domain_event_handler_failures_total',
    help: 'Domain event subscribers that threw or rejected',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const jobAttempts = new Counter({
    name: 'job_attempts_total',
    help: 'Background job attempts by queue and outcome (completed, retrying, failed)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  const eventLoop = monitorEventLoopDelay({ resolution: 20 });
  eventLoop.enable();
  return {
    registry,
    httpDuration,
    connectedSockets,
    unhandledErrors,
    domainEventsPublished,
    domainEventHandlerFailures,
    jobAttempts,
    requestCounts: { total: 0, byStatusClass: {} },
    eventLoop,
    stop: () => eventLoop.disable(),
  };
}

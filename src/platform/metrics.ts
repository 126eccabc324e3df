import { Registry, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * One registry per app instance (two instances may share a test process). Besides the Prometheus
 * series, plain counters feed GET /api/system/stats for the admin dashboard.
 */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  connectedSockets: Gauge;
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
  const eventLoop = monitorEventLoopDelay({ resolution: 20 });
  eventLoop.enable();
  return {
    registry,
    httpDuration,
    connectedSockets,
    requestCounts: { total: 0, byStatusClass: {} },
    eventLoop,
    stop: () => eventLoop.disable(),
  };
}

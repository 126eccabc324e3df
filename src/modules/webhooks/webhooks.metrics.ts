import { Counter, type Registry } from 'prom-client';

/** The inbox's series, on the app's registry (one inbox per app instance). */
export function createWebhooksMetrics(registry: Registry) {
  return {
    refused: new Counter({
      name: 'webhook_deliveries_refused_total',
      help: 'Webhook deliveries refused before anything was stored, by provider and reason (signature, stale, malformed, too_large, unconfigured)',
      labelNames: ['provider', 'reason'] as const,
      registers: [registry],
    }),
    received: new Counter({
      name: 'webhook_deliveries_total',
      help: 'Verified webhook deliveries by provider and result (stored, duplicate)',
      labelNames: ['provider', 'result'] as const,
      registers: [registry],
    }),
    settled: new Counter({
      name: 'webhook_events_settled_total',
      help: 'Webhook events that reached an outcome (processed, ignored, failed), by provider',
      labelNames: ['provider', 'outcome'] as const,
      registers: [registry],
    }),
  };
}

export type WebhooksMetrics = ReturnType<typeof createWebhooksMetrics>;

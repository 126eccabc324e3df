import type { Counter } from 'prom-client';
import type { Logger } from './logger';

/**
 * The domain events modules announce after the write they describe is stored. Payloads are small
 * plain objects: string ids and ISO 8601 UTC times, never a Mongoose document, never a secret.
 * A subscriber that needs more reads it through the owning module's index.ts.
 *
 * Add an event here (and to docs/architecture.md, "Domain events and jobs") before publishing it.
 */
export interface DomainEvents {
  'user.registered': { userId: string; role: string; at: string };
  'message.sent': { messageId: string; conversationId: string; senderId: string; seq: number; type: string; at: string };
  'offer.accepted': { offerId: string; conversationId: string | null; buyerId: string; vendorId: string; version: number; at: string };
  'payment.succeeded': {
    paymentId: string;
    userId: string;
    provider: string;
    amount: { amount: number; currency: string };
    at: string;
  };
}

export type DomainEventName = keyof DomainEvents;

export interface DomainEventMeta<N extends DomainEventName = DomainEventName> {
  name: N;
  publishedAt: string;
}

export type DomainEventHandler<N extends DomainEventName> = (
  payload: DomainEvents[N],
  meta: DomainEventMeta<N>,
) => void | Promise<void>;

export interface EventBus {
  /**
   * Announces an event. Never throws and never waits for subscribers: they run after the current
   * call stack, each on its own, and a failing one is logged and counted, not reported to the caller.
   */
  publish<N extends DomainEventName>(name: N, payload: DomainEvents[N]): void;
  /** Registers a handler (in the composition root); returns a function that removes it. */
  subscribe<N extends DomainEventName>(name: N, handler: DomainEventHandler<N>, options?: { name?: string }): () => void;
  /** Resolves once every handler started so far has settled (shutdown, tests). */
  drain(): Promise<void>;
}

export interface EventBusDeps {
  logger: Logger;
  metrics?: {
    domainEventsPublished: Counter<'event'>;
    domainEventHandlerFailures: Counter<'event'>;
  };
  clock?: () => Date;
}

interface Subscription {
  handler: (payload: unknown, meta: DomainEventMeta) => void | Promise<void>;
  label: string;
}

/**
 * In-process, at-most-once delivery. Work that must survive a crash does not belong in a handler
 * alone: the handler enqueues a durable job (src/platform/jobs.ts) keyed by the business id, and
 * that job's reconciliation finds what a crash between the write and the publish left undone.
 */
export function createEventBus({ logger, metrics, clock = () => new Date() }: EventBusDeps): EventBus {
  const subscriptions = new Map<DomainEventName, Subscription[]>();
  const inFlight = new Set<Promise<void>>();

  function failed(name: DomainEventName, label: string, err: unknown): void {
    metrics?.domainEventHandlerFailures.inc({ event: name });
    logger.error('A domain event subscriber failed', {
      event: name,
      subscriber: label,
      error: err instanceof Error ? err.message : String(err),
    });
  }

  function run(name: DomainEventName, subscription: Subscription, payload: unknown, meta: DomainEventMeta): void {
    const settled = new Promise<void>((resolve) => {
      setImmediate(() => {
        try {
          Promise.resolve(subscription.handler(payload, meta))
            .catch((err: unknown) => failed(name, subscription.label, err))
            .finally(resolve);
        } catch (err) {
          failed(name, subscription.label, err);
          resolve();
        }
      });
    });
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
  }

  return {
    publish(name, payload) {
      try {
        metrics?.domainEventsPublished.inc({ event: name });
        const meta: DomainEventMeta = { name, publishedAt: clock().toISOString() };
        for (const subscription of subscriptions.get(name) ?? []) run(name, subscription, payload, meta);
      } catch (err) {
        // Publishing is a side note to a write that already succeeded: it must not turn into a 500.
        logger.error('Could not publish a domain event', { event: name, error: err instanceof Error ? err.message : String(err) });
      }
    },

    subscribe(name, handler, options = {}) {
      const list = subscriptions.get(name) ?? [];
      const subscription: Subscription = {
        handler: handler as Subscription['handler'],
        label: options.name ?? (handler.name || 'anonymous'),
      };
      subscriptions.set(name, [...list, subscription]);
      return () => {
        subscriptions.set(name, (subscriptions.get(name) ?? []).filter((s) => s !== subscription));
      };
    },

    async drain() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

import type { Counter } from 'prom-client';
import type { Logger } from './logger';

/**
 * The domain events modules announce after the write they describe is stored. Payloads are small
 * plain objects: string ids and ISO 8601 UTC times, never a Mongoose document, never a secret.
 * A subscriber that needs more reads it through the owning module's index.ts.
 */

/** Money in a payload: integer minor units and an ISO 4217 currency code. */
export interface EventMoney {
  amount: number;
  currency: string;
}

/** The common part of every offer.* payload. */
export interface OfferEventPayload {
  offerId: string;
  conversationId: string;
  buyerId: string;
  vendorId: string;
  /** Who acted; null when the system did (expiry). */
  actorId: string | null;
  version: number;
  status: string;
  total: EventMoney;
  at: string;
}

export interface OrderEventPayload {
  orderId: string;
  offerId: string;
  buyerId: string;
  vendorId: string;
  total: EventMoney;
  paymentTerms: { kind: 'prepaid' | 'credit'; creditDays: number | null };
  at: string;
}

export interface PaymentEventPayload {
  paymentId: string;
  /** The paying buyer. */
  userId: string;
  vendorId: string | null;
  orderId: string | null;
  provider: string;
  amount: EventMoney;
  at: string;
}

/**
 * The one map of domain events: name → payload. Modules announce them after the write they
 * describe is stored; subscribers (wired in src/modules/index.ts) never fail the publisher.
 * Add an event here and to docs/events.md before publishing it.
 */
export interface DomainEvents {
  'user.registered': { userId: string; role: string; at: string };
  /** A new session (login, or registration): a security notice for the account's owner. */
  'session.created': { userId: string; sessionId: string; deviceName: string | null; ip: string | null; at: string };
  'password.changed': { userId: string; at: string };
  'user.suspended': { userId: string; actorId: string | null; reason: string; at: string };
  'message.sent': { messageId: string; conversationId: string; senderId: string; seq: number; type: string; at: string };
  'offer.created': OfferEventPayload;
  'offer.countered': OfferEventPayload;
  'offer.accepted': OfferEventPayload & { orderId: string };
  'offer.rejected': OfferEventPayload;
  'offer.withdrawn': OfferEventPayload;
  'offer.expired': OfferEventPayload;
  'order.created': OrderEventPayload;
  'order.status_changed': OrderEventPayload & { from: string; to: string; actorId: string | null; reason: string | null };
  'payment.succeeded': PaymentEventPayload;
  'payment.failed': PaymentEventPayload & { reason: string | null };
  'refund.created': PaymentEventPayload & { refundId: string };
  'dispute.opened': PaymentEventPayload & { disputeId: string; reason: string | null };
  'finance.credit_changed': {
    creditLineId: string;
    buyerId: string;
    vendorId: string;
    currency: string;
    limit: number;
    held: number;
    posted: number;
    available: number;
    at: string;
  };
  /** A notification reached its person on one channel (in-app at once; email, SMS or push when the provider confirms). */
  'notification.delivered': { notificationId: string; deliveryId: string; userId: string; channel: string; category: string; at: string };
  /** The recipient read a notification (one event per notification, also for read-all and bulk reads). */
  'notification.read': { notificationId: string; userId: string; category: string; at: string };
  /** A verified webhook whose processing ended in the failed set. */
  'webhook.failed': { inboxEventId: string; provider: string; type: string; attempts: number; reason: string; at: string };
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

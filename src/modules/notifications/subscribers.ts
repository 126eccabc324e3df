import type { DomainEvents, EventBus, EventMoney, OfferEventPayload } from '../../platform/events';
import type { JobQueue } from '../../platform/jobs';
import type { NotifyInput } from './notifications.types';

export interface IntakeJob {
  userId: string;
  input: NotifyInput;
}

export interface ChatMessageJob {
  messageId: string;
  conversationId: string;
  senderId: string;
  type: string;
}

/** Money for people: the currency's own minor units (INR 125000 → ₹1,250.00). */
export function formatMoney(money: EventMoney): string {
  try {
    const format = new Intl.NumberFormat('en-IN', { style: 'currency', currency: money.currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(money.amount / 10 ** digits);
  } catch {
    return `${money.amount} ${money.currency} (minor units)`;
  }
}

const OFFER_TEXT: Record<string, (o: OfferEventPayload) => { title: string; body: string }> = {
  'offer.created': (o) => ({ title: 'New offer', body: `You received an offer of ${formatMoney(o.total)}.` }),
  'offer.countered': (o) => ({ title: 'Counter-offer', body: `Your offer was countered at ${formatMoney(o.total)}.` }),
  'offer.accepted': (o) => ({ title: 'Offer accepted', body: `The offer of ${formatMoney(o.total)} was accepted.` }),
  'offer.rejected': (o) => ({ title: 'Offer rejected', body: `The offer of ${formatMoney(o.total)} was rejected.` }),
  'offer.withdrawn': (o) => ({ title: 'Offer withdrawn', body: `The offer of ${formatMoney(o.total)} was withdrawn.` }),
  'offer.expired': (o) => ({ title: 'Offer expired', body: `The offer of ${formatMoney(o.total)} expired without an answer.` }),
};

const OFFER_EVENTS = ['offer.created', 'offer.countered', 'offer.accepted', 'offer.rejected', 'offer.withdrawn', 'offer.expired'] as const;

/** The other party (or both, when the system acted). */
const othersOf = (ids: string[], actorId: string | null) => [...new Set(ids)].filter((id) => id !== actorId);

/**
 * What each domain event means to whom. Pure: the subscriber below enqueues one intake job per
 * recipient, keyed by the dedupe key, so a replayed event notifies nobody twice.
 */
export const eventNotifications = {
  offer(name: (typeof OFFER_EVENTS)[number], o: OfferEventPayload): IntakeJob[] {
    const text = OFFER_TEXT[name]!(o);
    return othersOf([o.buyerId, o.vendorId], o.actorId).map((userId) => ({
      userId,
      input: {
        category: 'offers',
        ...text,
        data: { link: `/offers/${o.offerId}`, offerId: o.offerId, conversationId: o.conversationId },
        actions: name === 'offer.created' || name === 'offer.countered' ? [{ id: 'open', label: 'View offer', kind: 'open' }] : [],
        dedupeKey: `${name}:${o.offerId}:v${o.version}`,
      },
    }));
  },

  orderStatus(o: DomainEvents['order.status_changed']): IntakeJob[] {
    return othersOf([o.buyerId, o.vendorId], o.actorId).map((userId) => ({
      userId,
      input: {
        category: 'orders',
        title: 'Order update',
        body: `Order status changed from ${o.from} to ${o.to}${o.reason ? `: ${o.reason}` : ''}.`,
        data: { link: `/orders/${o.orderId}`, orderId: o.orderId },
        dedupeKey: `order.status_changed:${o.orderId}:${o.to}:${o.at}`,
      },
    }));
  },

  payment(name: 'payment.succeeded' | 'payment.failed', p: DomainEvents['payment.failed'] | DomainEvents['payment.succeeded']): IntakeJob[] {
    const failed = name === 'payment.failed';
    const link = p.orderId ? `/orders/${p.orderId}` : `/payments/${p.paymentId}`;
    const jobs: IntakeJob[] = [
      {
        userId: p.userId,
        input: {
          category: 'finance',
          priority: failed ? 'critical' : 'normal',
          title: failed ? 'Payment failed' : 'Payment received',
          body: failed
            ? `Your payment of ${formatMoney(p.amount)} failed${'reason' in p && p.reason ? `: ${p.reason}` : ''}.`
            : `Your payment of ${formatMoney(p.amount)} succeeded.`,
          data: { link, paymentId: p.paymentId },
          dedupeKey: `${name}:${p.paymentId}`,
        },
      },
    ];
    if (!failed && p.vendorId) {
      jobs.push({
        userId: p.vendorId,
        input: {
          category: 'finance',
          title: 'Payment received',
          body: `A buyer paid ${formatMoney(p.amount)}.`,
          data: { link, paymentId: p.paymentId },
          dedupeKey: `${name}:${p.paymentId}`,
        },
      });
    }
    return jobs;
  },

  refund(r: DomainEvents['refund.created']): IntakeJob[] {
    return [
      {
        userId: r.userId,
        input: {
          category: 'finance',
          title: 'Refund issued',
          body: `A refund of ${formatMoney(r.amount)} is on its way.`,
          data: { link: `/payments/${r.paymentId}`, paymentId: r.paymentId, refundId: r.refundId },
          dedupeKey: `refund.created:${r.refundId}`,
        },
      },
    ];
  },

  dispute(d: DomainEvents['dispute.opened']): IntakeJob[] {
    return othersOf([d.userId, ...(d.vendorId ? [d.vendorId] : [])], null).map((userId) => ({
      userId,
      input: {
        category: 'finance',
        priority: 'critical',
        title: 'Payment disputed',
        body: `A dispute was opened on a payment of ${formatMoney(d.amount)}${d.reason ? `: ${d.reason}` : ''}.`,
        data: { link: `/payments/${d.paymentId}`, paymentId: d.paymentId, disputeId: d.disputeId },
        dedupeKey: `dispute.opened:${d.disputeId}`,
      },
    }));
  },

  session(s: DomainEvents['session.created']): IntakeJob[] {
    return [
      {
        userId: s.userId,
        input: {
          category: 'system',
          priority: 'critical',
          title: 'New sign-in',
          body: `Your account was signed in on ${s.deviceName ?? 'a new device'}${s.ip ? ` from ${s.ip}` : ''}. If this was not you, change your password.`,
          data: { link: '/settings/security', sessionId: s.sessionId },
          channels: ['inApp', 'push', 'email'],
          dedupeKey: `session.created:${s.sessionId}`,
        },
      },
    ];
  },

  password(p: DomainEvents['password.changed']): IntakeJob[] {
    return [
      {
        userId: p.userId,
        input: {
          category: 'system',
          priority: 'critical',
          title: 'Password changed',
          body: 'Your password was changed. If this was not you, reset it now and contact support.',
          data: { link: '/settings/security' },
          dedupeKey: `password.changed:${p.at}`,
        },
      },
    ];
  },
};

/**
 * Subscribes notifications to the bus. Handlers only enqueue durable jobs (the intake job calls
 * notify, which enqueues the channel jobs): nothing is sent on the publisher's request path.
 */
export function subscribeNotificationEvents(
  events: EventBus,
  queues: { intake: JobQueue<IntakeJob>; chat: ((message: ChatMessageJob) => Promise<void>) | null },
): () => void {
  const intake = async (jobs: IntakeJob[]) => {
    for (const job of jobs) await queues.intake.enqueue(`${job.userId}:${job.input.dedupeKey ?? ''}`, job);
  };
  const offs: Array<() => void> = [];
  const on = <N extends keyof DomainEvents>(name: N, handler: (payload: DomainEvents[N]) => Promise<void>) =>
    offs.push(events.subscribe(name, handler, { name: `notifications:${name}` }));

  for (const name of OFFER_EVENTS) on(name, (p) => intake(eventNotifications.offer(name, p)));
  on('order.status_changed', (p) => intake(eventNotifications.orderStatus(p)));
  on('payment.succeeded', (p) => intake(eventNotifications.payment('payment.succeeded', p)));
  on('payment.failed', (p) => intake(eventNotifications.payment('payment.failed', p)));
  on('refund.created', (p) => intake(eventNotifications.refund(p)));
  on('dispute.opened', (p) => intake(eventNotifications.dispute(p)));
  on('session.created', (p) => intake(eventNotifications.session(p)));
  on('password.changed', (p) => intake(eventNotifications.password(p)));
  const chat = queues.chat;
  if (chat) {
    on('message.sent', (m) => chat({ messageId: m.messageId, conversationId: m.conversationId, senderId: m.senderId, type: m.type }));
  }
  return () => offs.forEach((off) => off());
}

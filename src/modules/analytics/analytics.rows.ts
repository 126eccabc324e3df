import { randomUUID } from 'node:crypto';
import type { DomainEventName } from '../../platform/events';

/** What one analytics row holds: ids, enumerations, numbers and money; never names, emails, IPs or free text. */
export interface AnalyticsRow {
  eventId: string;
  name: string;
  occurredAt: Date;
  /** The user the event is about or who acted: DAU/MAU count these. */
  userId: string | null;
  /** The thing the event is about (offerId for offer.*, orderId for order.*, ...). */
  entityId: string | null;
  amount: number | null;
  currency: string | null;
  properties: Record<string, string | number | boolean | null>;
}

/**
 * Every domain event analytics records. A test reads the DomainEvents declarations
 * (src/platform/events.ts and src/modules/* /*.events.ts) and fails when one is missing here, so a
 * new event cannot be forgotten.
 */
export const ANALYTICS_EVENTS: readonly DomainEventName[] = [
  'user.registered',
  'session.created',
  'password.changed',
  'user.suspended',
  'message.sent',
  'offer.created',
  'offer.countered',
  'offer.accepted',
  'offer.rejected',
  'offer.withdrawn',
  'offer.expired',
  'order.created',
  'order.status_changed',
  'payment.succeeded',
  'payment.failed',
  'refund.created',
  'dispute.opened',
  'finance.credit_changed',
  'webhook.failed',
];

// Scalar fields kept besides ids: enumerations, counters and minor-unit figures. Everything else
// (reason, deviceName, ip, any text a person typed) is left out of analytics.
const KEPT_SCALARS = new Set(['role', 'type', 'status', 'provider', 'from', 'to', 'version', 'seq', 'attempts', 'currency', 'kind', 'channel', 'category', 'limit', 'held', 'posted', 'available']);
const USER_FIELDS = ['userId', 'senderId', 'actorId', 'buyerId', 'recipientId'];
const ENTITY_FIELD: Record<string, string> = { finance: 'creditLineId', webhook: 'inboxEventId', session: 'sessionId', password: 'userId' };

const isMoney = (value: unknown): value is { amount: number; currency: string } =>
  !!value && typeof value === 'object' && Number.isSafeInteger((value as { amount?: unknown }).amount) && typeof (value as { currency?: unknown }).currency === 'string';

const isScalar = (value: unknown): value is string | number | boolean | null =>
  value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));

/** Turns a domain event into its analytics row (pure; the id is made here so retries are idempotent). */
export function toAnalyticsRow(name: string, payload: unknown, publishedAt: string, makeId: () => string = randomUUID): AnalyticsRow {
  const source = (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
  const properties: AnalyticsRow['properties'] = {};
  let amount: number | null = null;
  let currency: string | null = null;
  for (const [key, value] of Object.entries(source)) {
    if (key === 'at') continue;
    if (key.endsWith('Id') && (typeof value === 'string' || value === null)) properties[key] = value;
    else if (KEPT_SCALARS.has(key) && isScalar(value)) properties[key] = typeof value === 'string' ? value.slice(0, 64) : value;
    else if (isMoney(value)) {
      if (amount === null) {
        amount = value.amount;
        currency = value.currency.slice(0, 3);
      }
      properties[`${key}Amount`] = value.amount;
      properties[`${key}Currency`] = value.currency.slice(0, 3);
    } else if (key === 'paymentTerms' && value && typeof value === 'object') {
      const kind = (value as { kind?: unknown }).kind;
      if (typeof kind === 'string') properties.paymentTermsKind = kind;
    }
  }
  const userId = USER_FIELDS.map((field) => source[field]).find((value): value is string => typeof value === 'string') ?? null;
  const prefix = name.split('.')[0] ?? '';
  const entityValue = source[ENTITY_FIELD[prefix] ?? `${prefix}Id`];
  const at = typeof source.at === 'string' ? new Date(source.at) : new Date(publishedAt);
  return {
    eventId: makeId(),
    name,
    occurredAt: Number.isNaN(at.getTime()) ? new Date(publishedAt) : at,
    userId,
    entityId: typeof entityValue === 'string' ? entityValue : null,
    amount,
    currency,
    properties,
  };
}

import { createHash, randomUUID } from 'node:crypto';
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
  'notification.delivered',
  'notification.read',
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

/** An order's lines as analytics reads them (OffersModule.orders.getOrder answers a superset). */
export interface OrderLines {
  vendorId: string;
  items: Array<{ name: string; sku: string | null; quantity: number; unit: string; lineTotal: { amount: number; currency: string } }>;
}

/** A uuid made from the order and the line's position: a line seen twice is stored once. */
function lineEventId(orderId: string, index: number): string {
  const hex = createHash('sha256').update(`order.line:${orderId}:${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/** The name of the derived rows, one per order line (not a domain event: made from order.created and the order's lines). */
export const ORDER_LINE_ROW = 'order.line';

/**
 * One row per line of a new order, for "products by volume": the product as stored on the offer
 * (its sku, else its name, trimmed and cut to 120 characters), quantity, unit and the line's value.
 * The description is left out (free text). Ids are the order's and the vendor's only.
 */
export function toOrderLineRows(order: { orderId: string; at: string }, lines: OrderLines): AnalyticsRow[] {
  const at = new Date(order.at);
  return lines.items
    .filter((item) => Number.isFinite(item.quantity))
    .map((item, index) => ({
      eventId: lineEventId(order.orderId, index),
      name: ORDER_LINE_ROW,
      occurredAt: Number.isNaN(at.getTime()) ? new Date() : at,
      userId: null,
      entityId: order.orderId,
      amount: Number.isSafeInteger(item.lineTotal?.amount) ? item.lineTotal.amount : null,
      currency: typeof item.lineTotal?.currency === 'string' ? item.lineTotal.currency.slice(0, 3) : null,
      properties: {
        orderId: order.orderId,
        vendorId: lines.vendorId,
        line: index,
        product: (item.sku?.trim() || item.name.trim()).slice(0, 120),
        sku: item.sku ? item.sku.trim().slice(0, 120) : null,
        productName: item.name.trim().slice(0, 120),
        quantity: item.quantity,
        unit: item.unit.slice(0, 32),
      },
    }));
}

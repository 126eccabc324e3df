import { defineSchema } from '../../platform/http/validate';
import { OFFER_STATUSES } from './offers.model';
import { ORDER_STATUSES } from './orders.model';
import { MAX_ITEMS } from './offer-terms';

const id = (field: string) => ({ type: 'string' as const, isMongoId: { errorMessage: `${field} must be an id` } });
const optionalId = (field: string) => ({ ...id(field), optional: true });
const param = (field: string) => ({ in: ['params' as const], ...id(field) });
const text = (field: string, min: number, max: number) => ({
  type: 'string' as const,
  trim: true,
  isLength: { options: { min, max }, errorMessage: `${field} must be ${min} to ${max} characters` },
});
const optionalText = (field: string, max: number) => ({
  type: 'string' as const,
  optional: true,
  isLength: { options: { max }, errorMessage: `${field} must be at most ${max} characters` },
});
const positiveInt = (field: string, max = Number.MAX_SAFE_INTEGER) => ({
  type: 'integer' as const,
  isInt: { options: { min: 1, max }, errorMessage: `${field} must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` of at most ${max}` : ''}` },
});
const isoTime = (field: string) => ({
  type: 'string' as const,
  optional: true,
  isISO8601: { options: { strict: true }, errorMessage: `${field} must be an ISO 8601 time` },
});
const limit = {
  type: 'integer' as const,
  in: ['query' as const],
  optional: true,
  isInt: { options: { min: 1, max: 100 }, errorMessage: 'limit must be an integer from 1 to 100' },
  toInt: true,
};
const cursor = { type: 'string' as const, in: ['query' as const], optional: true, isLength: { options: { min: 1, max: 200 }, errorMessage: 'cursor must be 1 to 200 characters' } };
const version = { version: positiveInt('version') };
const reason = { reason: optionalText('reason', 500) };

const items = {
  items: { type: 'array' as const, isArray: { options: { min: 1, max: MAX_ITEMS }, errorMessage: `items must be a list of 1 to ${MAX_ITEMS} items` } },
  'items.*': { type: 'object' as const },
  'items.*.name': text('items.*.name', 1, 200),
  'items.*.sku': optionalText('items.*.sku', 100),
  'items.*.description': optionalText('items.*.description', 1000),
  'items.*.quantity': positiveInt('items.*.quantity'),
  'items.*.unit': text('items.*.unit', 1, 20),
  'items.*.unitPrice': positiveInt('items.*.unitPrice'),
};
const deliveryDate = {
  type: 'string' as const,
  optional: true,
  matches: { options: /^\d{4}-\d{2}-\d{2}$/, errorMessage: 'delivery.date must be a date (YYYY-MM-DD)' },
  isISO8601: { options: { strict: true }, errorMessage: 'delivery.date must be a date (YYYY-MM-DD)' },
};
const creditDays = { type: 'integer' as const, optional: true, isInt: { options: { min: 1, max: 365 }, errorMessage: 'payment.creditDays must be 1 to 365' } };
const paymentKind = { type: 'string' as const, oneOf: ['prepaid', 'credit'] as const };
const attachments = {
  attachmentIds: { type: 'array' as const, optional: true, isArray: { options: { max: 10 }, errorMessage: 'attachmentIds must be a list of at most 10 ids' } },
  'attachmentIds.*': id('attachmentIds'),
};
const prose = { termsText: optionalText('termsText', 5000), notes: optionalText('notes', 2000) };

export const createOfferBody = defineSchema({
  conversationId: id('conversationId'),
  buyerId: id('buyerId'),
  vendorId: id('vendorId'),
  currency: { type: 'string', matches: { options: /^[A-Za-z]{3}$/, errorMessage: 'currency must be an ISO 4217 code' } },
  ...items,
  delivery: { type: 'object' },
  'delivery.place': text('delivery.place', 1, 200),
  'delivery.date': deliveryDate,
  'delivery.leadTimeDays': { ...positiveInt('delivery.leadTimeDays', 3650), optional: true },
  'delivery.incoterm': optionalText('delivery.incoterm', 100),
  payment: { type: 'object' },
  'payment.kind': paymentKind,
  'payment.creditDays': creditDays,
  ...prose,
  ...attachments,
  expiresAt: isoTime('expiresAt'),
});

export const idempotencyHeader = defineSchema({
  'idempotency-key': {
    type: 'string',
    in: ['headers'],
    optional: true,
    matches: { options: /^[A-Za-z0-9_:-]{1,100}$/, errorMessage: 'Idempotency-Key must be 1 to 100 letters, digits, _ : or -' },
  },
});

// A counter changes what it names and keeps the rest; nested objects it sends replace the current ones
// whole (their required parts are checked by the service, since the object itself is optional here).
export const counterBody = defineSchema({
  ...version,
  items: { ...items.items, optional: true },
  'items.*': items['items.*'],
  'items.*.name': items['items.*.name'],
  'items.*.sku': items['items.*.sku'],
  'items.*.description': items['items.*.description'],
  'items.*.quantity': items['items.*.quantity'],
  'items.*.unit': items['items.*.unit'],
  'items.*.unitPrice': items['items.*.unitPrice'],
  delivery: { type: 'object', optional: true },
  'delivery.place': { ...text('delivery.place', 1, 200), optional: true },
  'delivery.date': deliveryDate,
  'delivery.leadTimeDays': { ...positiveInt('delivery.leadTimeDays', 3650), optional: true },
  'delivery.incoterm': optionalText('delivery.incoterm', 100),
  payment: { type: 'object', optional: true },
  'payment.kind': { ...paymentKind, optional: true },
  'payment.creditDays': creditDays,
  ...prose,
  ...attachments,
  expiresAt: isoTime('expiresAt'),
});

export const offerIdParam = defineSchema({ id: param('id') });
export const versionBody = defineSchema({ ...version, ...reason });

export const listOffersQuery = defineSchema({
  status: { type: 'string', in: ['query'], optional: true, oneOf: OFFER_STATUSES },
  role: { type: 'string', in: ['query'], optional: true, oneOf: ['buyer', 'vendor'] as const },
  counterpartyId: { ...optionalId('counterpartyId'), in: ['query'] },
  conversationId: { ...optionalId('conversationId'), in: ['query'] },
  from: { ...isoTime('from'), in: ['query'] },
  to: { ...isoTime('to'), in: ['query'] },
  limit,
  cursor,
});

export const analyticsQuery = defineSchema({
  from: { ...isoTime('from'), in: ['query'] },
  to: { ...isoTime('to'), in: ['query'] },
});

export const listOrdersQuery = defineSchema({
  status: { type: 'string', in: ['query'], optional: true, oneOf: ORDER_STATUSES },
  role: { type: 'string', in: ['query'], optional: true, oneOf: ['buyer', 'vendor'] as const },
  limit,
  cursor,
});

export const orderIdParam = defineSchema({ id: param('id') });
export const orderActionBody = defineSchema({ ...version, ...reason });
export const shipBody = defineSchema({
  ...version,
  carrier: optionalText('carrier', 100),
  trackingNumber: optionalText('trackingNumber', 100),
});
export const cancelBody = defineSchema({ ...version, reason: text('reason', 1, 500) });

// Socket payloads: the same rules, with the offer they address in the payload.
const respondActions = ['accept', 'reject', 'counter', 'withdraw'] as const;
export const createOfferEvent = defineSchema({
  ...createOfferBody,
  idempotencyKey: {
    type: 'string',
    optional: true,
    matches: { options: /^[A-Za-z0-9_:-]{1,100}$/, errorMessage: 'idempotencyKey must be 1 to 100 letters, digits, _ : or -' },
  },
});
export const respondEvent = defineSchema({
  offerId: id('offerId'),
  action: { type: 'string', oneOf: respondActions },
  ...counterBody,
  ...reason,
});

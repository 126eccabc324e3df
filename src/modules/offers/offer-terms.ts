import { errors, type ErrorDetail } from '../../platform/errors';
import type { DiffEntry, Money, OfferItem, OfferTerms, PaymentTerms, DeliveryTerms } from './offers.model';

/** Terms as a client sends them (validated for type and range by offers.schemas.ts). */
export interface TermsInput {
  items: Array<{ name: string; sku?: string; description?: string; quantity: number; unit: string; unitPrice: number }>;
  delivery: { place: string; date?: string; leadTimeDays?: number; incoterm?: string };
  payment: { kind: 'prepaid' | 'credit'; creditDays?: number };
  termsText?: string;
  notes?: string;
}

export const MAX_ITEMS = 50;

/** Builds the stored terms and refuses what the schema cannot express: credit without days, overflowing totals. */
export function normaliseTerms(input: TermsInput, field = ''): Omit<OfferTerms, 'attachments'> {
  const problems: ErrorDetail[] = [];
  const at = (name: string) => (field ? `${field}.${name}` : name);
  const items: OfferItem[] = input.items.map((item) => ({
    name: item.name,
    sku: item.sku ?? null,
    description: item.description ?? null,
    quantity: item.quantity,
    unit: item.unit,
    unitPrice: item.unitPrice,
  }));
  let sum = 0;
  items.forEach((item, i) => {
    const line = item.quantity * item.unitPrice;
    sum += line;
    if (!Number.isSafeInteger(line)) problems.push({ field: at(`items[${i}]`), message: 'quantity × unitPrice is too large' });
  });
  if (!Number.isSafeInteger(sum)) problems.push({ field: at('items'), message: 'The total is too large' });
  const payment: PaymentTerms = { kind: input.payment.kind, creditDays: input.payment.kind === 'credit' ? (input.payment.creditDays ?? null) : null };
  if (payment.kind === 'credit' && payment.creditDays === null) problems.push({ field: at('payment.creditDays'), message: 'credit terms need creditDays' });
  if (input.payment.kind === 'prepaid' && input.payment.creditDays !== undefined) {
    problems.push({ field: at('payment.creditDays'), message: 'prepaid terms take no creditDays' });
  }
  const delivery: DeliveryTerms = {
    place: input.delivery.place,
    date: input.delivery.date ?? null,
    leadTimeDays: input.delivery.leadTimeDays ?? null,
    incoterm: input.delivery.incoterm ?? null,
  };
  if (delivery.date === null && delivery.leadTimeDays === null) {
    problems.push({ field: at('delivery'), message: 'delivery needs a date or a leadTimeDays' });
  }
  if (problems.length) throw errors.validation(problems);
  return { items, delivery, payment, termsText: input.termsText ?? null, notes: input.notes ?? null };
}

export function totalOf(items: OfferItem[], currency: string): Money {
  let amount = 0;
  for (const item of items) amount += item.quantity * item.unitPrice;
  if (!Number.isSafeInteger(amount)) throw errors.validation([{ field: 'items', message: 'The total is too large' }]);
  return { amount, currency };
}

/** Dotted paths to comparable leaves; items by position, attachments as their upload ids. */
function flatten(terms: OfferTerms, total: Money, expiresAt: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  terms.items.forEach((item, i) => {
    for (const [key, value] of Object.entries(item)) out.set(`items[${i}].${key}`, value);
  });
  for (const [key, value] of Object.entries(terms.delivery)) out.set(`delivery.${key}`, value);
  for (const [key, value] of Object.entries(terms.payment)) out.set(`payment.${key}`, value);
  out.set('termsText', terms.termsText);
  out.set('notes', terms.notes);
  out.set('attachments', terms.attachments.map((a) => a.uploadId));
  out.set('expiresAt', expiresAt);
  out.set('total.amount', total.amount);
  return out;
}

/** The field-by-field change from one round to the next (a field absent on one side is null there). */
export function diffRounds(
  previous: { terms: OfferTerms; total: Money; expiresAt: string },
  next: { terms: OfferTerms; total: Money; expiresAt: string },
): DiffEntry[] {
  const a = flatten(previous.terms, previous.total, previous.expiresAt);
  const b = flatten(next.terms, next.total, next.expiresAt);
  const fields = [...new Set([...a.keys(), ...b.keys()])];
  const diff: DiffEntry[] = [];
  for (const field of fields) {
    const from = a.has(field) ? a.get(field) : null;
    const to = b.has(field) ? b.get(field) : null;
    if (JSON.stringify(from) !== JSON.stringify(to)) diff.push({ field, from: from ?? null, to: to ?? null });
  }
  return diff;
}

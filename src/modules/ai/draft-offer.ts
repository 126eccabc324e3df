/** The offers module's item shape (src/modules/offers/offers.schemas.ts): money in integer minor units. */
export interface DraftOfferItem {
  name: string;
  sku?: string;
  description?: string;
  quantity: number;
  unit: string;
  unitPrice: number;
}

export interface DraftOffer {
  items: DraftOfferItem[];
  /** ISO 4217, when the provider gave one; every item is priced in it. */
  currency?: string;
}

/** As many items as an offer may carry (offers' MAX_ITEMS). */
export const MAX_DRAFT_ITEMS = 50;
const CURRENCY = /^[A-Za-z]{3}$/;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const positiveInt = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 1;

function text(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const cleaned = value.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return cleaned.length >= 1 && cleaned.length <= max ? cleaned : null;
}

function currencyOf(value: unknown): string | null {
  return typeof value === 'string' && CURRENCY.test(value) ? value.toUpperCase() : null;
}

/**
 * The provider's extracted catalogue as a draft offer's items, never trusting its shape: an item
 * is kept only with a name (≤ 200), a price as a positive integer in minor units (`unitPrice:
 * 1250` or `{ amount, currency }`), and — when given — a positive integer quantity and a unit of
 * ≤ 20 characters (absent: 1 and "unit"); sku (≤ 100) and description (≤ 1000) are kept when
 * valid and left out when not. Every item must be in one currency (the output's `currency`, else
 * the first priced item's); an item in another, a malformed one, and any past the 50th are
 * dropped and counted.
 */
export function toDraftOffer(output: unknown): { draftOffer: DraftOffer; droppedItems: number } {
  const raw = isRecord(output) && Array.isArray(output.items) ? output.items : [];
  let currency = isRecord(output) ? currencyOf(output.currency) : null;
  const items: DraftOfferItem[] = [];
  let droppedItems = 0;
  for (const candidate of raw) {
    const item = normaliseItem(candidate);
    if (!item || items.length >= MAX_DRAFT_ITEMS) {
      droppedItems += 1;
      continue;
    }
    if (item.currency) {
      currency ??= item.currency;
      if (item.currency !== currency) {
        droppedItems += 1;
        continue;
      }
    }
    items.push(item.item);
  }
  return { draftOffer: currency ? { items, currency } : { items }, droppedItems };
}

function normaliseItem(candidate: unknown): { item: DraftOfferItem; currency: string | null } | null {
  if (!isRecord(candidate)) return null;
  const name = text(candidate.name, 200);
  if (!name) return null;
  let unitPrice: unknown = candidate.unitPrice;
  let currency = currencyOf(candidate.currency);
  if (isRecord(unitPrice)) {
    if (unitPrice.currency !== undefined) {
      currency = currencyOf(unitPrice.currency);
      if (!currency) return null;
    }
    unitPrice = unitPrice.amount;
  }
  if (!positiveInt(unitPrice)) return null;
  const quantity = candidate.quantity === undefined ? 1 : candidate.quantity;
  if (!positiveInt(quantity)) return null;
  const unit = candidate.unit === undefined ? 'unit' : text(candidate.unit, 20);
  if (!unit) return null;
  const item: DraftOfferItem = { name, quantity, unit, unitPrice };
  const sku = text(candidate.sku, 100);
  if (sku) item.sku = sku;
  const description = text(candidate.description, 1000);
  if (description) item.description = description;
  return { item, currency };
}

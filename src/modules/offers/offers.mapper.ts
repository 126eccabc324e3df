import type { OfferEventPayload, OrderEventPayload } from '../../platform/events';
import type { DiffEntry, Money, OfferDoc, OfferRound, OfferStatus, OfferTerms } from './offers.model';
import type { OrderDoc, OrderHistoryEntry, OrderStatus, Shipment, ShipmentEvent } from './orders.model';

export interface OfferItemView {
  name: string;
  sku: string | null;
  description: string | null;
  quantity: number;
  unit: string;
  unitPrice: Money;
  lineTotal: Money;
}

export interface OfferRoundView {
  version: number;
  action: 'create' | 'counter';
  proposedBy: string;
  at: string;
  items: OfferItemView[];
  delivery: OfferTerms['delivery'];
  payment: OfferTerms['payment'];
  termsText: string | null;
  notes: string | null;
  attachments: OfferTerms['attachments'];
  total: Money;
  expiresAt: string;
  diff: DiffEntry[];
}

export interface OfferView {
  id: string;
  conversationId: string;
  buyerId: string;
  vendorId: string;
  createdBy: string;
  status: OfferStatus;
  /** Whose move it is (accept, reject or counter); null once closed. */
  turn: string | null;
  /** The proposer of the current round: the only party who may withdraw it. */
  proposedBy: string;
  version: number;
  currency: string;
  items: OfferItemView[];
  delivery: OfferTerms['delivery'];
  payment: OfferTerms['payment'];
  termsText: string | null;
  notes: string | null;
  attachments: OfferTerms['attachments'];
  total: Money;
  expiresAt: string;
  roundCount: number;
  /** Every round, oldest first (GET /:id and transitions; lists leave them out). */
  rounds?: OfferRoundView[];
  orderId: string | null;
  closedAt: string | null;
  closedBy: string | null;
  closeReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A carrier event as a party sees it (the provider's event id stays inside). */
export type ShipmentEventView = Omit<ShipmentEvent, 'eventId'>;

export interface ShipmentView extends Omit<Shipment, 'timeline' | 'lastLocation'> {
  lastLocation: string | null;
  /** Oldest first by carrier time (GET /orders/:id and order steps; lists leave it out). */
  timeline?: ShipmentEventView[];
}

export interface OrderView {
  id: string;
  offerId: string;
  conversationId: string;
  buyerId: string;
  vendorId: string;
  status: OrderStatus;
  version: number;
  currency: string;
  items: OfferItemView[];
  total: Money;
  delivery: OfferTerms['delivery'];
  payment: OfferTerms['payment'];
  termsText: string | null;
  shipment: ShipmentView;
  cancelReason: string | null;
  history: OrderHistoryEntry[];
  createdAt: string;
  updatedAt: string;
}

const iso = (date: Date | string | null | undefined) => (date ? new Date(date).toISOString() : null);

/** True when an offer still open on paper is past its expiry at `now` (it accepts nothing). */
export const isDue = (offer: Pick<OfferDoc, 'live' | 'expiresAt'>, now: Date) => offer.live && new Date(offer.expiresAt).getTime() <= now.getTime();

function itemViews(terms: OfferTerms, currency: string): OfferItemView[] {
  return terms.items.map((item) => ({
    name: item.name,
    sku: item.sku,
    description: item.description,
    quantity: item.quantity,
    unit: item.unit,
    unitPrice: { amount: item.unitPrice, currency },
    lineTotal: { amount: item.quantity * item.unitPrice, currency },
  }));
}

function roundView(round: OfferRound, currency: string): OfferRoundView {
  return {
    version: round.version,
    action: round.action,
    proposedBy: round.proposedBy,
    at: round.at,
    items: itemViews(round.terms, currency),
    delivery: round.terms.delivery,
    payment: round.terms.payment,
    termsText: round.terms.termsText,
    notes: round.terms.notes,
    attachments: round.terms.attachments,
    total: round.total,
    expiresAt: round.expiresAt,
    diff: round.diff,
  };
}

/** An offer past its expiry reads as expired even before the sweep has written it (expiry is checked on every read). */
export function toOfferView(doc: OfferDoc, now: Date, options: { rounds?: boolean } = {}): OfferView {
  const due = isDue(doc, now);
  const last = doc.rounds[doc.rounds.length - 1];
  return {
    id: String(doc._id),
    conversationId: doc.conversationId,
    buyerId: doc.buyerId,
    vendorId: doc.vendorId,
    createdBy: doc.createdBy,
    status: due ? 'expired' : doc.status,
    turn: due ? null : doc.turn,
    proposedBy: last?.proposedBy ?? doc.createdBy,
    version: doc.version,
    currency: doc.currency,
    items: itemViews(doc.terms, doc.currency),
    delivery: doc.terms.delivery,
    payment: doc.terms.payment,
    termsText: doc.terms.termsText,
    notes: doc.terms.notes,
    attachments: doc.terms.attachments,
    total: doc.total,
    expiresAt: new Date(doc.expiresAt).toISOString(),
    roundCount: doc.roundCount,
    ...(options.rounds === false ? {} : { rounds: doc.rounds.map((round) => roundView(round, doc.currency)) }),
    orderId: doc.orderId,
    closedAt: due ? new Date(doc.expiresAt).toISOString() : iso(doc.closedAt),
    closedBy: due ? null : doc.closedBy,
    closeReason: doc.closeReason ?? null,
    createdAt: iso(doc.createdAt) ?? new Date(0).toISOString(),
    updatedAt: iso(doc.updatedAt) ?? new Date(0).toISOString(),
  };
}

function shipmentView(shipment: Shipment, withTimeline: boolean): ShipmentView {
  const { timeline, ...summary } = shipment;
  return {
    ...summary,
    lastLocation: summary.lastLocation ?? null,
    ...(withTimeline ? { timeline: (timeline ?? []).map(({ eventId: _eventId, ...event }) => event) } : {}),
  };
}

export function toOrderView(doc: OrderDoc, options: { timeline?: boolean } = {}): OrderView {
  return {
    id: String(doc._id),
    offerId: doc.offerId,
    conversationId: doc.conversationId,
    buyerId: doc.buyerId,
    vendorId: doc.vendorId,
    status: doc.status,
    version: doc.version,
    currency: doc.currency,
    items: itemViews({ items: doc.items } as OfferTerms, doc.currency),
    total: doc.total,
    delivery: doc.delivery,
    payment: doc.payment,
    termsText: doc.termsText,
    shipment: shipmentView(doc.shipment, options.timeline !== false),
    cancelReason: doc.cancelReason,
    history: doc.history,
    createdAt: iso(doc.createdAt) ?? new Date(0).toISOString(),
    updatedAt: iso(doc.updatedAt) ?? new Date(0).toISOString(),
  };
}

export function offerEventPayload(doc: OfferDoc, actorId: string | null, at: Date): OfferEventPayload {
  return {
    offerId: String(doc._id),
    conversationId: doc.conversationId,
    buyerId: doc.buyerId,
    vendorId: doc.vendorId,
    actorId,
    version: doc.version,
    status: doc.status,
    total: doc.total,
    at: at.toISOString(),
  };
}

export function orderEventPayload(doc: OrderDoc, at: Date): OrderEventPayload {
  return {
    orderId: String(doc._id),
    offerId: doc.offerId,
    buyerId: doc.buyerId,
    vendorId: doc.vendorId,
    total: doc.total,
    paymentTerms: { kind: doc.payment.kind, creditDays: doc.payment.creditDays },
    at: at.toISOString(),
  };
}

/** What an offer message in the conversation carries: enough for a chat bubble, the offer itself by id. */
export function offerSummary(doc: OfferDoc, action: string) {
  const last = doc.rounds[doc.rounds.length - 1];
  return {
    offerId: String(doc._id),
    version: doc.version,
    action,
    status: doc.status,
    turn: doc.turn,
    proposedBy: last?.proposedBy ?? doc.createdBy,
    total: doc.total,
    itemCount: doc.terms.items.length,
    firstItem: doc.terms.items[0]?.name ?? null,
    payment: doc.terms.payment,
    expiresAt: new Date(doc.expiresAt).toISOString(),
    orderId: doc.orderId,
  };
}

import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { DeliveryTerms, Money, OfferItem, PaymentTerms } from './offers.model';

export type OrderStatus = 'placed' | 'confirmed' | 'shipped' | 'delivered' | 'completed' | 'cancelled';
export const ORDER_STATUSES: OrderStatus[] = ['placed', 'confirmed', 'shipped', 'delivered', 'completed', 'cancelled'];
/** Forward order of the fulfilment path; `cancelled` stands outside it. */
export const ORDER_RANK: Record<OrderStatus, number> = { placed: 0, confirmed: 1, shipped: 2, delivered: 3, completed: 4, cancelled: 99 };

export interface OrderHistoryEntry {
  from: OrderStatus | null;
  to: OrderStatus;
  /** Null when a carrier's callback moved it. */
  actorId: string | null;
  source: 'party' | 'logistics' | 'admin';
  reason: string | null;
  at: string;
}

/** One carrier event as the carrier reported it (stored once per provider event id). */
export interface ShipmentEvent {
  /** The provider's id for the event: the timeline's dedupe key. */
  eventId: string;
  /** The carrier's own status: created, picked_up, in_transit, out_for_delivery, delivered, failed, returned. */
  status: string;
  carrier: string;
  trackingNumber: string | null;
  location: string | null;
  /** The carrier's time for the event (ISO): the timeline is ordered by it, never by arrival. */
  at: string;
  receivedAt: string;
}

/** The summary is derived from the timeline's latest event by carrier time (or the vendor's ship step before any event). */
export interface Shipment {
  carrier: string | null;
  trackingNumber: string | null;
  lastStatus: string | null;
  lastUpdateAt: string | null;
  lastLocation?: string | null;
  /** Oldest first by carrier time; at most SHIPMENT_TIMELINE_MAX (the latest ones). Absent on orders from before timelines. */
  timeline?: ShipmentEvent[];
}

/** An order keeps this many carrier events (the latest by carrier time): a document stays small whatever a carrier sends. */
export const SHIPMENT_TIMELINE_MAX = 100;

export interface OrderDoc {
  _id: Types.ObjectId;
  /** Unique: one acceptance makes exactly one order. */
  offerId: string;
  conversationId: string;
  buyerId: string;
  vendorId: string;
  parties: string[];
  currency: string;
  items: OfferItem[];
  total: Money;
  delivery: DeliveryTerms;
  payment: PaymentTerms;
  termsText: string | null;
  status: OrderStatus;
  version: number;
  history: OrderHistoryEntry[];
  shipment: Shipment;
  cancelReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const orderSchema = new Schema<OrderDoc>(
  {
    offerId: { type: String, required: true },
    conversationId: { type: String, required: true },
    buyerId: { type: String, required: true },
    vendorId: { type: String, required: true },
    parties: { type: [String], required: true },
    currency: { type: String, required: true },
    items: { type: Schema.Types.Mixed, required: true },
    total: { type: Schema.Types.Mixed, required: true },
    delivery: { type: Schema.Types.Mixed, required: true },
    payment: { type: Schema.Types.Mixed, required: true },
    termsText: { type: String, default: null },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    version: { type: Number, required: true },
    history: { type: Schema.Types.Mixed, default: () => [] },
    shipment: { type: Schema.Types.Mixed, required: true },
    cancelReason: { type: String, default: null },
  },
  { collection: 'offer_orders', timestamps: true, versionKey: false, minimize: false },
);
orderSchema.index({ offerId: 1 }, { unique: true });
orderSchema.index({ parties: 1, _id: -1 });
orderSchema.index({ status: 1, _id: -1 });

export function getOrderModel(mongo: Connection): Model<OrderDoc> {
  return (mongo.models.OfferOrder as Model<OrderDoc>) ?? mongo.model('OfferOrder', orderSchema);
}

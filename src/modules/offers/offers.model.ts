import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Attachment } from '../uploads';

export type OfferStatus = 'open' | 'countered' | 'accepted' | 'rejected' | 'withdrawn' | 'expired';
export const OFFER_STATUSES: OfferStatus[] = ['open', 'countered', 'accepted', 'rejected', 'withdrawn', 'expired'];
export const LIVE_STATUSES: OfferStatus[] = ['open', 'countered'];
export type OfferAction = 'create' | 'counter' | 'accept' | 'reject' | 'withdraw' | 'expire';

export interface Money {
  amount: number;
  currency: string;
}

export interface OfferItem {
  name: string;
  sku: string | null;
  description: string | null;
  quantity: number;
  unit: string;
  /** Integer minor units per unit. */
  unitPrice: number;
}

export interface DeliveryTerms {
  place: string;
  /** ISO date (YYYY-MM-DD) by which goods arrive, or null when a lead time is given instead. */
  date: string | null;
  leadTimeDays: number | null;
  /** Incoterm-like text ("DAP Pune"). */
  incoterm: string | null;
}

export interface PaymentTerms {
  kind: 'prepaid' | 'credit';
  creditDays: number | null;
}

/** What a round proposes. The offer's currency is fixed at creation and shared by every round. */
export interface OfferTerms {
  items: OfferItem[];
  delivery: DeliveryTerms;
  payment: PaymentTerms;
  termsText: string | null;
  notes: string | null;
  attachments: Attachment[];
}

export interface DiffEntry {
  field: string;
  from: unknown;
  to: unknown;
}

export interface OfferRound {
  version: number;
  action: 'create' | 'counter';
  proposedBy: string;
  at: string;
  terms: OfferTerms;
  total: Money;
  expiresAt: string;
  /** Field by field against the previous round; empty for the first. */
  diff: DiffEntry[];
}

export interface OfferDoc {
  _id: Types.ObjectId;
  conversationId: string;
  buyerId: string;
  vendorId: string;
  /** Both ids: "offers I am in" is one equality. */
  parties: string[];
  createdBy: string;
  currency: string;
  /** The current round's terms and total (the last element of `rounds`). */
  terms: OfferTerms;
  total: Money;
  firstTotal: Money;
  status: OfferStatus;
  /** True while open or countered: the expiry sweep's equality. */
  live: boolean;
  /** Whose move it is; null once closed. */
  turn: string | null;
  version: number;
  expiresAt: Date;
  rounds: OfferRound[];
  roundCount: number;
  orderId: string | null;
  closedAt: Date | null;
  closedBy: string | null;
  /** Why it was rejected or withdrawn, when the party said. */
  closeReason: string | null;
  acceptedAt: Date | null;
  /** SHA-256 of the create request, when it came with an Idempotency-Key (its retry must match). */
  requestHash: string | null;
  /** When the first round was proposed, by the app's clock (analytics measure from it). */
  openedAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

const offerSchema = new Schema<OfferDoc>(
  {
    conversationId: { type: String, required: true },
    buyerId: { type: String, required: true },
    vendorId: { type: String, required: true },
    parties: { type: [String], required: true },
    createdBy: { type: String, required: true },
    currency: { type: String, required: true },
    terms: { type: Schema.Types.Mixed, required: true },
    total: { type: Schema.Types.Mixed, required: true },
    firstTotal: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: OFFER_STATUSES, required: true },
    live: { type: Boolean, required: true },
    turn: { type: String, default: null },
    version: { type: Number, required: true },
    expiresAt: { type: Date, required: true },
    rounds: { type: Schema.Types.Mixed, default: () => [] },
    roundCount: { type: Number, required: true },
    orderId: { type: String, default: null },
    closedAt: { type: Date, default: null },
    closedBy: { type: String, default: null },
    closeReason: { type: String, default: null },
    acceptedAt: { type: Date, default: null },
    requestHash: { type: String, default: null },
    openedAt: { type: Date, required: true },
  },
  { collection: 'offers', timestamps: true, versionKey: false, minimize: false },
);
offerSchema.index({ parties: 1, _id: -1 });
offerSchema.index({ conversationId: 1, _id: -1 });
offerSchema.index({ live: 1, expiresAt: 1 });

export function getOfferModel(mongo: Connection): Model<OfferDoc> {
  return (mongo.models.Offer as Model<OfferDoc>) ?? mongo.model('Offer', offerSchema);
}

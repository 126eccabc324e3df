import { Schema, type Connection, type Model } from 'mongoose';

export type AccountKind = 'line' | 'vendor' | 'clearing';
export type LineStatus = 'active' | 'frozen';
export type TransferKind = 'hold' | 'post' | 'void' | 'charge' | 'payment' | 'refund' | 'adjustment' | 'reversal' | 'dispute';
export const TRANSFER_KINDS: TransferKind[] = ['hold', 'post', 'void', 'charge', 'payment', 'refund', 'adjustment', 'reversal', 'dispute'];

/**
 * A ledger account. Balances are TigerBeetle's four sums and are only ever moved by applying a
 * transfer, under the account's lock, in the same update that advances `lastSeq` (the number of
 * the last transfer applied). So a document is always "the sum of its transfers 1..lastSeq"; a
 * stored transfer numbered lastSeq + 1 was written by a writer that crashed before applying it.
 */
export interface AccountDoc {
  _id: string;
  kind: AccountKind;
  currency: string;
  buyerId: string | null;
  vendorId: string | null;
  provider: string | null;
  /** Users who may see the account (buyer and vendor of a line; the vendor of its account). */
  partyIds: string[];
  limit: number;
  creditDays: number;
  status: LineStatus;
  statusReason: string | null;
  debitsPending: number;
  debitsPosted: number;
  creditsPending: number;
  creditsPosted: number;
  lastSeq: number;
  lastTransferId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An immutable ledger transfer. Its `_id` is its idempotency key. */
export interface TransferDoc {
  _id: string;
  kind: TransferKind;
  debitAccountId: string;
  creditAccountId: string;
  amount: number;
  currency: string;
  /** A pending transfer (hold, dispute freeze) reserves the amount until posted or voided. */
  pending: boolean;
  /** For a post or void: the pending transfer it resolves (its own id is `resolve:<pendingId>`). */
  pendingId: string | null;
  resolution: 'post' | 'void' | null;
  /** This transfer's number in the debit account and in the credit account. */
  debitSeq: number;
  creditSeq: number;
  referenceType: string;
  referenceId: string;
  actorId: string | null;
  partyIds: string[];
  /** A posted charge on a credit line is due then. */
  dueAt: Date | null;
  memo: string | null;
  at: Date;
}

export interface HoldDoc {
  /** The offer id: one hold per offer. */
  _id: string;
  transferId: string;
  lineId: string;
  vendorAccountId: string;
  buyerId: string;
  vendorId: string;
  amount: number;
  currency: string;
  creditDays: number;
  status: 'open' | 'posted' | 'voided';
  orderId: string | null;
  reason: string | null;
  /** The order's delivery deadline, once its order is known (null before, or when its terms name none). */
  deadlineAt: Date | null;
  /** deadlineAt + FINANCE_HOLD_GRACE_DAYS; before the order is known, placement + the grace days. */
  expiresAt: Date;
  createdAt: Date;
  resolvedAt: Date | null;
}

export type PaymentStatus = 'created' | 'processing' | 'succeeded' | 'failed' | 'cancelled' | 'refunded' | 'disputed';
export type Provider = 'stripe' | 'razorpay' | 'payu';
export const PROVIDERS: Provider[] = ['stripe', 'razorpay', 'payu'];

export interface PaymentDoc {
  _id: string;
  /** `<userId>:<Idempotency-Key>`, unique. */
  idempotencyKey: string;
  requestHash: string;
  userId: string;
  vendorId: string;
  /** The payer and the vendor (the admin lists' user filter). */
  partyIds: string[];
  orderId: string | null;
  /** The credit line the payment is credited to; null: the vendor's account (a prepaid order). */
  lineId: string | null;
  provider: Provider;
  amount: number;
  currency: string;
  status: PaymentStatus;
  version: number;
  providerRef: string | null;
  providerPaymentId: string | null;
  /** What the client needs to complete the payment (client secret, order id, form parameters). */
  checkout: Record<string, unknown> | null;
  refundedAmount: number;
  /** Refunds accepted but not yet confirmed by the provider. */
  refundReserved: number;
  disputedAmount: number;
  flags: Array<{ reason: string; at: Date; eventId: string }>;
  failureReason: string | null;
  succeededAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface RefundDoc {
  _id: string;
  /** `<paymentId>:<Idempotency-Key>`, unique. */
  idempotencyKey: string;
  paymentId: string;
  /** The payment's provider and parties (payer, vendor), copied for the admin lists' filters. */
  provider: Provider;
  partyIds: string[];
  amount: number;
  currency: string;
  reason: string | null;
  status: 'pending' | 'succeeded' | 'failed';
  providerRef: string | null;
  actorId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface DisputeDoc {
  /** `<provider>:<provider's dispute id>`. */
  _id: string;
  paymentId: string;
  provider: Provider;
  amount: number;
  currency: string;
  reason: string | null;
  status: 'open' | 'won' | 'lost';
  partyIds: string[];
  openedAt: Date;
  closedAt: Date | null;
}

export interface ReconciliationDoc {
  _id: string;
  at: Date;
  accounts: number;
  transfers: number;
  differences: Array<{ accountId: string; field: string; stored: number; derived: number }>;
  unbalancedCurrencies: string[];
}

const str = { type: String, default: null };
const accountSchema = new Schema<AccountDoc>(
  {
    _id: String,
    kind: { type: String, required: true },
    currency: { type: String, required: true },
    buyerId: str,
    vendorId: str,
    provider: str,
    partyIds: { type: [String], default: [] },
    limit: { type: Number, default: 0 },
    creditDays: { type: Number, default: 0 },
    status: { type: String, default: 'active' },
    statusReason: str,
    debitsPending: { type: Number, default: 0 },
    debitsPosted: { type: Number, default: 0 },
    creditsPending: { type: Number, default: 0 },
    creditsPosted: { type: Number, default: 0 },
    lastSeq: { type: Number, default: 0 },
    lastTransferId: str,
  },
  { collection: 'finance_accounts', versionKey: false, timestamps: true },
);
accountSchema.index({ partyIds: 1 });
accountSchema.index({ kind: 1 });

const transferSchema = new Schema<TransferDoc>(
  {
    _id: String,
    kind: { type: String, required: true },
    debitAccountId: { type: String, required: true },
    creditAccountId: { type: String, required: true },
    amount: { type: Number, required: true },
    currency: { type: String, required: true },
    pending: { type: Boolean, default: false },
    pendingId: str,
    resolution: str,
    debitSeq: { type: Number, required: true },
    creditSeq: { type: Number, required: true },
    referenceType: { type: String, required: true },
    referenceId: { type: String, required: true },
    actorId: str,
    partyIds: { type: [String], default: [] },
    dueAt: { type: Date, default: null },
    memo: str,
    at: { type: Date, required: true },
  },
  { collection: 'finance_transfers', versionKey: false },
);
transferSchema.index({ partyIds: 1, at: -1 });
transferSchema.index({ debitAccountId: 1, debitSeq: 1 }, { unique: true });
transferSchema.index({ creditAccountId: 1, creditSeq: 1 }, { unique: true });
transferSchema.index({ referenceId: 1 });

const holdSchema = new Schema<HoldDoc>(
  {
    _id: String,
    transferId: String,
    lineId: String,
    vendorAccountId: String,
    buyerId: String,
    vendorId: String,
    amount: Number,
    currency: String,
    creditDays: Number,
    status: { type: String, default: 'open' },
    orderId: str,
    reason: str,
    deadlineAt: { type: Date, default: null },
    expiresAt: Date,
    createdAt: Date,
    resolvedAt: { type: Date, default: null },
  },
  { collection: 'finance_holds', versionKey: false },
);
holdSchema.index({ status: 1, expiresAt: 1 });
holdSchema.index({ orderId: 1 });
holdSchema.index({ status: 1, createdAt: 1 });

const paymentSchema = new Schema<PaymentDoc>(
  {
    _id: String,
    idempotencyKey: { type: String, required: true, unique: true },
    requestHash: String,
    userId: String,
    vendorId: String,
    partyIds: { type: [String], default: [] },
    orderId: str,
    lineId: str,
    provider: String,
    amount: Number,
    currency: String,
    status: String,
    version: { type: Number, default: 0 },
    providerRef: str,
    providerPaymentId: str,
    checkout: { type: Schema.Types.Mixed, default: null },
    refundedAmount: { type: Number, default: 0 },
    refundReserved: { type: Number, default: 0 },
    disputedAmount: { type: Number, default: 0 },
    flags: { type: [{ _id: false, reason: String, at: Date, eventId: String }], default: [] },
    failureReason: str,
    succeededAt: { type: Date, default: null },
  },
  { collection: 'finance_payments', versionKey: false, timestamps: true },
);
paymentSchema.index({ providerRef: 1 });
paymentSchema.index({ providerPaymentId: 1 });
paymentSchema.index({ userId: 1 });
paymentSchema.index({ vendorId: 1 });
// The admin lists: newest first, by status, provider or party.
paymentSchema.index({ createdAt: -1, _id: -1 });
paymentSchema.index({ status: 1, createdAt: -1 });
paymentSchema.index({ provider: 1, createdAt: -1 });
paymentSchema.index({ partyIds: 1, createdAt: -1 });

const refundSchema = new Schema<RefundDoc>(
  {
    _id: String,
    idempotencyKey: { type: String, required: true, unique: true },
    paymentId: String,
    provider: String,
    partyIds: { type: [String], default: [] },
    amount: Number,
    currency: String,
    reason: str,
    status: String,
    providerRef: str,
    actorId: String,
  },
  { collection: 'finance_refunds', versionKey: false, timestamps: true },
);
refundSchema.index({ paymentId: 1 });
refundSchema.index({ status: 1 });
refundSchema.index({ createdAt: -1, _id: -1 });
refundSchema.index({ status: 1, createdAt: -1 });
refundSchema.index({ provider: 1, createdAt: -1 });
refundSchema.index({ partyIds: 1, createdAt: -1 });

const disputeSchema = new Schema<DisputeDoc>(
  {
    _id: String,
    paymentId: String,
    provider: String,
    amount: Number,
    currency: String,
    reason: str,
    status: String,
    partyIds: { type: [String], default: [] },
    openedAt: Date,
    closedAt: { type: Date, default: null },
  },
  { collection: 'finance_disputes', versionKey: false },
);
disputeSchema.index({ paymentId: 1 });
disputeSchema.index({ partyIds: 1 });
disputeSchema.index({ openedAt: -1, _id: -1 });
disputeSchema.index({ status: 1, openedAt: -1 });
disputeSchema.index({ provider: 1, openedAt: -1 });
disputeSchema.index({ partyIds: 1, openedAt: -1 });

const reconciliationSchema = new Schema<ReconciliationDoc>(
  {
    _id: String,
    at: Date,
    accounts: Number,
    transfers: Number,
    differences: { type: [{ _id: false, accountId: String, field: String, stored: Number, derived: Number }], default: [] },
    unbalancedCurrencies: { type: [String], default: [] },
  },
  { collection: 'finance_reconciliations', versionKey: false },
);
reconciliationSchema.index({ at: -1 });

export interface FinanceModels {
  Account: Model<AccountDoc>;
  Transfer: Model<TransferDoc>;
  Hold: Model<HoldDoc>;
  Payment: Model<PaymentDoc>;
  Refund: Model<RefundDoc>;
  Dispute: Model<DisputeDoc>;
  Reconciliation: Model<ReconciliationDoc>;
}

function model<T>(mongo: Connection, name: string, schema: Schema<T>): Model<T> {
  return (mongo.models[name] as Model<T> | undefined) ?? mongo.model<T>(name, schema);
}

export function getFinanceModels(mongo: Connection): FinanceModels {
  return {
    Account: model(mongo, 'FinanceAccount', accountSchema),
    Transfer: model(mongo, 'FinanceTransfer', transferSchema),
    Hold: model(mongo, 'FinanceHold', holdSchema),
    Payment: model(mongo, 'FinancePayment', paymentSchema),
    Refund: model(mongo, 'FinanceRefund', refundSchema),
    Dispute: model(mongo, 'FinanceDispute', disputeSchema),
    Reconciliation: model(mongo, 'FinanceReconciliation', reconciliationSchema),
  };
}

/** Account ids say what they are; a line is one per (buyer, vendor, currency). */
export const accountIds = {
  line: (buyerId: string, vendorId: string, currency: string) => `line:${buyerId}:${vendorId}:${currency}`,
  vendor: (vendorId: string, currency: string) => `vendor:${vendorId}:${currency}`,
  clearing: (provider: string, currency: string) => `clearing:${provider}:${currency}`,
};

import { lineBalances } from './finance.events';
import type { AccountDoc, DisputeDoc, PaymentDoc, RefundDoc, TransferDoc } from './finance.model';

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export function toAccountView(account: AccountDoc, userId: string | null) {
  const balances = lineBalances(account);
  return {
    id: account._id,
    kind: account.kind,
    role: userId === account.buyerId ? 'buyer' : userId === account.vendorId ? 'vendor' : null,
    buyerId: account.buyerId,
    vendorId: account.vendorId,
    currency: account.currency,
    status: account.status,
    statusReason: account.statusReason,
    creditDays: account.creditDays,
    limit: { amount: account.limit, currency: account.currency },
    posted: { amount: balances.posted, currency: account.currency },
    held: { amount: balances.held, currency: account.currency },
    available: { amount: balances.available, currency: account.currency },
    balances: {
      debitsPending: account.debitsPending,
      debitsPosted: account.debitsPosted,
      creditsPending: account.creditsPending,
      creditsPosted: account.creditsPosted,
      lastSeq: account.lastSeq,
    },
    createdAt: iso(account.createdAt),
  };
}

export function toTransferView(t: TransferDoc) {
  return {
    id: t._id,
    kind: t.kind,
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amount: { amount: t.amount, currency: t.currency },
    pending: t.pending,
    pendingId: t.pendingId,
    resolution: t.resolution,
    debitSeq: t.debitSeq,
    creditSeq: t.creditSeq,
    reference: { type: t.referenceType, id: t.referenceId },
    actorId: t.actorId,
    dueAt: iso(t.dueAt),
    memo: t.memo,
    at: iso(t.at),
  };
}

export function toRefundView(r: RefundDoc) {
  return { id: r._id, paymentId: r.paymentId, amount: { amount: r.amount, currency: r.currency }, reason: r.reason, status: r.status, actorId: r.actorId, createdAt: iso(r.createdAt) };
}

export function toDisputeView(d: DisputeDoc) {
  return { id: d._id, paymentId: d.paymentId, provider: d.provider, amount: { amount: d.amount, currency: d.currency }, reason: d.reason, status: d.status, openedAt: iso(d.openedAt), closedAt: iso(d.closedAt) };
}

export function toPaymentView(p: PaymentDoc, extra: { refunds?: RefundDoc[]; disputes?: DisputeDoc[]; includeCheckout?: boolean } = {}) {
  return {
    id: p._id,
    userId: p.userId,
    vendorId: p.vendorId,
    orderId: p.orderId,
    creditLineId: p.lineId,
    provider: p.provider,
    amount: { amount: p.amount, currency: p.currency },
    status: p.status,
    version: p.version,
    refunded: { amount: p.refundedAmount, currency: p.currency },
    disputed: { amount: p.disputedAmount, currency: p.currency },
    flags: p.flags.map((f) => ({ reason: f.reason, at: iso(f.at), eventId: f.eventId })),
    failureReason: p.failureReason,
    ...(extra.includeCheckout ? { checkout: p.checkout } : {}),
    ...(extra.refunds ? { refunds: extra.refunds.map(toRefundView) } : {}),
    ...(extra.disputes ? { disputes: extra.disputes.map(toDisputeView) } : {}),
    succeededAt: iso(p.succeededAt),
    createdAt: iso(p.createdAt),
  };
}

import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { AppError, errors } from '../../platform/errors';
import type { EventBus } from '../../platform/events';
import type { Locks } from '../../platform/locks';
import type { Logger } from '../../platform/logger';
import { isDuplicateKey } from '../../platform/mongo';
import type { FinanceConfig } from './finance.config';
import { financeErrors } from './finance.errors';
import type { CreditNotifier } from './finance.events';
import { accountIds, type AccountDoc, type DisputeDoc, type FinanceModels, type PaymentDoc, type Provider } from './finance.model';
import { resolveId, type Ledger } from './ledger';
import type { Providers } from './providers';
import type { OrdersDirectory } from '../offers';

/** Orders as finance reads them: offers' contract. */
export type { OrdersDirectory };

export interface CreatePaymentInput {
  userId: string;
  idempotencyKey: string;
  provider: Provider;
  orderId?: string;
  vendorId?: string;
  currency?: string;
  amount?: number;
  payer: { email: string | null; name: string | null };
}

export const paymentLockKey = (paymentId: string) => `finance:payment:${paymentId}`;

export function createPaymentsService(deps: {
  models: FinanceModels;
  ledger: Ledger;
  locks: Locks;
  providers: Providers;
  config: FinanceConfig;
  clock: () => Date;
  logger: Logger;
  events: EventBus;
  notify: CreditNotifier;
  orders?: OrdersDirectory;
}) {
  const { Payment, Account, Dispute } = deps.models;
  const lockOptions = { waitMs: deps.config.lockWaitMs, leaseMs: deps.config.lockLeaseMs };
  const withPaymentLock = <T>(paymentId: string, work: () => Promise<T>) => deps.locks.withLock(paymentLockKey(paymentId), work, lockOptions);

  async function target(input: CreatePaymentInput): Promise<{ vendorId: string; orderId: string | null; lineId: string | null; amount: number; currency: string }> {
    if (input.orderId) {
      if (!deps.orders) throw errors.serviceUnavailable('Orders are not available');
      const order = await deps.orders.getOrderForParty(input.orderId, input.userId);
      if (!order) throw financeErrors.notFound('Order');
      if (order.buyerId !== input.userId) throw errors.forbidden('Only the buyer pays for an order');
      if (order.status === 'cancelled') throw errors.conflict('The order was cancelled');
      const currency = order.total.currency.toUpperCase();
      const amount = input.amount ?? order.total.amount;
      if (amount > order.total.amount) throw errors.validation([{ field: 'amount', message: 'amount is more than the order total' }]);
      const lineId = order.payment.kind === 'credit' ? accountIds.line(order.buyerId, order.vendorId, currency) : null;
      return { vendorId: order.vendorId, orderId: order.id, lineId, amount, currency };
    }
    if (!input.vendorId || !input.currency) {
      throw errors.validation([{ field: 'orderId', message: 'give an orderId, or a vendorId and currency for an outstanding balance' }]);
    }
    const currency = input.currency.toUpperCase();
    const lineId = accountIds.line(input.userId, input.vendorId, currency);
    const line = await Account.findById(lineId).lean<AccountDoc>();
    if (!line) throw financeErrors.notFound('Credit line');
    const outstanding = line.debitsPosted - line.creditsPosted;
    const amount = input.amount ?? outstanding;
    if (amount <= 0) throw errors.validation([{ field: 'amount', message: 'nothing is outstanding on this line' }]);
    if (amount > outstanding) throw errors.validation([{ field: 'amount', message: `amount is more than the ${outstanding} outstanding` }]);
    return { vendorId: input.vendorId, orderId: null, lineId, amount, currency };
  }

  /** Creates (or, for the same Idempotency-Key, returns) a payment and its provider object. */
  async function create(input: CreatePaymentInput): Promise<{ payment: PaymentDoc; created: boolean }> {
    const provider = deps.providers[input.provider];
    if (!provider.enabled) throw financeErrors.providerUnavailable(input.provider);
    const key = `${input.userId}:${input.idempotencyKey}`;
    const requestHash = createHash('sha256')
      .update(JSON.stringify([input.provider, input.orderId ?? null, input.vendorId ?? null, input.currency?.toUpperCase() ?? null, input.amount ?? null]))
      .digest('hex');
    let payment = await Payment.findOne({ idempotencyKey: key }).lean<PaymentDoc>();
    let created = false;
    if (!payment) {
      const t = await target(input);
      const now = deps.clock();
      const doc: PaymentDoc = {
        _id: new Types.ObjectId().toHexString(),
        idempotencyKey: key,
        requestHash,
        userId: input.userId,
        vendorId: t.vendorId,
        partyIds: [input.userId, t.vendorId],
        orderId: t.orderId,
        lineId: t.lineId,
        provider: input.provider,
        amount: t.amount,
        currency: t.currency,
        status: 'created',
        version: 0,
        providerRef: null,
        providerPaymentId: null,
        checkout: null,
        refundedAmount: 0,
        refundReserved: 0,
        disputedAmount: 0,
        flags: [],
        failureReason: null,
        succeededAt: null,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await Payment.collection.insertOne(doc as never);
        payment = doc;
        created = true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        payment = await Payment.findOne({ idempotencyKey: key }).lean<PaymentDoc>();
        if (!payment) throw err;
      }
    }
    if (payment.requestHash !== requestHash) throw financeErrors.idempotencyKeyReused();
    if (payment.providerRef) return { payment, created };
    const paymentId = payment._id;
    const done = await withPaymentLock(paymentId, async () => {
      const current = await Payment.findById(paymentId).lean<PaymentDoc>();
      if (!current) throw financeErrors.notFound('Payment');
      if (current.providerRef) return current;
      let made: { providerRef: string; checkout: Record<string, unknown> };
      try {
        made = await provider.createPayment({
          paymentId,
          amount: current.amount,
          currency: current.currency,
          description: current.orderId ? `Order ${current.orderId}` : `Credit line balance`,
          payer: { id: current.userId, ...input.payer },
        });
      } catch (err) {
        if (err instanceof AppError) throw err;
        deps.logger.warn('Finance: a provider refused to create a payment', { provider: input.provider, paymentId, error: err instanceof Error ? err.message : String(err) });
        throw financeErrors.providerFailed(input.provider);
      }
      const set = { providerRef: made.providerRef, checkout: made.checkout, status: 'processing' as const, version: current.version + 1 };
      await Payment.updateOne({ _id: paymentId }, { $set: set });
      return { ...current, ...set };
    });
    return { payment: done, created };
  }

  async function findByRef(provider: Provider, providerRef: string): Promise<PaymentDoc | null> {
    return Payment.findOne({ providerRef, provider }).lean<PaymentDoc>();
  }

  async function findById(paymentId: string): Promise<PaymentDoc | null> {
    return Payment.findById(paymentId).lean<PaymentDoc>();
  }

  /** By our id when the provider echoes it (Stripe's metadata), checked against the reference; else by the reference. */
  async function locate(provider: Provider, providerRef: string, paymentId?: string | null): Promise<PaymentDoc | null> {
    if (paymentId && /^[a-f0-9]{24}$/.test(paymentId)) {
      const byId = await findById(paymentId);
      return byId && byId.provider === provider && byId.providerRef === providerRef ? byId : null;
    }
    return findByRef(provider, providerRef);
  }

  /**
   * A Stripe dispute names its charge (the PaymentIntent's latest_charge, stored from the success
   * event) and its PaymentIntent: by the charge, checked against the PaymentIntent; a payment whose
   * charge was never recorded falls back to the PaymentIntent.
   */
  async function locateByCharge(provider: Provider, providerRef: string, chargeId: string): Promise<PaymentDoc | null> {
    const byCharge = await Payment.findOne({ providerPaymentId: chargeId, provider }).lean<PaymentDoc>();
    if (byCharge) return byCharge.providerRef === providerRef ? byCharge : null;
    return findByRef(provider, providerRef);
  }

  const paidInto = (payment: PaymentDoc) => payment.lineId ?? accountIds.vendor(payment.vendorId, payment.currency);

  function eventPayload(payment: PaymentDoc) {
    return {
      paymentId: payment._id,
      userId: payment.userId,
      vendorId: payment.vendorId,
      orderId: payment.orderId,
      provider: payment.provider,
      amount: { amount: payment.amount, currency: payment.currency },
      at: deps.clock().toISOString(),
    };
  }

  async function ensureAccounts(payment: PaymentDoc) {
    await deps.ledger.ensureAccount({ _id: accountIds.clearing(payment.provider, payment.currency), kind: 'clearing', currency: payment.currency, provider: payment.provider });
    await deps.ledger.ensureAccount({ _id: accountIds.vendor(payment.vendorId, payment.currency), kind: 'vendor', currency: payment.currency, vendorId: payment.vendorId, partyIds: [payment.vendorId] });
  }

  /**
   * A verified success from the provider. A replay changes nothing; an amount or currency that
   * does not match is flagged on the payment and not applied. The transfer goes first: a crash
   * before the status update leaves it processing, and the inbox's retry finishes it.
   */
  async function succeeded(input: { provider: Provider; providerRef: string; paymentId?: string | null; providerPaymentId: string | null; amount: number; currency: string; eventId: string }) {
    const found = await locate(input.provider, input.providerRef, input.paymentId);
    if (!found) return { outcome: 'ignored' as const, note: 'no payment for this reference' };
    return withPaymentLock(found._id, async () => {
      const payment = (await findById(found._id)) as PaymentDoc;
      if (input.amount !== payment.amount || input.currency.toUpperCase() !== payment.currency) {
        if (!payment.flags.some((f) => f.eventId === input.eventId)) {
          const flag = { reason: `provider reported ${input.amount} ${input.currency.toUpperCase()}, expected ${payment.amount} ${payment.currency}`, at: deps.clock(), eventId: input.eventId };
          await Payment.updateOne({ _id: payment._id }, { $set: { flags: [...payment.flags, flag] } });
          deps.logger.error('Finance: a payment success does not match the payment; flagged, not applied', { paymentId: payment._id, eventId: input.eventId });
        }
        return { outcome: 'processed' as const, note: 'flagged: amount or currency mismatch' };
      }
      if (payment.status === 'cancelled') return { outcome: 'ignored' as const, note: 'payment was cancelled' };
      await ensureAccounts(payment);
      const result = await deps.ledger.transfer({
        id: `payment:${payment._id}`,
        kind: 'payment',
        debitAccountId: accountIds.clearing(payment.provider, payment.currency),
        creditAccountId: paidInto(payment),
        amount: payment.amount,
        currency: payment.currency,
        referenceType: 'payment',
        referenceId: payment._id,
        actorId: null,
        partyIds: [payment.userId, payment.vendorId],
      });
      if (['created', 'processing', 'failed'].includes(payment.status)) {
        const set = { status: 'succeeded' as const, succeededAt: deps.clock(), providerPaymentId: input.providerPaymentId ?? payment.providerPaymentId, version: payment.version + 1 };
        await Payment.updateOne({ _id: payment._id }, { $set: set });
        deps.events.publish('payment.succeeded', eventPayload(payment));
      }
      if (result.created) deps.notify(result.credit);
      return { outcome: 'processed' as const, note: result.created ? 'payment applied' : 'already applied' };
    });
  }

  async function failed(input: { provider: Provider; providerRef: string; paymentId?: string | null; reason: string | null; cancelled?: boolean }) {
    const found = await locate(input.provider, input.providerRef, input.paymentId);
    if (!found) return { outcome: 'ignored' as const, note: 'no payment for this reference' };
    return withPaymentLock(found._id, async () => {
      const payment = (await findById(found._id)) as PaymentDoc;
      if (!['created', 'processing'].includes(payment.status)) return { outcome: 'ignored' as const, note: `payment is ${payment.status}` };
      const status = input.cancelled ? ('cancelled' as const) : ('failed' as const);
      await Payment.updateOne({ _id: payment._id }, { $set: { status, failureReason: input.reason, version: payment.version + 1 } });
      if (!input.cancelled) deps.events.publish('payment.failed', { ...eventPayload(payment), reason: input.reason });
      return { outcome: 'processed' as const, note: `payment ${status}` };
    });
  }

  /**
   * What the payment's disputes keep from being refunded: the open ones (frozen) and the lost ones
   * (taken back by the provider). Indexed by paymentId; a payment has few disputes.
   */
  async function disputedAmountOf(paymentId: string): Promise<number> {
    const held = await Dispute.find({ paymentId, status: { $in: ['open', 'lost'] } }).select({ amount: 1 }).limit(1_000).lean<DisputeDoc[]>();
    return held.reduce((sum, d) => sum + d.amount, 0);
  }

  /** A dispute freezes its amount: a pending transfer back from the account the payment paid into. */
  async function disputeOpened(input: { provider: Provider; providerRef: string; paymentId?: string | null; chargeId?: string | null; disputeId: string; amount: number; currency: string; reason: string | null }) {
    const found = input.chargeId ? await locateByCharge(input.provider, input.providerRef, input.chargeId) : await locate(input.provider, input.providerRef, input.paymentId);
    if (!found) return { outcome: 'ignored' as const, note: 'no payment for this reference' };
    return withPaymentLock(found._id, async () => {
      const payment = (await findById(found._id)) as PaymentDoc;
      if (!['succeeded', 'refunded', 'disputed'].includes(payment.status)) return { outcome: 'ignored' as const, note: `payment is ${payment.status}` };
      const id = `${input.provider}:${input.disputeId}`;
      const amount = Math.min(input.amount, payment.amount - payment.refundedAmount - payment.disputedAmount);
      const existing = await Dispute.findById(id).lean<DisputeDoc>();
      if (!existing) {
        const doc: DisputeDoc = { _id: id, paymentId: payment._id, provider: input.provider, amount, currency: payment.currency, reason: input.reason, status: 'open', partyIds: [payment.userId, payment.vendorId], openedAt: deps.clock(), closedAt: null };
        try {
          await Dispute.collection.insertOne(doc as never);
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      }
      const dispute = (await Dispute.findById(id).lean<DisputeDoc>()) as DisputeDoc;
      if (dispute.amount <= 0) return { outcome: 'processed' as const, note: 'nothing left to dispute' };
      const result = await deps.ledger.transfer({
        id: `dispute:${id}`,
        kind: 'dispute',
        debitAccountId: paidInto(payment),
        creditAccountId: accountIds.clearing(payment.provider, payment.currency),
        amount: dispute.amount,
        currency: payment.currency,
        pending: true,
        referenceType: 'dispute',
        referenceId: id,
        actorId: null,
        partyIds: [payment.userId, payment.vendorId],
        memo: input.reason,
      });
      // Derived from the payment's disputes (not added to), so a replay or a second dispute counts each once.
      const disputedAmount = await disputedAmountOf(payment._id);
      if (payment.status !== 'disputed' || payment.disputedAmount !== disputedAmount) {
        await Payment.updateOne({ _id: payment._id }, { $set: { status: 'disputed', disputedAmount, version: payment.version + 1 } });
      }
      if (!existing || payment.status !== 'disputed') deps.events.publish('dispute.opened', { ...eventPayload(payment), disputeId: id, reason: input.reason });
      if (result.created) deps.notify(result.debit);
      return { outcome: 'processed' as const, note: 'dispute opened' };
    });
  }

  /** Won: the frozen amount is released (void). Lost: it is taken back (post). */
  async function disputeClosed(input: { provider: Provider; disputeId: string; won: boolean }) {
    const id = `${input.provider}:${input.disputeId}`;
    const dispute = await Dispute.findById(id).lean<DisputeDoc>();
    if (!dispute) return { outcome: 'ignored' as const, note: 'unknown dispute' };
    return withPaymentLock(dispute.paymentId, async () => {
      const payment = (await findById(dispute.paymentId)) as PaymentDoc;
      const pendingId = `dispute:${id}`;
      const as = input.won ? 'void' : 'post';
      const result = await deps.ledger.transfer({
        id: resolveId(pendingId),
        kind: input.won ? 'void' : 'reversal',
        debitAccountId: paidInto(payment),
        creditAccountId: accountIds.clearing(payment.provider, payment.currency),
        amount: dispute.amount,
        currency: payment.currency,
        resolve: { pendingId, as },
        referenceType: 'dispute',
        referenceId: id,
        actorId: null,
        partyIds: [payment.userId, payment.vendorId],
      });
      if (dispute.status === 'open') {
        await Dispute.updateOne({ _id: id }, { $set: { status: result.transfer.resolution === 'void' ? 'won' : 'lost', closedAt: deps.clock() } });
      }
      const disputedAmount = await disputedAmountOf(payment._id);
      if (payment.disputedAmount !== disputedAmount) {
        const status = result.transfer.resolution === 'void' && disputedAmount === 0 ? (payment.refundedAmount > 0 ? 'refunded' : 'succeeded') : payment.status;
        await Payment.updateOne({ _id: payment._id }, { $set: { status, disputedAmount, version: payment.version + 1 } });
      }
      if (result.created) deps.notify(result.debit);
      return { outcome: 'processed' as const, note: `dispute ${input.won ? 'won' : 'lost'}` };
    });
  }

  return { create, findById, findByRef, succeeded, failed, disputeOpened, disputeClosed, withPaymentLock, paidInto, eventPayload };
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;

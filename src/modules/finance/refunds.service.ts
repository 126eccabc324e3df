import { Types } from 'mongoose';
import { AppError, errors } from '../../platform/errors';
import type { EventBus } from '../../platform/events';
import type { Locks } from '../../platform/locks';
import type { Logger } from '../../platform/logger';
import { isDuplicateKey } from '../../platform/mongo';
import type { FinanceConfig } from './finance.config';
import { financeErrors } from './finance.errors';
import type { CreditNotifier } from './finance.events';
import { accountIds, type FinanceModels, type PaymentDoc, type RefundDoc } from './finance.model';
import type { Ledger } from './ledger';
import { paymentLockKey } from './payments.service';
import type { Providers } from './providers';

/**
 * Refunds run under the payment's lock: the check (paid − refunded − reserved − disputed), the
 * reservation, the provider's refund call and the ledger transfer happen one refund at a time per
 * payment, so fifty at once can never add up to more than was paid.
 */
export function createRefundsService(deps: {
  models: FinanceModels;
  ledger: Ledger;
  locks: Locks;
  providers: Providers;
  config: FinanceConfig;
  clock: () => Date;
  logger: Logger;
  events: EventBus;
  notify: CreditNotifier;
}) {
  const { Payment, Refund } = deps.models;
  const lockOptions = { waitMs: deps.config.lockWaitMs, leaseMs: deps.config.lockLeaseMs };

  /** Asks the provider, then records the outcome (the caller holds the payment's lock). */
  async function settle(payment: PaymentDoc, refund: RefundDoc): Promise<RefundDoc> {
    let providerRef: string;
    try {
      ({ providerRef } = await deps.providers[payment.provider].refund({
        refundId: refund._id,
        providerRef: payment.providerRef as string,
        providerPaymentId: payment.providerPaymentId,
        amount: refund.amount,
        currency: refund.currency,
      }));
    } catch (err) {
      await Refund.updateOne({ _id: refund._id }, { $set: { status: 'failed' } });
      await Payment.updateOne({ _id: payment._id }, { $set: { refundReserved: Math.max(0, payment.refundReserved - refund.amount) } });
      if (err instanceof AppError) throw err;
      deps.logger.warn('Finance: a provider refused a refund', { provider: payment.provider, refundId: refund._id, error: err instanceof Error ? err.message : String(err) });
      throw financeErrors.providerFailed(payment.provider);
    }
    const result = await deps.ledger.transfer({
      id: `refund:${refund._id}`,
      kind: 'refund',
      debitAccountId: payment.lineId ?? accountIds.vendor(payment.vendorId, payment.currency),
      creditAccountId: accountIds.clearing(payment.provider, payment.currency),
      amount: refund.amount,
      currency: refund.currency,
      referenceType: 'refund',
      referenceId: refund._id,
      actorId: refund.actorId,
      partyIds: [payment.userId, payment.vendorId],
      memo: refund.reason,
    });
    await Refund.updateOne({ _id: refund._id }, { $set: { status: 'succeeded', providerRef } });
    await Payment.updateOne(
      { _id: payment._id },
      {
        $set: {
          refundedAmount: payment.refundedAmount + refund.amount,
          refundReserved: Math.max(0, payment.refundReserved - refund.amount),
          status: payment.status === 'disputed' ? 'disputed' : 'refunded',
          version: payment.version + 1,
        },
      },
    );
    if (result.created) deps.notify(result.debit);
    deps.events.publish('refund.created', {
      paymentId: payment._id,
      userId: payment.userId,
      vendorId: payment.vendorId,
      orderId: payment.orderId,
      provider: payment.provider,
      amount: { amount: refund.amount, currency: refund.currency },
      refundId: refund._id,
      at: deps.clock().toISOString(),
    });
    return { ...refund, status: 'succeeded', providerRef };
  }

  async function create(input: { payment: PaymentDoc; actorId: string; idempotencyKey: string; amount?: number; reason?: string | null }): Promise<{ refund: RefundDoc; created: boolean }> {
    const key = `${input.payment._id}:${input.idempotencyKey}`;
    return deps.locks.withLock(
      paymentLockKey(input.payment._id),
      async () => {
        const prior = await Refund.findOne({ idempotencyKey: key }).lean<RefundDoc>();
        if (prior) {
          if (input.amount !== undefined && prior.amount !== input.amount) throw financeErrors.idempotencyKeyReused();
          return { refund: prior, created: false };
        }
        const payment = await Payment.findById(input.payment._id).lean<PaymentDoc>();
        if (!payment) throw financeErrors.notFound('Payment');
        if (!['succeeded', 'refunded', 'disputed'].includes(payment.status)) throw financeErrors.notRefundable(payment.status);
        const refundable = payment.amount - payment.refundedAmount - payment.refundReserved - payment.disputedAmount;
        const amount = input.amount ?? refundable;
        if (amount <= 0 || amount > refundable) throw financeErrors.refundExceeds(Math.max(0, refundable), payment.currency);
        const now = deps.clock();
        const refund: RefundDoc = {
          _id: new Types.ObjectId().toHexString(),
          idempotencyKey: key,
          paymentId: payment._id,
          provider: payment.provider,
          partyIds: [payment.userId, payment.vendorId],
          amount,
          currency: payment.currency,
          reason: input.reason ?? null,
          status: 'pending',
          providerRef: null,
          actorId: input.actorId,
          createdAt: now,
          updatedAt: now,
        };
        try {
          await Refund.collection.insertOne(refund as never);
        } catch (err) {
          if (isDuplicateKey(err)) throw errors.conflict('A refund with this Idempotency-Key is being made');
          throw err;
        }
        const reserved = { ...payment, refundReserved: payment.refundReserved + amount };
        await Payment.updateOne({ _id: payment._id }, { $set: { refundReserved: reserved.refundReserved } });
        return { refund: await settle(reserved, refund), created: true };
      },
      lockOptions,
    );
  }

  /** Refunds a crash left pending are asked of the provider again (idempotent on the refund id) and finished. */
  async function finishPending(now: Date): Promise<number> {
    const stale = await Refund.find({ status: 'pending' }).limit(100).lean<RefundDoc[]>();
    let finished = 0;
    for (const refund of stale) {
      if (now.getTime() - new Date(refund.createdAt).getTime() < 5 * 60_000) continue;
      await deps.locks.withLock(
        paymentLockKey(refund.paymentId),
        async () => {
          const current = await Refund.findById(refund._id).lean<RefundDoc>();
          const payment = await Payment.findById(refund.paymentId).lean<PaymentDoc>();
          if (!current || current.status !== 'pending' || !payment) return;
          await settle(payment, current).catch((err: unknown) => deps.logger.warn('Finance: a pending refund could not be finished', { refundId: refund._id, error: String(err) }));
          finished += 1;
        },
        lockOptions,
      );
    }
    return finished;
  }

  async function listForPayment(paymentId: string): Promise<RefundDoc[]> {
    return Refund.find({ paymentId }).sort({ createdAt: 1 }).limit(100).lean<RefundDoc[]>();
  }

  return { create, finishPending, listForPayment };
}

export type RefundsService = ReturnType<typeof createRefundsService>;

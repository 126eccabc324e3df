import { AppError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import { isDuplicateKey } from '../../platform/mongo';
import type { FinanceConfig } from './finance.config';
import { financeErrors } from './finance.errors';
import { lineBalances, type CreditNotifier } from './finance.events';
import { accountIds, type AccountDoc, type FinanceModels, type HoldDoc, type TransferDoc } from './finance.model';
import { deliveryDeadline, holdExpiresAt } from './hold-expiry';
import { resolveId, type Ledger } from './ledger';
import type { OrdersDirectory } from '../offers';
import { ageDebts } from './risk';

const DAY_MS = 86_400_000;

/** The credit port offers calls (declared identically in offers' index.ts). */
export interface HoldRequest {
  offerId: string;
  buyerId: string;
  vendorId: string;
  amount: { amount: number; currency: string };
  creditDays: number;
  actorId: string;
}

export function createCreditService(deps: {
  models: FinanceModels;
  ledger: Ledger;
  config: FinanceConfig;
  clock: () => Date;
  logger: Logger;
  notify: CreditNotifier;
  /** Offers' contract: an order's delivery terms set its hold's expiry. Without it, holds expire from placement. */
  orders?: Pick<OrdersDirectory, 'getOrder'>;
}) {
  const { Account, Hold, Transfer } = deps.models;

  async function lineTransfers(lineId: string): Promise<TransferDoc[]> {
    const [debits, credits] = await Promise.all([
      Transfer.find({ debitAccountId: lineId }).lean<TransferDoc[]>(),
      Transfer.find({ creditAccountId: lineId }).lean<TransferDoc[]>(),
    ]);
    return [...debits, ...credits];
  }

  /** Creates the line (and the vendor's account) or changes its limit; under the line's lock. */
  async function setLimit(input: { buyerId: string; vendorId: string; currency: string; limit: number; creditDays?: number; actorId: string }) {
    if (input.buyerId === input.vendorId) throw new AppError('VALIDATION_FAILED', 'A buyer cannot hold a credit line with itself', 400);
    const currency = input.currency.toUpperCase();
    const lineId = accountIds.line(input.buyerId, input.vendorId, currency);
    await deps.ledger.ensureAccount({ _id: accountIds.vendor(input.vendorId, currency), kind: 'vendor', currency, vendorId: input.vendorId, partyIds: [input.vendorId] });
    await deps.ledger.ensureAccount({
      _id: lineId,
      kind: 'line',
      currency,
      buyerId: input.buyerId,
      vendorId: input.vendorId,
      partyIds: [input.buyerId, input.vendorId],
      creditDays: input.creditDays ?? 30,
    });
    const { before, after } = await deps.ledger.withAccountLocks([lineId], async () => {
      const line = (await deps.ledger.catchUp(await deps.ledger.readAccount(lineId))).account;
      const set = { limit: input.limit, ...(input.creditDays !== undefined ? { creditDays: input.creditDays } : {}) };
      await Account.updateOne({ _id: lineId }, { $set: set });
      return { before: line, after: { ...line, ...set } };
    });
    deps.notify(after);
    return { before, after };
  }

  async function setStatus(lineId: string, status: 'active' | 'frozen', reason: string | null) {
    const { before, after } = await deps.ledger.withAccountLocks([lineId], async () => {
      const line = await deps.ledger.readAccount(lineId);
      if (line.kind !== 'line') throw financeErrors.notFound('Credit line');
      await Account.updateOne({ _id: lineId }, { $set: { status, statusReason: reason } });
      return { before: line, after: { ...line, status, statusReason: reason } };
    });
    deps.notify(after);
    return { before, after };
  }

  /** Refuses a hold on a line whose oldest unpaid charge is past due beyond the configured days. */
  async function assertNotOverdue(line: AccountDoc, now: Date) {
    if (line.debitsPosted - line.creditsPosted <= 0) return;
    const { daysPastDue } = ageDebts(line._id, await lineTransfers(line._id), now);
    if (daysPastDue > deps.config.overdueFreezeDays) {
      throw financeErrors.lineUnavailable(`The credit line is ${daysPastDue} days past due; new holds are frozen`);
    }
  }

  /** Places the offer's hold; idempotent per offer. CREDIT_LIMIT_EXCEEDED leaves nothing behind. */
  async function hold(request: HoldRequest): Promise<void> {
    const currency = request.amount.currency.toUpperCase();
    const lineId = accountIds.line(request.buyerId, request.vendorId, currency);
    const line = await Account.findById(lineId).lean<AccountDoc>();
    if (!line) throw financeErrors.lineUnavailable('The vendor has not granted this buyer credit in this currency');
    const prior = await Hold.findById(request.offerId).lean<HoldDoc>();
    if (prior && prior.status !== 'open') {
      if (prior.status === 'posted') return;
      throw financeErrors.lineUnavailable('The hold for this offer was released');
    }
    const amount = request.amount.amount;
    const vendorAccountId = accountIds.vendor(request.vendorId, currency);
    const transferId = `hold:${request.offerId}`;
    const result = await deps.ledger.transfer(
      {
        id: transferId,
        kind: 'hold',
        debitAccountId: lineId,
        creditAccountId: vendorAccountId,
        amount,
        currency,
        pending: true,
        referenceType: 'offer',
        referenceId: request.offerId,
        actorId: request.actorId,
        partyIds: [request.buyerId, request.vendorId],
      },
      async ({ debit }) => {
        if (debit.status !== 'active') throw financeErrors.lineUnavailable('The credit line is frozen');
        const now = deps.clock();
        const { available } = lineBalances(debit);
        if (amount > available) throw financeErrors.creditLimitExceeded(Math.max(0, available), currency);
        await assertNotOverdue(debit, now);
        // Recorded before the transfer, so the expiry sweep knows every hold that may exist; a crash
        // before the transfer leaves a record the sweep finds without its transfer and removes.
        const doc: HoldDoc = {
          _id: request.offerId,
          transferId,
          lineId,
          vendorAccountId,
          buyerId: request.buyerId,
          vendorId: request.vendorId,
          amount,
          currency,
          creditDays: request.creditDays,
          status: 'open',
          orderId: null,
          reason: null,
          deadlineAt: null,
          // Until the order is known (its order.created job), the hold expires from placement.
          expiresAt: holdExpiresAt({ deadlineAt: null, placedAt: now, graceDays: deps.config.holdGraceDays }),
          createdAt: now,
          resolvedAt: null,
        };
        try {
          await Hold.collection.insertOne(doc as never);
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      },
    );
    if (result.created) deps.notify(result.debit);
  }

  /** Posts (delivered) or voids (cancelled, lost race, expired) an open hold; the first resolution wins. */
  async function resolveHold(offerId: string, as: 'post' | 'void', reason: string, actorId: string | null, orderId: string | null = null) {
    const found = await Hold.findById(offerId).lean<HoldDoc>();
    if (!found) return null;
    if (found.status !== 'open') return found.status;
    const pending = await Transfer.findById(found.transferId).lean<TransferDoc>();
    if (!pending) {
      // The hold's record was written but its transfer never was (a crash in between): nothing to resolve.
      await Hold.deleteOne({ _id: offerId, status: 'open' });
      return null;
    }
    const now = deps.clock();
    const result = await deps.ledger.transfer({
      id: resolveId(found.transferId),
      kind: as,
      debitAccountId: pending.debitAccountId,
      creditAccountId: pending.creditAccountId,
      amount: pending.amount,
      currency: pending.currency,
      resolve: { pendingId: found.transferId, as },
      referenceType: orderId ? 'order' : 'offer',
      referenceId: orderId ?? offerId,
      actorId,
      partyIds: pending.partyIds,
      dueAt: as === 'post' ? new Date(now.getTime() + found.creditDays * DAY_MS) : null,
      memo: reason,
    });
    const outcome = result.transfer.resolution === 'post' ? 'posted' : 'voided';
    await Hold.updateOne({ _id: offerId }, { $set: { status: outcome, resolvedAt: result.transfer.at, reason: result.transfer.memo, ...(orderId ? { orderId } : {}) } });
    if (result.created) deps.notify(result.debit);
    if (result.transfer.resolution !== as) deps.logger.warn('Finance: a hold was already resolved the other way', { offerId, wanted: as, was: result.transfer.resolution });
    return outcome;
  }

  async function release(offerId: string, reason: string): Promise<void> {
    await resolveHold(offerId, 'void', reason, null);
  }

  /** The job behind order.created / order.status_changed: the order's hold follows the order. */
  async function onOrderStatus(input: { orderId: string; offerId: string; status: string; actorId: string | null }) {
    if (input.status === 'delivered' || input.status === 'completed') return resolveHold(input.offerId, 'post', 'order delivered', input.actorId, input.orderId);
    if (input.status === 'cancelled') return resolveHold(input.offerId, 'void', 'order cancelled', input.actorId, input.orderId);
    await attachOrder(input.offerId, input.orderId);
    return null;
  }

  /**
   * The order's delivery deadline becomes the hold's expiry (+ the grace days), read through offers'
   * contract. Not isolated against a concurrent resolution on FerretDB, and it need not be: the
   * ledger's `resolve:<holdId>` transfer is the truth, and a sweep that later finds such a hold
   * "open" gets the stored resolution back from the ledger and records it (resolveHold).
   */
  async function attachOrder(offerId: string, orderId: string) {
    const found = await Hold.findById(offerId).lean<HoldDoc>();
    if (!found || found.status !== 'open') return;
    if (found.orderId === orderId && found.deadlineAt) return;
    const order = deps.orders ? await deps.orders.getOrder(orderId).catch(() => null) : null;
    const deadlineAt = order && order.offerId === offerId ? deliveryDeadline(order.delivery, new Date(order.createdAt)) : null;
    const set: Partial<HoldDoc> = { orderId };
    if (deadlineAt) {
      set.deadlineAt = deadlineAt;
      set.expiresAt = holdExpiresAt({ deadlineAt, placedAt: found.createdAt, graceDays: deps.config.holdGraceDays });
    }
    await Hold.updateOne({ _id: offerId, status: 'open' }, { $set: set });
  }

  /**
   * Expired holds are voided. Hold records written just before a crash (their transfer never
   * stored) are removed, and records whose resolution was stored before a crash get its status;
   * both are looked for among holds recorded between two hours and ten minutes ago.
   */
  async function sweepHolds(now: Date): Promise<{ expired: number; removed: number }> {
    let expired = 0;
    let removed = 0;
    const due = await Hold.find({ status: 'open', expiresAt: { $lte: now } }).limit(500).lean<HoldDoc[]>();
    for (const hold of due) {
      if ((await resolveHold(hold._id, 'void', 'hold expired', null)) === 'voided') expired += 1;
    }
    const recent = await Hold.find({ status: 'open', createdAt: { $gte: new Date(now.getTime() - 2 * 3_600_000), $lte: new Date(now.getTime() - 10 * 60_000) } })
      .limit(500)
      .lean<HoldDoc[]>();
    for (const hold of recent) {
      if (!(await Transfer.findById(hold.transferId).lean<TransferDoc>())) {
        await Hold.deleteOne({ _id: hold._id, status: 'open' });
        removed += 1;
        continue;
      }
      const resolution = await Transfer.findById(resolveId(hold.transferId)).lean<TransferDoc>();
      if (resolution) await Hold.updateOne({ _id: hold._id }, { $set: { status: resolution.resolution === 'post' ? 'posted' : 'voided', resolvedAt: resolution.at } });
    }
    return { expired, removed };
  }

  return { setLimit, setStatus, hold, release, resolveHold, onOrderStatus, sweepHolds, lineTransfers };
}

export type CreditService = ReturnType<typeof createCreditService>;

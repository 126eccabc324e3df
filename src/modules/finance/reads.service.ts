import type { FilterQuery } from 'mongoose';
import { errors } from '../../platform/errors';
import { decodeCursor, DEFAULT_PAGE_LIMIT, encodeCursor } from '../../platform/pagination';
import type { CreditService } from './credit.service';
import type { FinanceConfig } from './finance.config';
import { financeErrors } from './finance.errors';
import { lineBalances } from './finance.events';
import type { AccountDoc, DisputeDoc, FinanceModels, PaymentDoc, TransferDoc, TransferKind } from './finance.model';
import { assessRisk, ageDebts, type RiskAssessment } from './risk';

export interface Viewer {
  userId: string;
  isAdmin: boolean;
}

const STATEMENT_MAX_DAYS = 366;
const STATEMENT_MAX_ROWS = 5_000;

export function createReadsService(deps: { models: FinanceModels; credit: CreditService; config: FinanceConfig; clock: () => Date }) {
  const { Account, Transfer, Payment, Dispute } = deps.models;

  const visible = (account: AccountDoc, viewer: Viewer) => viewer.isAdmin || account.partyIds.includes(viewer.userId);

  async function getAccount(accountId: string, viewer: Viewer): Promise<AccountDoc> {
    const account = await Account.findById(accountId).lean<AccountDoc>();
    if (!account || !visible(account, viewer)) throw financeErrors.notFound('Account');
    return account;
  }

  async function listAccounts(viewer: Viewer, query: { limit?: number; cursor?: string }) {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const after = decodeCursor(query.cursor, (v): v is { id: string } => typeof v.id === 'string');
    const filter: FilterQuery<AccountDoc> = { partyIds: viewer.userId, kind: 'line', ...(after ? { _id: { $gt: after.id } } : {}) };
    const rows = await Account.find(filter).sort({ _id: 1 }).limit(limit + 1).lean<AccountDoc[]>();
    const page = rows.slice(0, limit);
    return { data: page, nextCursor: rows.length > limit ? encodeCursor({ id: (page[page.length - 1] as AccountDoc)._id }) : null, limit };
  }

  async function listTransactions(
    viewer: Viewer,
    query: { account?: string; kind?: TransferKind; from?: string; to?: string; reference?: string; limit?: number; cursor?: string },
  ) {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const and: FilterQuery<TransferDoc>[] = [];
    if (!viewer.isAdmin) and.push({ partyIds: viewer.userId });
    if (query.account) {
      await getAccount(query.account, viewer);
      and.push({ $or: [{ debitAccountId: query.account }, { creditAccountId: query.account }] });
    }
    if (query.kind) and.push({ kind: query.kind });
    if (query.reference) and.push({ referenceId: query.reference });
    if (query.from) and.push({ at: { $gte: new Date(query.from) } });
    if (query.to) and.push({ at: { $lt: new Date(query.to) } });
    const after = decodeCursor(query.cursor, (v): v is { at: number; id: string } => Number.isSafeInteger(v.at) && typeof v.id === 'string');
    if (after) and.push({ $or: [{ at: { $lt: new Date(after.at) } }, { at: new Date(after.at), _id: { $lt: after.id } }] });
    const rows = await Transfer.find(and.length ? { $and: and } : {}).sort({ at: -1, _id: -1 }).limit(limit + 1).lean<TransferDoc[]>();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { data: page, nextCursor: rows.length > limit && last ? encodeCursor({ at: new Date(last.at).getTime(), id: last._id }) : null, limit };
  }

  async function linesOf(userId: string): Promise<AccountDoc[]> {
    return Account.find({ partyIds: userId, kind: 'line' }).limit(1_000).lean<AccountDoc[]>();
  }

  async function summary(viewer: Viewer, currency?: string) {
    const now = deps.clock();
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const lines = (await linesOf(viewer.userId)).filter((l) => !currency || l.currency === currency);
    const byCurrency = new Map<string, { owed: number; available: number; held: number; overdue: number; limit: number; receivable: number; receivableHeld: number; receivableOverdue: number; paidThisMonth: number; receivedThisMonth: number }>();
    const entry = (c: string) => {
      const found = byCurrency.get(c);
      if (found) return found;
      const fresh = { owed: 0, available: 0, held: 0, overdue: 0, limit: 0, receivable: 0, receivableHeld: 0, receivableOverdue: 0, paidThisMonth: 0, receivedThisMonth: 0 };
      byCurrency.set(c, fresh);
      return fresh;
    };
    for (const line of lines) {
      const b = lineBalances(line);
      const { overdue } = b.posted > 0 ? ageDebts(line._id, await deps.credit.lineTransfers(line._id), now) : { overdue: 0 };
      const e = entry(line.currency);
      if (line.buyerId === viewer.userId) {
        e.owed += b.posted;
        e.available += Math.max(0, b.available);
        e.held += b.held;
        e.overdue += overdue;
        e.limit += line.limit;
      } else {
        e.receivable += b.posted;
        e.receivableHeld += b.held;
        e.receivableOverdue += overdue;
      }
    }
    const paidStates = ['succeeded', 'refunded', 'disputed'];
    const [paid, received] = await Promise.all([
      Payment.find({ userId: viewer.userId, status: { $in: paidStates }, succeededAt: { $gte: monthStart } }).limit(10_000).lean<PaymentDoc[]>(),
      Payment.find({ vendorId: viewer.userId, status: { $in: paidStates }, succeededAt: { $gte: monthStart } }).limit(10_000).lean<PaymentDoc[]>(),
    ]);
    for (const p of paid) if (!currency || p.currency === currency) entry(p.currency).paidThisMonth += p.amount - p.refundedAmount;
    for (const p of received) if (!currency || p.currency === currency) entry(p.currency).receivedThisMonth += p.amount - p.refundedAmount;
    const money = (amount: number, c: string) => ({ amount, currency: c });
    return {
      at: now.toISOString(),
      currencies: [...byCurrency].sort(([a], [b]) => a.localeCompare(b)).map(([c, e]) => ({
        currency: c,
        asBuyer: { limit: money(e.limit, c), owed: money(e.owed, c), available: money(e.available, c), held: money(e.held, c), overdue: money(e.overdue, c), paidThisMonth: money(e.paidThisMonth, c) },
        asVendor: { receivable: money(e.receivable, c), held: money(e.receivableHeld, c), overdue: money(e.receivableOverdue, c), receivedThisMonth: money(e.receivedThisMonth, c) },
      })),
    };
  }

  /** Per line: the posted balance before `from`, every transfer in [from, to) with a running balance, the balance at `to`. */
  async function statement(viewer: Viewer, query: { from: string; to: string; account?: string }) {
    const from = new Date(query.from);
    const to = new Date(query.to);
    if (!(from < to)) throw errors.validation([{ field: 'to', message: 'to must be after from' }]);
    if (to.getTime() - from.getTime() > STATEMENT_MAX_DAYS * 86_400_000) throw errors.validation([{ field: 'to', message: `a statement covers at most ${STATEMENT_MAX_DAYS} days` }]);
    const lines = query.account ? [await getAccount(query.account, viewer)] : await linesOf(viewer.userId);
    let rows = 0;
    const out = [];
    for (const line of lines.sort((a, b) => a._id.localeCompare(b._id))) {
      const transfers = (await deps.credit.lineTransfers(line._id)).sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime() || a._id.localeCompare(b._id));
      const signed = (t: TransferDoc) => {
        if (t.pending || t.resolution === 'void') return 0;
        return t.debitAccountId === line._id ? t.amount : -t.amount;
      };
      let balance = 0;
      for (const t of transfers) if (new Date(t.at) < from) balance += signed(t);
      const opening = balance;
      const entries = [];
      for (const t of transfers) {
        const at = new Date(t.at);
        if (at < from || at >= to) continue;
        if (++rows > STATEMENT_MAX_ROWS) throw errors.validation([{ field: 'from', message: `a statement holds at most ${STATEMENT_MAX_ROWS} entries; ask for a shorter period` }]);
        balance += signed(t);
        const debit = t.debitAccountId === line._id;
        entries.push({
          at: at.toISOString(),
          transferId: t._id,
          kind: t.kind,
          reference: { type: t.referenceType, id: t.referenceId },
          pending: t.pending,
          resolution: t.resolution,
          debit: debit ? t.amount : 0,
          credit: debit ? 0 : t.amount,
          balance,
          memo: t.memo,
        });
      }
      out.push({ accountId: line._id, buyerId: line.buyerId, vendorId: line.vendorId, currency: line.currency, opening, closing: balance, entries });
    }
    return { from: from.toISOString(), to: to.toISOString(), accounts: out };
  }

  async function risk(accountId: string, viewer: Viewer): Promise<RiskAssessment> {
    const line = await getAccount(accountId, viewer);
    // Vendors see the assessment of the lines they grant, admins all; the buyer does not.
    if (line.kind !== 'line' || (!viewer.isAdmin && line.vendorId !== viewer.userId)) throw financeErrors.notFound('Account');
    const transfers = await deps.credit.lineTransfers(line._id);
    const disputes = await Dispute.find({ partyIds: line.buyerId }).limit(1_000).lean<DisputeDoc[]>();
    const payments = new Set((await Payment.find({ lineId: line._id }).limit(10_000).lean<PaymentDoc[]>()).map((p) => p._id));
    const b = lineBalances(line);
    return assessRisk({
      lineId: line._id,
      limit: line.limit,
      outstanding: b.posted,
      held: b.held,
      createdAt: new Date(line.createdAt),
      transfers,
      disputes: disputes.filter((d) => payments.has(d.paymentId)).length,
      now: deps.clock(),
      overdueFreezeDays: deps.config.overdueFreezeDays,
    });
  }

  async function listDisputes(viewer: Viewer, query: { limit?: number; cursor?: string }) {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const after = decodeCursor(query.cursor, (v): v is { id: string } => typeof v.id === 'string');
    const filter: FilterQuery<DisputeDoc> = { ...(viewer.isAdmin ? {} : { partyIds: viewer.userId }), ...(after ? { _id: { $gt: after.id } } : {}) };
    const rows = await Dispute.find(filter).sort({ _id: 1 }).limit(limit + 1).lean<DisputeDoc[]>();
    const page = rows.slice(0, limit);
    return { data: page, nextCursor: rows.length > limit ? encodeCursor({ id: (page[page.length - 1] as DisputeDoc)._id }) : null, limit };
  }

  return { getAccount, listAccounts, listDisputes, listTransactions, summary, statement, risk, visible };
}

export type ReadsService = ReturnType<typeof createReadsService>;

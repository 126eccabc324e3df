import type { RequestHandler } from 'express';
import { getAuth, type AuthContext } from '../../platform/auth-context';
import { createModuleRouter } from '../../platform/http/router';
import { withInput } from '../../platform/http/validate';
import { toCsv } from './csv';
import { financeErrors } from './finance.errors';
import { toAccountView, toDisputeView, toPaymentView, toRefundView, toTransferView } from './finance.mapper';
import type { DisputeDoc, PaymentDoc } from './finance.model';
import type { FinanceServices } from './finance.services';
import type { Viewer } from './reads.service';
import * as s from './finance.schemas';

const isAdminRole = (auth: AuthContext) => auth.role === 'admin' || auth.role === 'super_admin';
const viewerOf = (auth: AuthContext): Viewer => ({ userId: auth.userId, isAdmin: isAdminRole(auth) });

export function createFinanceRouter(finance: FinanceServices, requireAuth: RequestHandler, lookupPayer: (userId: string) => Promise<{ email: string | null; name: string | null }>) {
  const routes = createModuleRouter('/api/finance');
  const { reads, payments, refunds, models } = finance;

  /** A payment the caller may see: the payer, the vendor, or an admin; anyone else gets 404. */
  async function visiblePayment(id: string, auth: AuthContext): Promise<PaymentDoc> {
    const payment = await payments.findById(id);
    if (!payment || (!isAdminRole(auth) && payment.userId !== auth.userId && payment.vendorId !== auth.userId)) throw financeErrors.notFound('Payment');
    return payment;
  }

  routes.get('/accounts', requireAuth, ...withInput(s.listAccountsQuery, ['query'], async (input, res) => {
    const auth = getAuth(res);
    const page = await reads.listAccounts(viewerOf(auth), input);
    res.json({ data: page.data.map((a) => toAccountView(a, auth.userId)), page: { nextCursor: page.nextCursor, limit: page.limit } });
  }));

  routes.get('/accounts/:id', requireAuth, ...withInput(s.accountParams, ['params'], async (input, res) => {
    const auth = getAuth(res);
    res.json({ data: toAccountView(await reads.getAccount(input.id, viewerOf(auth)), auth.userId) });
  }));

  routes.get('/accounts/:id/risk', requireAuth, ...withInput(s.accountParams, ['params'], async (input, res) => {
    res.json({ data: await reads.risk(input.id, viewerOf(getAuth(res))) });
  }));

  routes.get('/transactions', requireAuth, ...withInput(s.transactionsQuery, ['query'], async (input, res) => {
    const page = await reads.listTransactions(viewerOf(getAuth(res)), input);
    res.json({ data: page.data.map(toTransferView), page: { nextCursor: page.nextCursor, limit: page.limit } });
  }));

  routes.get('/summary', requireAuth, ...withInput(s.summaryQuery, ['query'], async (input, res) => {
    res.json({ data: await reads.summary(viewerOf(getAuth(res)), input.currency) });
  }));

  routes.get('/statements', requireAuth, ...withInput(s.statementQuery, ['query'], async (input, res, req) => {
    const statement = await reads.statement(viewerOf(getAuth(res)), input);
    const csv = input.format === 'csv' || (input.format === undefined && req.accepts(['application/json', 'text/csv']) === 'text/csv');
    if (!csv) {
      res.json({ data: statement });
      return;
    }
    const rows = statement.accounts.flatMap((a) => [
      [a.accountId, a.currency, statement.from, 'opening', '', '', '', false, 0, 0, a.opening, ''] as Array<string | number | boolean | null>,
      ...a.entries.map((e) => [a.accountId, a.currency, e.at, e.kind, e.transferId, e.reference.type, e.reference.id, e.pending, e.debit, e.credit, e.balance, e.memo]),
      [a.accountId, a.currency, statement.to, 'closing', '', '', '', false, 0, 0, a.closing, ''],
    ]);
    res
      .type('text/csv; charset=utf-8')
      .attachment(`statement-${statement.from.slice(0, 10)}-${statement.to.slice(0, 10)}.csv`)
      .send(toCsv(['account', 'currency', 'at', 'kind', 'transfer', 'reference_type', 'reference_id', 'pending', 'debit', 'credit', 'balance', 'memo'], rows));
  }));

  routes.post('/payments', requireAuth, ...withInput({ ...s.idempotencyHeader, ...s.createPaymentBody }, ['headers', 'body'], async (input, res) => {
    const auth = getAuth(res);
    const { payment, created } = await payments.create({
      userId: auth.userId,
      idempotencyKey: input['idempotency-key'],
      provider: input.provider,
      orderId: input.orderId,
      vendorId: input.vendorId,
      currency: input.currency,
      amount: input.amount,
      payer: await lookupPayer(auth.userId),
    });
    res.status(created ? 201 : 200).json({ data: toPaymentView(payment, { includeCheckout: true }) });
  }));

  routes.get('/payments/:id', requireAuth, ...withInput(s.paymentParams, ['params'], async (input, res) => {
    const auth = getAuth(res);
    const payment = await visiblePayment(input.id, auth);
    const [refundList, disputes] = await Promise.all([refunds.listForPayment(payment._id), models.Dispute.find({ paymentId: payment._id }).limit(100).lean<DisputeDoc[]>()]);
    res.json({ data: toPaymentView(payment, { refunds: refundList, disputes, includeCheckout: payment.userId === auth.userId }) });
  }));

  routes.post('/payments/:id/refunds', requireAuth, ...withInput({ ...s.paymentParams, ...s.idempotencyHeader, ...s.createRefundBody }, ['params', 'headers', 'body'], async (input, res) => {
    const auth = getAuth(res);
    const payment = await visiblePayment(input.id, auth);
    if (!isAdminRole(auth) && payment.vendorId !== auth.userId) throw financeErrors.forbiddenRefund();
    const { refund, created } = await refunds.create({ payment, actorId: auth.userId, idempotencyKey: input['idempotency-key'], amount: input.amount, reason: input.reason ?? null });
    res.status(created ? 201 : 200).json({ data: toRefundView(refund) });
  }));

  routes.get('/disputes', requireAuth, ...withInput(s.listAccountsQuery, ['query'], async (input, res) => {
    const auth = getAuth(res);
    const page = await reads.listDisputes(viewerOf(auth), input);
    res.json({ data: page.data.map(toDisputeView), page: { nextCursor: page.nextCursor, limit: page.limit } });
  }));

  return routes;
}

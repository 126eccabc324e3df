import type { RequestHandler } from 'express';
import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../../platform/context';
import type { EventBus } from '../../platform/events';
import type { AppModule } from '../../platform/module';
import type { CreditHolds, OrdersDirectory } from '../offers';
import type { UserDirectory } from '../users';
import type { WebhookHandler } from '../webhooks';
import type { FinanceConfig } from './finance.config';
import { createAdminLists, type FinanceAdminListQuery, type FinanceAdminPage } from './admin-lists';
import { toAccountView, type toDisputeView, type toPaymentView, type toRefundView } from './finance.mapper';
import type { AccountDoc, ReconciliationDoc } from './finance.model';
import { createFinanceRouter } from './finance.routes';
import { createFinanceServices } from './finance.services';
import type { LedgerFaults } from './ledger';
import type { RiskAssessment } from './risk';

// The finance module's contract. Other modules import only from here (a lint rule enforces it).
export { FINANCE_ERROR_CODES, type FinanceErrorCode } from './finance.errors';
export { readFinanceConfig, type FinanceConfig } from './finance.config';
export { CREDIT_CHANGED_SOCKET_EVENT } from './finance.events';
export type { RiskAssessment, RiskFactor } from './risk';

export type CreditLineView = ReturnType<typeof toAccountView>;
export type PaymentView = ReturnType<typeof toPaymentView>;
export type RefundView = ReturnType<typeof toRefundView>;
export type DisputeView = ReturnType<typeof toDisputeView>;
export type { FinanceAdminListQuery, FinanceAdminPage } from './admin-lists';

/**
 * For the admin module (it mounts /api/admin routes, checks the role and writes the audit trail):
 * each change answers the line before and after it, for the audit record.
 */
export interface FinanceAdmin {
  /** Creates the buyer's line with the vendor in this currency, or changes its limit (and credit days). */
  setLimit(input: { buyerId: string; vendorId: string; currency: string; limit: number; creditDays?: number; actorId: string }): Promise<{ before: CreditLineView | null; after: CreditLineView }>;
  /** A frozen line takes no new holds; what is held, posted and paid stays. */
  freeze(lineId: string, input: { actorId: string; reason: string }): Promise<{ before: CreditLineView; after: CreditLineView }>;
  unfreeze(lineId: string, input: { actorId: string; reason: string | null }): Promise<{ before: CreditLineView; after: CreditLineView }>;
  getLine(lineId: string): Promise<CreditLineView | null>;
  risk(lineId: string): Promise<RiskAssessment>;
  /** Recomputes every balance from the transfers; differences go to /metrics and the log too. */
  reconcile(): Promise<ReconciliationDoc>;
  lastReconciliation(): Promise<ReconciliationDoc | null>;
  /** Every payment, newest first; filters: status, provider, userId (payer or vendor), [from, to) on creation; cursor pages. */
  listPayments(query: FinanceAdminListQuery): Promise<FinanceAdminPage<PaymentView>>;
  /** Every refund, newest first; the same filters (provider and parties copied from the payment). */
  listRefunds(query: FinanceAdminListQuery): Promise<FinanceAdminPage<RefundView>>;
  /** Every dispute, newest first; the same filters, the time range on its opening. */
  listDisputes(query: FinanceAdminListQuery): Promise<FinanceAdminPage<DisputeView>>;
}

export interface FinanceModule extends AppModule {
  /** Offers' port: a hold on the buyer's credit line for a credit acceptance. */
  creditHolds: CreditHolds;
  admin: FinanceAdmin;
  /** Registered by the composition root with the webhook inbox, one per provider. */
  webhookHandlers: Record<'stripe' | 'razorpay' | 'payu', WebhookHandler>;
  /** Wires finance's subscriptions (orders → holds) on the bus; returns a function that removes them. */
  subscribe(events: EventBus): () => void;
  /** Finishes what a crash left undone (unapplied transfers, stale holds and refunds); also on start and on a schedule. */
  repair(): Promise<{ transfers: number; expiredHolds: number; removedHolds: number; refunds: number }>;
}

export interface OrderStatusJob {
  orderId: string;
  offerId: string;
  status: string;
  actorId: string | null;
}

export function createFinanceModule(deps: {
  ctx: AppContext;
  config: FinanceConfig;
  io: IoServer | null;
  auth: { requireAuth: RequestHandler };
  /** Offers' orders: payments "for an order" need it. */
  orders?: OrdersDirectory;
  users?: Pick<UserDirectory, 'notificationProfile'>;
  /** Tests only: crash points inside the ledger. */
  faults?: LedgerFaults;
}): FinanceModule {
  const { ctx, config } = deps;
  const finance = createFinanceServices({ ctx, config, io: deps.io, orders: deps.orders, faults: deps.faults });
  const { credit, ledger, reconciler, reads } = finance;
  const admin = { userId: 'admin', isAdmin: true };
  const view = (line: AccountDoc) => toAccountView(line, null);
  const adminLists = createAdminLists(finance.models);

  // The hold follows its order; the job is keyed by order and status, so a replay changes nothing
  // and a crash after the event loses nothing (BullMQ keeps the job until it ran).
  const orderQueue = ctx.jobs.queue<OrderStatusJob>('finance.order-status', async (job) => {
    await credit.onOrderStatus(job);
  });

  ctx.jobs.schedule('finance.repair', { everyMs: config.repairEveryMs }, async ({ now }) => {
    await repair(now);
  });
  ctx.jobs.schedule('finance.reconcile', { everyMs: config.reconcileEveryMs }, async () => {
    await reconciler.run();
  });

  async function repair(now = ctx.clock()) {
    const transfers = await ledger.repairAll();
    const holds = await credit.sweepHolds(now);
    const refunds = await finance.refunds.finishPending(now);
    return { transfers, expiredHolds: holds.expired, removedHolds: holds.removed, refunds };
  }

  const lookupPayer = async (userId: string) => {
    const profile = await deps.users?.notificationProfile(userId).catch(() => null);
    return { email: profile?.email ?? null, name: profile?.name ?? null };
  };

  return {
    name: 'finance',
    http: createFinanceRouter(finance, deps.auth.requireAuth, lookupPayer),
    async start() {
      try {
        const done = await repair();
        if (done.transfers > 0) ctx.logger.warn('Finance: start-up repair applied unfinished transfers', done);
      } catch (err) {
        ctx.logger.error('Finance: start-up repair failed; the schedule retries', { error: err instanceof Error ? err.message : String(err) });
      }
    },
    creditHolds: { hold: (request) => credit.hold(request), release: (offerId, reason) => credit.release(offerId, reason) },
    admin: {
      async setLimit(input) {
        const { before, after } = await credit.setLimit(input);
        return { before: before.lastSeq === 0 && before.limit === 0 ? null : view(before), after: view(after) };
      },
      async freeze(lineId, input) {
        const { before, after } = await credit.setStatus(lineId, 'frozen', input.reason);
        return { before: view(before), after: view(after) };
      },
      async unfreeze(lineId, input) {
        const { before, after } = await credit.setStatus(lineId, 'active', input.reason);
        return { before: view(before), after: view(after) };
      },
      async getLine(lineId) {
        const line = await reads.getAccount(lineId, admin).catch(() => null);
        return line ? view(line) : null;
      },
      risk: (lineId) => reads.risk(lineId, admin),
      reconcile: () => reconciler.run(),
      lastReconciliation: () => reconciler.last(),
      listPayments: (query) => adminLists.payments(query),
      listRefunds: (query) => adminLists.refunds(query),
      listDisputes: (query) => adminLists.disputes(query),
    },
    webhookHandlers: finance.webhooks,
    subscribe(events) {
      const enqueue = (job: OrderStatusJob) => orderQueue.enqueue(`order:${job.orderId}:${job.status}`, job);
      const offs = [
        events.subscribe('order.created', (p) => enqueue({ orderId: p.orderId, offerId: p.offerId, status: 'created', actorId: null }), { name: 'finance.order-created' }),
        events.subscribe('order.status_changed', (p) => enqueue({ orderId: p.orderId, offerId: p.offerId, status: p.to, actorId: p.actorId }), { name: 'finance.order-status' }),
      ];
      return () => offs.forEach((off) => off());
    },
    repair: () => repair(),
  };
}

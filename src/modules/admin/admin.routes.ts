import type { Request, RequestHandler, Response } from 'express';
import { createModuleRouter, type HttpMethod } from '../../platform/http/router';
import { withInput } from '../../platform/http/validate';
import { getAuth } from '../../platform/auth-context';
import type { AdminActor } from './admin.guard';
import type { OversightPorts } from './admin.ports';
import type { OversightService } from './oversight.service';
import type { createUsersAdminService } from './users-admin.service';
import * as s from './admin.schemas';

function actorOf(req: Request, res: Response): AdminActor {
  const auth = getAuth(res);
  return {
    userId: auth.userId,
    role: auth.role,
    sessionId: auth.sessionId,
    ip: req.ip ?? null,
    userAgent: req.get('user-agent')?.slice(0, 512) ?? null,
    requestId: (res.locals.requestId as string | undefined) ?? null,
  };
}

export interface AdminRouterDeps {
  users: ReturnType<typeof createUsersAdminService>;
  oversight: OversightService;
  /** requireRole('admin', 'super_admin'), put in front of every route below. */
  requireAdmin: RequestHandler;
  ports: { [K in keyof OversightPorts]: boolean };
  /** Users' count repairs are wired (CoreAdminPorts.counts). */
  counts?: boolean;
  /** Failed jobs can be retried (CoreAdminPorts.jobs.retryFailed). */
  jobRetry?: boolean;
}

export function createAdminRouter({ users, oversight, requireAdmin, ports, counts, jobRetry }: AdminRouterDeps) {
  const routes = createModuleRouter('/api/admin');
  // Every admin route is declared through `route`, which puts the role guard first; the role ×
  // route matrix test walks the mounted table, so a route added some other way fails it.
  const route = (method: HttpMethod, path: string, ...handlers: Array<RequestHandler | RequestHandler[]>) => routes[method](path, requireAdmin, ...handlers);
  const data = (res: Response, value: unknown, status = 200) => res.status(status).json({ data: value });

  route('get', '/dashboard', withInput(s.periodQuery, ['query'], async (q, res, req) => data(res, await oversight.dashboard(actorOf(req, res), q))));

  // ---- users ---------------------------------------------------------------------------------
  route('get', '/users', withInput(s.userSearchQuery, ['query'], async (q, res, req) => res.json(await users.search(actorOf(req, res), q))));
  route('get', '/users/:id', withInput(s.userIdParams, ['params'], async ({ id }, res, req) => data(res, await users.view(actorOf(req, res), id))));
  route('post', '/users/:id/suspend', withInput(s.reasonBody, ['params', 'body'], async ({ id, reason }, res, req) => data(res, await users.suspend(actorOf(req, res), id, reason))));
  route('post', '/users/:id/reactivate', withInput(s.reasonBody, ['params', 'body'], async ({ id, reason }, res, req) => data(res, await users.reactivate(actorOf(req, res), id, reason))));
  route('patch', '/users/:id/role', withInput(s.roleBody, ['params', 'body'], async ({ id, role, reason }, res, req) => data(res, await users.changeRole(actorOf(req, res), id, role, reason))));
  if (counts) {
    route('post', '/users/repair-counts', withInput(s.reasonOnlyBody, ['body'], async ({ reason }, res, req) => data(res, await users.repairAllCounts(actorOf(req, res), reason), 202)));
    route('post', '/users/:id/repair-counts', withInput(s.reasonBody, ['params', 'body'], async ({ id, reason }, res, req) => data(res, await users.repairCounts(actorOf(req, res), id, reason))));
  }
  route('post', '/users/:id/password-reset', withInput(s.reasonBody, ['params', 'body'], async ({ id, reason }, res, req) => data(res, await users.forcePasswordReset(actorOf(req, res), id, reason))));

  // ---- audit (read-only: no route edits or deletes an entry) -----------------------------------
  route('get', '/audit', withInput(s.auditQuery, ['query'], async (q, res, req) => res.json(await oversight.listAudit(actorOf(req, res), q))));
  route('get', '/audit/export', withInput(s.auditExportQuery, ['query'], async (q, res, req) => {
    const records = await oversight.exportAudit(actorOf(req, res), q);
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8; header=present');
    res.setHeader('Content-Disposition', `attachment; filename="audit-${new Date().toISOString().slice(0, 10)}.csv"`);
    res.setHeader('Cache-Control', 'no-store');
    for await (const record of records) {
      if (!res.write(record)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  }));

  // ---- system --------------------------------------------------------------------------------
  route('get', '/system/events', withInput(s.systemEventsQuery, ['query'], async (q, res, req) => res.json(await oversight.systemEvents(actorOf(req, res), q))));
  route('get', '/jobs/failed', withInput(s.failedJobsQuery, ['query'], async (q, res, req) => res.json(await oversight.failedJobs(actorOf(req, res), q))));
  if (jobRetry) route('post', '/jobs/failed/:id/retry', withInput(s.failedJobParams, ['params'], async ({ id }, res, req) => data(res, await oversight.retryFailedJob(actorOf(req, res), id))));

  // ---- analytics (PostgreSQL) ------------------------------------------------------------------
  route('get', '/analytics/timeseries', withInput(s.timeseriesQuery, ['query'], async (q, res, req) => data(res, await oversight.timeseries(actorOf(req, res), q))));
  route('get', '/analytics/funnel', withInput(s.periodQuery, ['query'], async (q, res, req) => data(res, { steps: await oversight.funnel(actorOf(req, res), q) })));
  route('get', '/analytics/cohorts', withInput(s.cohortsQuery, ['query'], async (q, res, req) => data(res, { cohorts: await oversight.cohorts(actorOf(req, res), q) })));
  route('get', '/analytics/top', withInput(s.topQuery, ['query'], async (q, res, req) => data(res, await oversight.top(actorOf(req, res), q))));

  // ---- oversight of other modules, each mounted only when its port is wired ----------------------
  if (ports.offers) {
    route('get', '/offers', withInput(s.offersQuery, ['query'], async (q, res, req) => res.json(await oversight.listOffers(actorOf(req, res), q))));
    route('get', '/orders', withInput(s.ordersQuery, ['query'], async (q, res, req) => res.json(await oversight.listOrders(actorOf(req, res), q))));
    route('post', '/orders/:id/cancel', withInput(s.anyIdReasonBody, ['params', 'body'], async ({ id, reason }, res, req) => data(res, await oversight.cancelOrder(actorOf(req, res), id, reason))));
  }
  if (ports.webhooks) {
    route('get', '/webhooks', withInput(s.webhookEventsQuery, ['query'], async (q, res, req) => res.json(await oversight.listWebhookEvents(actorOf(req, res), q))));
    route('get', '/webhooks/:id', withInput(s.anyIdParams, ['params'], async ({ id }, res, req) => data(res, await oversight.getWebhookEvent(actorOf(req, res), id))));
    route('post', '/webhooks/:id/replay', withInput(s.anyIdParams, ['params'], async ({ id }, res, req) => data(res, await oversight.replayWebhookEvent(actorOf(req, res), id))));
  }
  if (ports.finance) {
    route('put', '/finance/credit-lines', withInput(s.creditLimitBody, ['body'], async (body, res, req) => data(res, await oversight.setCreditLimit(actorOf(req, res), body))));
    route('get', '/finance/credit-lines/:id', withInput(s.anyIdParams, ['params'], async ({ id }, res, req) => data(res, await oversight.getCreditLine(actorOf(req, res), id))));
    route('get', '/finance/credit-lines/:id/risk', withInput(s.anyIdParams, ['params'], async ({ id }, res, req) => data(res, await oversight.creditRisk(actorOf(req, res), id))));
    route('post', '/finance/credit-lines/:id/freeze', withInput(s.anyIdReasonBody, ['params', 'body'], async ({ id, reason }, res, req) => data(res, await oversight.freezeCreditLine(actorOf(req, res), id, true, reason))));
    route('post', '/finance/credit-lines/:id/unfreeze', withInput(s.anyIdReasonBody, ['params', 'body'], async ({ id, reason }, res, req) => data(res, await oversight.freezeCreditLine(actorOf(req, res), id, false, reason))));
    route('get', '/finance/reconciliation', async (req, res) => data(res, await oversight.lastReconciliation(actorOf(req, res))));
    route('post', '/finance/reconciliation', async (req, res) => data(res, await oversight.reconcile(actorOf(req, res))));
    route('get', '/finance/payments', withInput(s.financePaymentsQuery, ['query'], async (q, res, req) => res.json(await oversight.listFinancePayments(actorOf(req, res), q))));
    route('get', '/finance/refunds', withInput(s.financeRefundsQuery, ['query'], async (q, res, req) => res.json(await oversight.listFinanceRefunds(actorOf(req, res), q))));
    route('get', '/finance/disputes', withInput(s.financeDisputesQuery, ['query'], async (q, res, req) => res.json(await oversight.listFinanceDisputes(actorOf(req, res), q))));
  }
  if (ports.notifications) {
    route('get', '/notifications/stats', withInput(s.periodQuery, ['query'], async (q, res, req) => data(res, await oversight.notificationStats(actorOf(req, res), q))));
    route('post', '/notifications/campaigns', withInput(s.campaignBody, ['body'], async ({ data: links, ...body }, res, req) => {
      // The schema checked that every value of `data` is a string.
      const campaign = { ...body, ...(links ? { data: Object.fromEntries(Object.entries(links).map(([k, v]) => [k, String(v)])) } : {}) };
      data(res, await oversight.createCampaign(actorOf(req, res), campaign), 201);
    }));
    route('get', '/notifications/campaigns/:id', withInput(s.userIdParams, ['params'], async ({ id }, res, req) => data(res, await oversight.getCampaign(actorOf(req, res), id))));
    route('get', '/notifications/:id/deliveries', withInput(s.userIdParams, ['params'], async ({ id }, res, req) => data(res, await oversight.deliveries(actorOf(req, res), id))));
  }
  if (ports.chat) {
    route('post', '/chat/conversations/:id/repair', withInput(s.reasonBody, ['params', 'body'], async ({ id, reason }, res, req) => data(res, await oversight.repairConversation(actorOf(req, res), id, reason))));
  }
  return routes;
}

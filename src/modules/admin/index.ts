import type { RequestHandler } from 'express';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import type { Role } from '../../platform/auth-context';
import { createLocks } from '../../platform/locks';
import type { AdminConfig } from './admin.config';
import { guardService, type AdminActor } from './admin.guard';
import { getAdminModels, type SystemEventKind } from './admin.model';
import type { CoreAdminPorts, OversightPorts } from './admin.ports';
import { createAuditTrail } from './audit.service';
import { createSystemEvents } from './system-events';
import { createDependencyWatch, type Dependency, type DependencyChange } from './dependency-watch';
import { createUsersAdminService } from './users-admin.service';
import { createOversightService } from './oversight.service';
import { createAdminRouter } from './admin.routes';

// The admin module's contract. Other modules import only from here.
export { readAdminConfig, type AdminConfig } from './admin.config';
export { ADMIN_ERROR_CODES, type AdminErrorCode } from './admin.errors';
export type { AdminActor } from './admin.guard';
export type { CoreAdminPorts, OversightPorts, ChatRepairPort, OffersAdminPort, WebhooksAdminPort, FinanceAdminPort, NotificationsAdminPort, AccessPort, SessionsPort, Page } from './admin.ports';
export { csvField, csvRecord } from './csv';
export type { DependencyChange, Dependency } from './dependency-watch';

export interface AdminModule extends AppModule {
  /** The services behind the routes; every method refuses (FORBIDDEN) unless its first argument is an admin actor. */
  users: ReturnType<typeof createUsersAdminService>;
  oversight: ReturnType<typeof createOversightService>;
  /** For the composition root: dependency outages seen elsewhere (analytics' PostgreSQL writes). */
  recordSystemEvent(kind: SystemEventKind, details?: Record<string, string | number | boolean | null>): Promise<void>;
  /**
   * For the composition root: a dependency's health as another module sees it (analytics'
   * PostgreSQL writes). Joins the admin's own probes: only a change of state is recorded.
   */
  dependencyChanged(change: DependencyChange): void;
  /** Probes MongoDB, PostgreSQL and Redis now (also on a timer) and records what changed. */
  checkDependencies(): Promise<void>;
  /** What this process believes about each dependency now (up or down; absent before the first probe). */
  dependencyState(): Partial<Record<Dependency, 'up' | 'down'>>;
  /** Copies failed jobs not yet recorded into the system events (also on a schedule). */
  watchFailedJobs(): Promise<number>;
}

export interface AdminDeps extends CoreAdminPorts, OversightPorts {
  ctx: AppContext;
  config: AdminConfig;
  requireRole: (...roles: Role[]) => RequestHandler;
}

/**
 * /api/admin: the dashboard, accounts, the audit trail, system events, analytics reads, and
 * oversight of offers, finance, notifications and webhooks (each group mounted only when its port
 * is wired). The role is checked twice: requireRole in front of every route, and in every service
 * method (guardService), so no other caller can reach an admin action without an admin actor.
 */
export function createAdminModule(deps: AdminDeps): AdminModule {
  const { ctx, config } = deps;
  const models = getAdminModels(ctx.mongo);
  const audit = createAuditTrail(models, ctx.clock, ctx.logger);
  const systemEvents = createSystemEvents(models, ctx.clock, ctx.logger);
  const locks = createLocks(ctx.mongo);
  // A full count repair walks every account: a durable job (retried; its failure lands in the failed
  // jobs), audited when it ends with what it checked and repaired, as the admin who asked.
  const counts = deps.counts;
  const repairAll = counts
    ? ctx.jobs.queue<{ actor: AdminActor; reason: string }>(
        'admin.repair-all-counts',
        async ({ actor, reason }, job) => {
          const result = await counts.repairAllCounts();
          await audit.record(actor, { action: 'users.repair_all_counts', targetType: 'users', targetId: null, before: null, after: { ...result, jobKey: job.key }, reason });
        },
        { retry: { attempts: 3, baseDelayMs: 5_000 } },
      )
    : null;
  // One run per minute at most: a second click within it is the same job.
  const enqueueRepairAll = async (actor: AdminActor, reason: string) => {
    const key = `repair-all-counts:${ctx.clock().toISOString().slice(0, 16)}`;
    await repairAll?.enqueue(key, { actor, reason });
    return key;
  };
  const users = guardService(
    createUsersAdminService({ ...deps, audit, withLock: (key, work) => locks.withLock(key, work, { leaseMs: 10_000 }), enqueueRepairAll: repairAll ? enqueueRepairAll : undefined }),
  );
  const oversight = guardService(
    createOversightService({ ...deps, audit, systemEvents, maxPeriodDays: config.maxPeriodDays, auditExportMaxRows: config.auditExportMaxRows }),
  );
  const dependencies = createDependencyWatch({
    mongo: ctx.mongo,
    postgres: ctx.postgres,
    redis: ctx.redis,
    everyMs: config.dependencyCheckEveryMs,
    write: (doc) => models.systemEvents.create({ ...doc, process: systemEvents.processName }),
    clock: ctx.clock,
    logger: ctx.logger,
  });
  async function watchFailedJobs(): Promise<number> {
    let recorded = 0;
    for (const job of await deps.jobs.listFailed({ limit: 200 })) {
      const failedAt = job.failedAt ?? job.createdAt;
      const details = { queue: job.queue, key: job.key, attempts: job.attemptsMade, reason: job.failedReason.slice(0, 300), failedAt };
      if (await systemEvents.recordOnce(`job:${job.queue}:${job.key}:${failedAt}`, 'job.failed', details)) recorded += 1;
    }
    return recorded;
  }
  ctx.jobs.schedule('admin-failed-jobs-watch', { everyMs: config.jobWatchEveryMs }, async () => {
    await watchFailedJobs();
  });

  return {
    name: 'admin',
    recordSystemEvent: (kind, details = {}) => systemEvents.record(kind, details),
    dependencyChanged: (change) => dependencies.report(change),
    checkDependencies: () => dependencies.check(),
    dependencyState: () => dependencies.state(),
    watchFailedJobs,
    http: createAdminRouter({
      users,
      oversight,
      requireAdmin: deps.requireRole('admin', 'super_admin'),
      counts: !!deps.counts,
      jobRetry: !!deps.jobs.retryFailed,
      ports: { offers: !!deps.offers, webhooks: !!deps.webhooks, finance: !!deps.finance, notifications: !!deps.notifications, chat: !!deps.chat },
    }),
    users,
    oversight,
    async start() {
      await systemEvents.record('process.started', { pid: process.pid, node: process.version });
      dependencies.start();
    },
    async stop() {
      await dependencies.stop();
      await systemEvents.record('process.stopped', { pid: process.pid, uptimeSeconds: Math.round(process.uptime()) });
    },
  };
}

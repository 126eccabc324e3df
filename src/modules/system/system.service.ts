import type { AppContext } from '../../platform/context';
import { pingMongo } from '../../platform/mongo';
import { pingPostgres } from '../../platform/postgres';
import { pingRedis } from '../../platform/redis';

export type CheckStatus = 'up' | 'down' | 'disabled';

export interface DependencyCheck {
  status: CheckStatus;
  latencyMs?: number;
  error?: string;
}

export interface Readiness {
  status: 'ok' | 'degraded' | 'unavailable';
  checks: { mongodb: DependencyCheck; postgres: DependencyCheck; redis: DependencyCheck };
  /** Where background jobs run; `note` says what the in-process mode (no Redis) does not guarantee. */
  jobs: { mode: 'redis' | 'in-process'; running: boolean; note?: string };
}

const PING_TIMEOUT_MS = 2_000;

async function timed(ping: (() => Promise<void>) | null): Promise<DependencyCheck> {
  if (!ping) return { status: 'disabled' };
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), PING_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (err) {
    // Only a short reason: driver messages may name hosts, and this endpoint is public to probes.
    const reason = err instanceof Error && err.message === 'timed out' ? 'timed out' : 'unreachable';
    return { status: 'down', error: reason };
  } finally {
    clearTimeout(timer);
  }
}

export interface SystemServiceDeps {
  ctx: AppContext;
  openSockets: () => number;
  isShuttingDown: () => boolean;
}

export function createSystemService({ ctx, openSockets, isShuttingDown }: SystemServiceDeps) {
  const { mongo, postgres, redis } = ctx;
  return {
    async readiness(): Promise<Readiness> {
      const [mongodb, pg, rd] = await Promise.all([
        timed(() => pingMongo(mongo)),
        timed(postgres ? () => pingPostgres(postgres) : null),
        timed(redis ? () => pingRedis(redis) : null),
      ]);
      const checks = { mongodb, postgres: pg, redis: rd };
      let status: Readiness['status'] = 'ok';
      if (mongodb.status !== 'up' || isShuttingDown()) status = 'unavailable';
      else if (pg.status !== 'up' || rd.status !== 'up') status = 'degraded';
      const { mode, running, note } = ctx.jobs.status();
      return { status, checks, jobs: { mode, running, ...(note ? { note } : {}) } };
    },

    stats() {
      const memory = process.memoryUsage();
      const loop = ctx.metrics.eventLoop;
      const toMs = (ns: number) => Math.round((ns / 1e6) * 100) / 100;
      return {
        startedAt: ctx.startedAt.toISOString(),
        uptimeSeconds: Math.round(process.uptime()),
        memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal },
        eventLoopLagMs: { mean: toMs(loop.mean || 0), p99: toMs(loop.percentile(99) || 0), max: toMs(loop.max || 0) },
        openSockets: openSockets(),
        requests: { total: ctx.metrics.requestCounts.total, byStatusClass: { ...ctx.metrics.requestCounts.byStatusClass } },
      };
    },
  };
}

export type SystemService = ReturnType<typeof createSystemService>;

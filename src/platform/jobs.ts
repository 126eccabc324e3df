import type { Counter } from 'prom-client';
import type { Logger } from './logger';
import { createJobHooks } from './jobs/hooks';
import { assertQueueName } from './jobs/keys';
import { createMemoryBackend } from './jobs/memory-backend';
import { createRedisBackend } from './jobs/redis-backend';
import {
  DEFAULT_RETRY,
  type FailedJob,
  type JobHandler,
  type JobQueue,
  type JobRunnerStatus,
  type QueueOptions,
  type ReconcileOptions,
  type ScheduleHandler,
  type ScheduleOptions,
} from './jobs/types';

export * from './jobs/types';
export { backoffDelayMs, nextDueAt, retryAt } from './jobs/timing';
export { encodeJobId, decodeJobId } from './jobs/keys';

/**
 * Durable background work. A module registers its queues (and schedules) when it is created, the
 * server starts the runner after every module is wired, and the MongoDB record stays the truth:
 * a job is keyed by its business id, its handler is idempotent, and a reconciliation schedule
 * re-enqueues what a lost job left pending (docs/architecture.md, "Domain events and jobs").
 */
export interface JobRunner {
  readonly mode: 'redis' | 'in-process';
  /** Registers a named queue with its handler; enqueue through the returned handle. */
  queue<T>(name: string, handler: JobHandler<T>, options?: QueueOptions): JobQueue<T>;
  /** Runs `handler` every `everyMs`; with Redis, once per tick across every process. */
  schedule(name: string, options: ScheduleOptions, handler: ScheduleHandler): void;
  /** A schedule that re-enqueues every record `findPending(now)` reports, by its key. */
  reconcile<T>(queue: JobQueue<T>, options: ReconcileOptions<T>): void;
  /** Jobs that spent their attempts, newest first (for an admin API). */
  listFailed(options?: { queue?: string; limit?: number }): Promise<FailedJob[]>;
  /** Runs a failed job again from its first attempt (for an admin API); false when no failed job has that queue and key (never failed, gone, or already retried). */
  retryFailed(queue: string, key: string): Promise<boolean>;
  start(): Promise<void>;
  /** Stops taking jobs and waits up to timeoutMs for the running ones to finish. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  status(): JobRunnerStatus;
}

export interface JobRunnerDeps {
  /** Unset: the in-process mode. */
  redisUrl: string | null;
  keyPrefix: string;
  logger: Logger;
  metrics?: { jobAttempts: Counter<'queue' | 'outcome'> };
  clock?: () => Date;
  random?: () => number;
  /** Default bound for close(). */
  shutdownTimeoutMs?: number;
  /** Redis mode: how often to check that this process's schedules still exist (default 60 s). */
  scheduleCheckMs?: number;
}

export function createJobRunner(deps: JobRunnerDeps): JobRunner {
  const clock = deps.clock ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const hooks = createJobHooks(deps.logger, deps.metrics);
  const backend = deps.redisUrl
    ? createRedisBackend({ url: deps.redisUrl, keyPrefix: deps.keyPrefix, logger: deps.logger, clock, random, hooks, scheduleCheckMs: deps.scheduleCheckMs })
    : createMemoryBackend({ logger: deps.logger, clock, random, hooks });
  const names = new Set<string>();

  function claimName(name: string): void {
    assertQueueName(name);
    if (names.has(name)) throw new Error(`A queue or schedule named "${name}" is already registered`);
    names.add(name);
  }

  function schedule(name: string, options: ScheduleOptions, handler: ScheduleHandler): void {
    claimName(`schedule.${name}`);
    if (!Number.isInteger(options.everyMs) || options.everyMs < 100) throw new Error('everyMs must be an integer of at least 100');
    backend.schedule(name, options, handler);
  }

  return {
    mode: backend.mode,

    queue(name, handler, options = {}) {
      claimName(name);
      const retry = { ...DEFAULT_RETRY, ...options.retry };
      if (!Number.isInteger(retry.attempts) || retry.attempts < 1) throw new Error('retry.attempts must be a positive integer');
      return backend.queue(name, handler, { concurrency: Math.max(1, options.concurrency ?? 1), retry });
    },

    schedule,

    reconcile(queue, options) {
      schedule(`reconcile.${queue.name}`, { everyMs: options.everyMs }, async ({ now }) => {
        const pending = await options.findPending(now);
        for (const record of pending) await queue.enqueue(record.key, record.data);
        if (pending.length > 0) deps.logger.info('Jobs: reconciliation re-enqueued pending records', { queue: queue.name, count: pending.length });
      });
    },

    listFailed(options = {}) {
      return backend.listFailed(options.queue, Math.min(Math.max(options.limit ?? 50, 1), 1_000));
    },

    retryFailed: (queue, key) => backend.retryFailed(queue, key),

    start: () => backend.start(),
    close: (options = {}) => backend.close(options.timeoutMs ?? deps.shutdownTimeoutMs ?? 10_000),
    status: () => backend.status(),
  };
}

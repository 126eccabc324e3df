import type { Logger } from '../logger';
import { backoffDelayMs, nextDueAt } from './timing';
import {
  PermanentJobError,
  type FailedJob,
  type JobBackend,
  type JobHandler,
  type JobQueue,
  type JobRunnerStatus,
  type RetryPolicy,
  type ScheduleHandler,
  type ScheduleOptions,
} from './types';
import type { JobHooks } from './hooks';

type State = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

interface MemoryJob {
  key: string;
  data: unknown;
  state: State;
  attemptsMade: number;
  failedReason: string;
  createdAt: Date;
  failedAt: Date | null;
}

interface MemoryQueue {
  name: string;
  handler: JobHandler<unknown>;
  concurrency: number;
  retry: RetryPolicy;
  jobs: Map<string, MemoryJob>;
  ready: MemoryJob[];
  active: number;
}

export const IN_PROCESS_NOTE =
  'REDIS_URL is not set: jobs run in this process only and are lost on restart (reconciliation re-enqueues them); ' +
  'schedules tick on every process; dedupe holds within this process';

// Finished jobs kept per queue for dedupe and for listFailed; the oldest are forgotten first.
const KEEP_FINISHED = 10_000;

/**
 * The same contract without Redis: timers instead of delayed sets, a Map instead of job ids.
 * Nothing survives the process, and nothing is shared with another one (docs/architecture.md).
 */
export function createMemoryBackend(deps: { logger: Logger; clock: () => Date; random: () => number; hooks: JobHooks }): JobBackend {
  const { logger, clock, random, hooks } = deps;
  const queues = new Map<string, MemoryQueue>();
  const schedules: Array<{ name: string; everyMs: number; handler: ScheduleHandler }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let started = false;
  let closing = false;

  function later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, Math.max(0, ms));
    timer.unref();
    timers.add(timer);
  }

  function track(work: Promise<void>): void {
    running.add(work);
    void work.finally(() => running.delete(work));
  }

  function forgetOldFinished(queue: MemoryQueue): void {
    if (queue.jobs.size <= KEEP_FINISHED) return;
    for (const [key, job] of queue.jobs) {
      if (queue.jobs.size <= KEEP_FINISHED) break;
      if (job.state === 'completed' || job.state === 'failed') queue.jobs.delete(key);
    }
  }

  async function attempt(queue: MemoryQueue, job: MemoryJob): Promise<void> {
    const context = { key: job.key, queue: queue.name, attempt: job.attemptsMade + 1, maxAttempts: queue.retry.attempts };
    try {
      await queue.handler(job.data, context);
      job.attemptsMade += 1;
      job.state = 'completed';
      hooks.attempt(queue.name, 'completed');
    } catch (err) {
      job.attemptsMade += 1;
      job.failedReason = err instanceof Error ? err.message : String(err);
      const permanent = err instanceof PermanentJobError;
      if (!permanent && job.attemptsMade < queue.retry.attempts && !closing) {
        job.state = 'delayed';
        hooks.attempt(queue.name, 'retrying', err, context);
        later(backoffDelayMs(job.attemptsMade, queue.retry, random), () => makeReady(queue, job));
      } else {
        job.state = 'failed';
        job.failedAt = clock();
        hooks.attempt(queue.name, 'failed', err, context);
      }
    } finally {
      forgetOldFinished(queue);
    }
  }

  function makeReady(queue: MemoryQueue, job: MemoryJob): void {
    if (closing) return;
    job.state = 'waiting';
    queue.ready.push(job);
    pump(queue);
  }

  function pump(queue: MemoryQueue): void {
    while (started && !closing && queue.active < queue.concurrency && queue.ready.length > 0) {
      const job = queue.ready.shift() as MemoryJob;
      job.state = 'active';
      queue.active += 1;
      track(
        attempt(queue, job).finally(() => {
          queue.active -= 1;
          pump(queue);
        }),
      );
    }
  }

  function arm(schedule: (typeof schedules)[number]): void {
    const due = nextDueAt(clock(), schedule.everyMs);
    later(due.getTime() - clock().getTime(), () => {
      if (closing) return;
      track(
        Promise.resolve()
          .then(() => schedule.handler({ scheduledAt: due, now: clock() }))
          .then(() => hooks.attempt(`schedule.${schedule.name}`, 'completed'))
          .catch((err: unknown) => hooks.attempt(`schedule.${schedule.name}`, 'failed', err)),
      );
      arm(schedule);
    });
  }

  return {
    mode: 'in-process',

    queue<T>(name: string, handler: JobHandler<T>, options: { concurrency: number; retry: RetryPolicy }): JobQueue<T> {
      const queue: MemoryQueue = {
        name,
        handler: handler as JobHandler<unknown>,
        concurrency: options.concurrency,
        retry: options.retry,
        jobs: new Map(),
        ready: [],
        active: 0,
      };
      queues.set(name, queue);
      return {
        name,
        async enqueue(key, data, enqueueOptions = {}) {
          if (!key) throw new Error('A job key must not be empty');
          if (queue.jobs.has(key)) return;
          const job: MemoryJob = { key, data, state: 'delayed', attemptsMade: 0, failedReason: '', createdAt: clock(), failedAt: null };
          queue.jobs.set(key, job);
          if (enqueueOptions.delayMs && enqueueOptions.delayMs > 0) later(enqueueOptions.delayMs, () => makeReady(queue, job));
          else makeReady(queue, job);
        },
      };
    },

    schedule(name: string, options: ScheduleOptions, handler: ScheduleHandler) {
      const schedule = { name, everyMs: options.everyMs, handler };
      schedules.push(schedule);
      if (started) arm(schedule);
    },

    async listFailed(queueName, limit) {
      const failed: FailedJob[] = [];
      for (const queue of queues.values()) {
        if (queueName && queue.name !== queueName) continue;
        for (const job of queue.jobs.values()) {
          if (job.state !== 'failed') continue;
          failed.push({
            queue: queue.name,
            key: job.key,
            data: job.data,
            attemptsMade: job.attemptsMade,
            failedReason: job.failedReason,
            createdAt: job.createdAt.toISOString(),
            failedAt: job.failedAt?.toISOString() ?? null,
          });
        }
      }
      return failed.sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? '')).slice(0, limit);
    },

    async retryFailed(queueName, key) {
      const queue = queues.get(queueName);
      const job = queue?.jobs.get(key);
      if (!queue || !job || job.state !== 'failed' || closing) return false;
      job.attemptsMade = 0;
      job.failedReason = '';
      job.failedAt = null;
      makeReady(queue, job);
      return true;
    },

    async start() {
      if (started) return;
      started = true;
      logger.warn(`Jobs: ${IN_PROCESS_NOTE}`);
      for (const schedule of schedules) arm(schedule);
      for (const queue of queues.values()) pump(queue);
    },

    async close(timeoutMs) {
      if (closing) return;
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([Promise.allSettled([...running]).then(() => 'done' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') logger.warn('Jobs: shutdown deadline reached with jobs still running', { running: running.size });
    },

    status(): JobRunnerStatus {
      return {
        mode: 'in-process',
        running: started && !closing,
        queues: [...queues.keys()],
        schedules: schedules.map((s) => s.name),
        note: IN_PROCESS_NOTE,
      };
    },
  };
}

import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../logger';
import { backoffDelayMs } from './timing';
import { decodeJobId, encodeJobId } from './keys';
import type { JobHooks } from './hooks';
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

export interface RedisBackendDeps {
  url: string;
  /** config.redis.keyPrefix; BullMQ's keys live under `<prefix>bull:`. */
  keyPrefix: string;
  logger: Logger;
  clock: () => Date;
  random: () => number;
  hooks: JobHooks;
  /** How often this process checks that its schedules still exist in Redis (a flush removes them). */
  scheduleCheckMs?: number;
}

const SCHEDULES_QUEUE = 'schedules';
// A completed job is remembered this long, so enqueuing its key again within it runs nothing.
const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 };
// Failed jobs stay for an admin to read (listFailed) and retry; the oldest go past these bounds.
const KEEP_FAILED = { age: 30 * 24 * 3600, count: 10_000 };
// Redis away: an enqueue waits this long in ioredis' offline queue before the caller hears of it.
const ENQUEUE_TIMEOUT_MS = 3_000;
const START_WAIT_MS = 2_000;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

interface QueueDefinition {
  name: string;
  handler: JobHandler<unknown>;
  concurrency: number;
  retry: RetryPolicy;
}

/**
 * BullMQ on the configured Redis. One connection of its own (BullMQ needs maxRetriesPerRequest:
 * null; the app's main client fails fast instead), shared by every queue and worker; each worker
 * duplicates it once for its blocking reads.
 */
export function createRedisBackend(deps: RedisBackendDeps): JobBackend {
  const { logger, clock, random, hooks } = deps;
  const prefix = `${deps.keyPrefix}bull`;
  const definitions = new Map<string, QueueDefinition>();
  const schedules = new Map<string, { everyMs: number; handler: ScheduleHandler }>();
  const producers = new Map<string, Queue>();
  const workers: Worker[] = [];
  const active = new Set<Promise<unknown>>();
  let connection: Redis | null = null;
  let watchdog: NodeJS.Timeout | undefined;
  let started = false;
  let closing = false;

  // While Redis is away every client reports each reconnect; one line per source until it is back.
  const reported = new Set<string>();
  const warnOnce = (source: string, err: Error) => {
    if (reported.has(source)) return;
    reported.add(source);
    logger.warn('Jobs: Redis error', { source, error: err.message });
  };

  function redis(): Redis {
    if (connection) return connection;
    connection = new Redis(deps.url, {
      maxRetriesPerRequest: null,
      connectTimeout: 3_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
      connectionName: 'trade-backend:jobs',
      // Workers' copies sit in blocking reads; a disconnect need not wait 2 s for Redis to close them.
      disconnectTimeout: 200,
    });
    connection.on('error', (err) => warnOnce('connection', err));
    connection.on('ready', () => reported.clear());
    return connection;
  }

  function producer(name: string): Queue {
    let queue = producers.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: redis(), prefix });
      queue.on('error', (err) => warnOnce(`queue ${name}`, err));
      producers.set(name, queue);
    }
    return queue;
  }

  function startWorker(name: string, concurrency: number, retry: RetryPolicy | null, process: (job: Job) => Promise<void>): void {
    const worker = new Worker(
      name,
      (job: Job) => {
        const work = process(job);
        active.add(work);
        return work.finally(() => active.delete(work));
      },
      {
        connection: redis(),
        prefix,
        concurrency,
        autorun: false,
        settings: retry ? { backoffStrategy: (attemptsMade: number) => backoffDelayMs(attemptsMade, retry, random) } : {},
      },
    );
    worker.on('error', (err) => warnOnce(`worker ${name}`, err));
    workers.push(worker);
    void worker.run().catch((err: unknown) => logger.error('Jobs: a worker stopped', { queue: name, error: message(err) }));
  }

  function startQueue(definition: QueueDefinition): void {
    startWorker(definition.name, definition.concurrency, definition.retry, async (job) => {
      const context = {
        key: decodeJobId(job.id ?? ''),
        queue: definition.name,
        attempt: job.attemptsMade + 1,
        maxAttempts: job.opts.attempts ?? 1,
      };
      try {
        await definition.handler(job.data, context);
        hooks.attempt(definition.name, 'completed');
      } catch (err) {
        const permanent = err instanceof PermanentJobError;
        hooks.attempt(definition.name, permanent || context.attempt >= context.maxAttempts ? 'failed' : 'retrying', err, context);
        throw permanent ? new UnrecoverableError(err.message) : err;
      }
    });
  }

  function upsertSchedule(name: string, everyMs: number) {
    return producer(SCHEDULES_QUEUE).upsertJobScheduler(
      name,
      { every: everyMs },
      { name, data: {}, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
    );
  }

  /** Puts back a schedule that vanished from Redis (FLUSHALL, a failover to an empty replica). */
  async function restoreMissingSchedules(): Promise<void> {
    const queue = producer(SCHEDULES_QUEUE);
    for (const [name, schedule] of schedules) {
      if (closing) return;
      if (await queue.getJobScheduler(name)) continue;
      logger.warn('Jobs: a schedule was missing from Redis; writing it again', { schedule: name });
      await upsertSchedule(name, schedule.everyMs);
    }
  }

  let schedulesWorker = false;
  function startSchedulesWorker(): void {
    if (schedulesWorker) return;
    schedulesWorker = true;
    startWorker(SCHEDULES_QUEUE, 4, null, async (job) => {
      const schedule = schedules.get(job.name);
      if (!schedule) return; // a schedule another version of the app still has; harmless
      // Scheduler job ids are `repeat:<schedule>:<slot millis>`.
      const slot = Number((job.id ?? '').split(':').pop());
      const scheduledAt = new Date(Number.isFinite(slot) ? slot : job.timestamp);
      try {
        await schedule.handler({ scheduledAt, now: clock() });
        hooks.attempt(`schedule.${job.name}`, 'completed');
      } catch (err) {
        // No retries: the next tick is the retry.
        hooks.attempt(`schedule.${job.name}`, 'failed', err, { key: job.name, queue: SCHEDULES_QUEUE, attempt: 1, maxAttempts: 1 });
        throw err;
      }
    });
    watchdog = setInterval(() => {
      restoreMissingSchedules().catch((err: unknown) => logger.warn('Jobs: could not check the schedules', { error: message(err) }));
    }, deps.scheduleCheckMs ?? 60_000);
    watchdog.unref();
  }

  function startSchedules(): Promise<unknown> {
    if (schedules.size === 0) return Promise.resolve();
    startSchedulesWorker();
    return Promise.all([...schedules].map(([name, schedule]) => upsertSchedule(name, schedule.everyMs)));
  }

  return {
    mode: 'redis',

    queue<T>(name: string, handler: JobHandler<T>, options: { concurrency: number; retry: RetryPolicy }): JobQueue<T> {
      const definition: QueueDefinition = { name, handler: handler as JobHandler<unknown>, ...options };
      definitions.set(name, definition);
      if (started) startQueue(definition);
      return {
        name,
        async enqueue(key, data, enqueueOptions = {}) {
          await withTimeout(
            producer(name).add(name, data, {
              jobId: encodeJobId(key),
              attempts: options.retry.attempts,
              backoff: { type: 'jittered' },
              delay: enqueueOptions.delayMs,
              removeOnComplete: KEEP_COMPLETED,
              removeOnFail: KEEP_FAILED,
            }),
            ENQUEUE_TIMEOUT_MS,
            `Enqueuing a job on ${name}`,
          );
        },
      };
    },

    schedule(name: string, options: ScheduleOptions, handler: ScheduleHandler) {
      schedules.set(name, { everyMs: options.everyMs, handler });
      if (!started || closing) return;
      startSchedulesWorker();
      upsertSchedule(name, options.everyMs).catch((err: unknown) => logger.error('Jobs: could not write a schedule', { schedule: name, error: message(err) }));
    },

    async listFailed(queueName, limit) {
      const names = queueName ? [queueName] : [...definitions.keys()];
      const lists = await Promise.all(names.map((name) => producer(name).getFailed(0, limit - 1)));
      return lists
        .flat()
        .map(
          (job): FailedJob => ({
            queue: job.queueName,
            key: decodeJobId(job.id ?? ''),
            data: job.data,
            attemptsMade: job.attemptsMade,
            failedReason: job.failedReason,
            createdAt: new Date(job.timestamp).toISOString(),
            failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
          }),
        )
        .sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''))
        .slice(0, limit);
    },

    async retryFailed(queueName, key) {
      if (!definitions.has(queueName)) return false;
      const job = await producer(queueName).getJob(encodeJobId(key));
      if (!job || !(await job.isFailed())) return false;
      try {
        // Atomic in BullMQ: of two retries at once, one moves the job and the other is refused.
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        return true;
      } catch {
        return false;
      }
    },

    async start() {
      if (started) return;
      started = true;
      for (const definition of definitions.values()) startQueue(definition);
      // With Redis away the schedulers are written once it is back; the start does not wait for that.
      const upserts = startSchedules().catch((err: unknown) => logger.error('Jobs: could not write the schedules', { error: message(err) }));
      await withTimeout(upserts, START_WAIT_MS, 'Writing the job schedules').catch(() =>
        logger.warn('Jobs: Redis is not answering; schedules will be written when it is back'),
      );
    },

    async close(timeoutMs) {
      if (closing) return;
      closing = true;
      clearInterval(watchdog);
      // With Redis away and nothing running there is nothing to wait for: force the workers
      // closed so their lock and reconnect timers stop now, not when Redis returns.
      const idle = connection?.status !== 'ready' && active.size === 0;
      // close() stops fetching at once and resolves when the running jobs have finished.
      const closed = Promise.allSettled(workers.map((worker) => worker.close(idle)));
      const outcome = idle ? 'timeout' : await withTimeout(closed, timeoutMs, 'Jobs shutdown').catch(() => 'timeout' as const);
      if (outcome === 'timeout' && !idle) {
        // Their locks expire and another process's stalled check runs them again.
        logger.warn('Jobs: shutdown deadline reached with jobs still running', { running: active.size });
        for (const worker of workers) worker.cancelAllJobs('shutdown');
      }
      await Promise.allSettled([...producers.values()].map((queue) => withTimeout(queue.close(), 1_000, 'Closing a queue')));
      const client = connection;
      if (client) {
        if (client.status === 'ready' && outcome !== 'timeout') await client.quit().catch(() => client.disconnect());
        else client.disconnect();
      }
    },

    status(): JobRunnerStatus {
      return { mode: 'redis', running: started && !closing, queues: [...definitions.keys()], schedules: [...schedules.keys()] };
    },
  };
}

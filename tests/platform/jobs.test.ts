import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/platform/logger';
import { createMetrics, type Metrics } from '../../src/platform/metrics';
import { createJobRunner, encodeJobId, PermanentJobError, type JobRunner } from '../../src/platform/jobs';
import { until as waitUntil } from '../helpers/until';

// Failed jobs log errors by design; the tests read outcomes, not the log.
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error', json: false, silent: !process.env.TEST_LOG_LEVEL });
const fastRetry = { baseDelayMs: 10, maxDelayMs: 50, jitter: 0 };

/** Polls until `check` holds: waits for an outcome, never measures one. */
const until = (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) => waitUntil(check, what, timeoutMs, 20);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

type Mode = 'redis' | 'in-process';

/** Runners for one describe block, in Redis keys of their own (removed at the end). */
function runners(mode: Mode) {
  const prefix = `t:${randomBytes(5).toString('hex')}:`;
  const created: JobRunner[] = [];
  return {
    prefix,
    create(options: { metrics?: Metrics; scheduleCheckMs?: number } = {}): JobRunner {
      const runner = createJobRunner({
        scheduleCheckMs: options.scheduleCheckMs,
        redisUrl: mode === 'redis' ? (process.env.REDIS_URL ?? null) : null,
        keyPrefix: prefix,
        logger,
        metrics: options.metrics ?? createMetrics(),
      });
      created.push(runner);
      return runner;
    },
    async cleanup() {
      await Promise.all(created.splice(0).map((runner) => runner.close({ timeoutMs: 2_000 })));
      if (mode !== 'redis') return;
      const redis = new Redis(process.env.REDIS_URL as string);
      try {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    },
  };
}

const counterValue = async (metrics: Metrics, name: string, labels: Record<string, string>) => {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return match?.value ?? 0;
};

describe.each<Mode>(['redis', 'in-process'])('background jobs (%s mode)', (mode) => {
  const factory = runners(mode);
  afterEach(() => factory.cleanup());

  it('reports its mode, and the in-process one says what it does not guarantee', async () => {
    const runner = factory.create();
    await runner.start();
    expect(runner.mode).toBe(mode);
    expect(Boolean(runner.status().note)).toBe(mode === 'in-process');
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    const metrics = createMetrics();
    const runner = factory.create({ metrics });
    const attempts: number[] = [];
    const done: string[] = [];
    const queue = runner.queue<{ orderId: string }>(
      'flaky',
      async (data, job) => {
        attempts.push(job.attempt);
        if (job.attempt < 3) throw new Error('provider timed out');
        done.push(data.orderId);
      },
      { retry: { ...fastRetry, attempts: 5 } },
    );
    await runner.start();
    await queue.enqueue('order:o1', { orderId: 'o1' });
    await until(() => done.length === 1, 'the third attempt to succeed');
    expect(attempts).toEqual([1, 2, 3]);
    expect(await runner.listFailed({ queue: 'flaky' })).toEqual([]);
    expect(await counterValue(metrics, 'job_attempts_total', { queue: 'flaky', outcome: 'retrying' })).toBe(2);
    expect(await counterValue(metrics, 'job_attempts_total', { queue: 'flaky', outcome: 'completed' })).toBe(1);
  });

  it('puts a poisoned job in the failed set after its attempts are spent, with its key and reason', async () => {
    const runner = factory.create();
    let calls = 0;
    const queue = runner.queue<{ n: number }>(
      'poison',
      async () => {
        calls += 1;
        throw new Error('cannot parse the payload');
      },
      { retry: { ...fastRetry, attempts: 3 } },
    );
    await runner.start();
    await queue.enqueue('payment:pay_1', { n: 1 });
    await until(async () => (await runner.listFailed({ queue: 'poison' })).length === 1, 'the job to land in the failed set');
    const [failed] = await runner.listFailed();
    expect(failed).toMatchObject({ queue: 'poison', key: 'payment:pay_1', data: { n: 1 }, attemptsMade: 3, failedReason: 'cannot parse the payload' });
    expect(typeof failed?.failedAt).toBe('string');
    expect(calls).toBe(3);
  });

  it('sends a job that throws PermanentJobError to the failed set without retrying', async () => {
    const runner = factory.create();
    let calls = 0;
    const queue = runner.queue(
      'permanent',
      async () => {
        calls += 1;
        throw new PermanentJobError('unknown order');
      },
      { retry: { ...fastRetry, attempts: 5 } },
    );
    await runner.start();
    await queue.enqueue('42', {});
    await until(async () => (await runner.listFailed()).length === 1, 'the job to fail for good');
    expect((await runner.listFailed())[0]).toMatchObject({ key: '42', attemptsMade: 1 });
    expect(calls).toBe(1);
  });

  it('runs a job enqueued twice under one business key once', async () => {
    const runner = factory.create();
    const runs: string[] = [];
    const queue = runner.queue<{ id: string }>('once', async (data) => {
      runs.push(data.id);
    });
    await runner.start();
    await Promise.all([queue.enqueue('offer:1:v2', { id: 'first' }), queue.enqueue('offer:1:v2', { id: 'second' })]);
    await until(() => runs.length === 1, 'the job to run');
    // After it completed, too: the key is remembered for the dedupe window.
    await queue.enqueue('offer:1:v2', { id: 'third' });
    await queue.enqueue('offer:2:v1', { id: 'other' });
    await until(() => runs.includes('other'), 'the other key to run');
    expect(runs.filter((id) => id !== 'other')).toHaveLength(1);
  });

  it('runs at most `concurrency` jobs of a queue at once', async () => {
    const runner = factory.create();
    let running = 0;
    let peak = 0;
    let finished = 0;
    const queue = runner.queue(
      'limited',
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 30));
        running -= 1;
        finished += 1;
      },
      { concurrency: 2 },
    );
    await runner.start();
    await Promise.all(Array.from({ length: 6 }, (_, i) => queue.enqueue(`job-${i}`, {})));
    await until(() => finished === 6, 'all six jobs');
    expect(peak).toBe(2);
  });

  it('takes queues and schedules registered after it started, and jobs enqueued before', async () => {
    const runner = factory.create();
    const done: string[] = [];
    const early = runner.queue<{ id: string }>('early', async ({ id }) => void done.push(id));
    await early.enqueue('before-start', { id: 'before-start' });
    await runner.start();
    const late = runner.queue<{ id: string }>('late', async ({ id }) => void done.push(id));
    await late.enqueue('after-start', { id: 'after-start' });
    runner.schedule('late-tick', { everyMs: 200 }, () => void done.push('tick'));
    await until(() => ['before-start', 'after-start', 'tick'].every((id) => done.includes(id)), 'both jobs and a tick');
  });

  it('re-enqueues a record that was written but never enqueued, through reconciliation', async () => {
    const runner = factory.create();
    const records = new Map<string, { status: 'pending' | 'done'; dueAt: Date }>();
    const queue = runner.queue<{ id: string }>('payouts', async ({ id }) => {
      const record = records.get(id);
      if (record) record.status = 'done';
    });
    runner.reconcile(queue, {
      everyMs: 200,
      findPending: async (now) =>
        [...records]
          .filter(([, record]) => record.status === 'pending' && record.dueAt <= now)
          .map(([id]) => ({ key: `payout:${id}`, data: { id } })),
    });
    await runner.start();
    // The process "crashed" between the write and the enqueue.
    records.set('p1', { status: 'pending', dueAt: new Date(Date.now() - 1_000) });
    await until(() => records.get('p1')?.status === 'done', 'reconciliation to finish the record');
  });

  it('lets a running job finish on shutdown and takes no new one', async () => {
    const runner = factory.create();
    const started = deferred();
    const release = deferred();
    const done: string[] = [];
    const queue = runner.queue<{ id: string }>('graceful', async ({ id }) => {
      started.resolve();
      await release.promise;
      done.push(id);
    });
    await runner.start();
    await queue.enqueue('first', { id: 'first' });
    await started.promise;
    await queue.enqueue('second', { id: 'second' });
    let closed = false;
    const closing = runner.close({ timeoutMs: 10_000 }).then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    release.resolve();
    await closing;
    expect(done).toEqual(['first']);
  });
});

describe('background jobs shared by two processes through Redis', () => {
  const factory = runners('redis');
  afterEach(() => factory.cleanup());

  it('runs each tick of a schedule once across two job runners', async () => {
    const ticks: Array<{ runner: string; slot: number }> = [];
    for (const name of ['a', 'b']) {
      const runner = factory.create();
      runner.schedule('heartbeat', { everyMs: 250 }, ({ scheduledAt }) => {
        ticks.push({ runner: name, slot: scheduledAt.getTime() });
      });
      await runner.start();
    }
    await until(() => ticks.length >= 5, 'five ticks');
    await factory.cleanup();
    const slots = ticks.map((tick) => tick.slot);
    expect(new Set(slots).size).toBe(slots.length);
  });

  it('runs a job once although two processes enqueue it', async () => {
    const runs: string[] = [];
    const queues = ['a', 'b'].map((name) => {
      const runner = factory.create();
      return { runner, queue: runner.queue<{ by: string }>('shared', async ({ by }) => void runs.push(`${name}<-${by}`)) };
    });
    for (const { runner } of queues) await runner.start();
    await Promise.all(queues.map(({ queue }, i) => queue.enqueue('invoice:inv_9', { by: String(i) })));
    await until(() => runs.length >= 1, 'the job to run');
    const raw = new Queue('shared', { connection: { url: process.env.REDIS_URL }, prefix: `${factory.prefix}bull` });
    try {
      await until(async () => {
        const counts = await raw.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      }, 'the queue to drain');
    } finally {
      await raw.close();
    }
    expect(runs).toHaveLength(1);
  });

  it('writes its schedules again after Redis lost them, so reconciliation keeps running after a flush', async () => {
    const metrics = createMetrics();
    const runner = factory.create({ metrics, scheduleCheckMs: 200 });
    const records = new Map<string, 'pending' | 'done'>();
    const queue = runner.queue<{ id: string }>('refunds', async ({ id }) => void records.set(id, 'done'));
    runner.reconcile(queue, {
      everyMs: 2_000,
      findPending: async () => [...records].filter(([, s]) => s === 'pending').map(([id]) => ({ key: `refund:${id}`, data: { id } })),
    });
    await runner.start();
    // Flush between two ticks, when no tick is running (a running one would write the schedule back itself).
    await until(async () => (await counterValue(metrics, 'job_attempts_total', { queue: 'schedule.reconcile.refunds', outcome: 'completed' })) >= 1, 'the first tick');
    const redis = new Redis(process.env.REDIS_URL as string);
    try {
      const keys = await redis.keys(`${factory.prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    records.set('f1', 'pending');
    await until(() => records.get('f1') === 'done', 'the restored reconciliation to finish the record');
  });

  it('re-enqueues a job that was removed from Redis (a flush, a lost write) through reconciliation', async () => {
    const runner = factory.create();
    const records = new Map<string, 'pending' | 'done'>([['r1', 'pending']]);
    const queue = runner.queue<{ id: string }>('receipts', async ({ id }) => void records.set(id, 'done'));
    runner.reconcile(queue, {
      everyMs: 200,
      findPending: async () => [...records].filter(([, s]) => s === 'pending').map(([id]) => ({ key: `receipt:${id}`, data: { id } })),
    });
    // Written, enqueued far in the future... and then lost from Redis.
    await queue.enqueue('receipt:r1', { id: 'r1' }, { delayMs: 3_600_000 });
    const raw = new Queue('receipts', { connection: { url: process.env.REDIS_URL }, prefix: `${factory.prefix}bull` });
    try {
      expect(await raw.remove(encodeJobId('receipt:r1'))).toBe(1);
    } finally {
      await raw.close();
    }
    await runner.start();
    await until(() => records.get('r1') === 'done', 'reconciliation to re-enqueue and run the lost job');
  });
});

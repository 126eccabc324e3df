import type { Role } from '../../src/platform/auth-context';
import { createJobRunner, PermanentJobError } from '../../src/platform/jobs';
import { createLogger } from '../../src/platform/logger';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { usersByRole } from './helpers';
import { until as waitUntil } from '../helpers/until';

const until = (check: () => boolean | Promise<boolean>, what: string) => waitUntil(check, what, 20_000, 50);

describe('admin failed jobs: listed with their reasons, and retried', () => {
  let app: TestServer;
  let people: Record<Role, TestUser>;
  let failing = true;
  const runs: string[] = [];

  beforeAll(async () => {
    app = await startTestServer({ env: { RATE_LIMIT_MAX: '100000' } });
    people = await usersByRole(app);
  }, 120_000);
  afterAll(() => app.close());

  const as = (who: TestUser) => ({
    get: (path: string) => app.api.get(path).set('Authorization', bearer(who)),
    post: (path: string) => app.api.post(path).set('Authorization', bearer(who)).send({}),
  });
  const failedOf = async (queue: string) => (await as(people.admin).get(`/api/admin/jobs/failed?queue=${queue}`)).body.data as Array<{ id: string; key: string; failedReason: string; attemptsMade: number }>;

  it('lists a failed job with its reason and attempts, retries it once (audited), and answers 404 to a second retry', async () => {
    const queue = app.ctx.jobs.queue<{ n: number }>('h16-retry', (_data, job) => {
      if (failing) throw new PermanentJobError(`supplier API down for ${job.key}`);
      runs.push(job.key);
    });
    await queue.enqueue('invoice:42/a', { n: 1 });
    await until(async () => (await failedOf('h16-retry')).length === 1, 'the failure');
    const [failed] = await failedOf('h16-retry');
    expect(failed).toMatchObject({ key: 'invoice:42/a', failedReason: 'supplier API down for invoice:42/a', attemptsMade: 1, id: expect.stringMatching(/^[A-Za-z0-9_-]+$/) });

    failing = false;
    const retried = await as(people.admin).post(`/api/admin/jobs/failed/${failed?.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.data).toEqual({ id: failed?.id, queue: 'h16-retry', key: 'invoice:42/a', state: 'waiting' });
    await until(() => runs.includes('invoice:42/a'), 'the retried run');
    expect(await failedOf('h16-retry')).toEqual([]);
    expect((await as(people.admin).post(`/api/admin/jobs/failed/${failed?.id}/retry`)).status).toBe(404);
    const audit = (await as(people.admin).get('/api/admin/audit?action=job.retry')).body.data;
    expect(audit[0]).toMatchObject({ actor: { id: people.admin.id }, target: { type: 'job', id: failed?.id }, before: { key: 'invoice:42/a', failedReason: 'supplier API down for invoice:42/a' }, after: { state: 'waiting' } });
  });

  it('two admins retrying the same job at once: one runs it, the other gets 404', async () => {
    failing = true;
    const queue = app.ctx.jobs.queue<{ n: number }>('h16-retry-race', (_data, job) => {
      if (failing) throw new PermanentJobError('down');
      runs.push(job.key);
    });
    await queue.enqueue('race-1', { n: 1 });
    await until(async () => (await failedOf('h16-retry-race')).length === 1, 'the failure');
    const [failed] = await failedOf('h16-retry-race');
    failing = false;
    const statuses = (await Promise.all([as(people.admin).post(`/api/admin/jobs/failed/${failed?.id}/retry`), as(people.super_admin).post(`/api/admin/jobs/failed/${failed?.id}/retry`)])).map((r) => r.status);
    expect(statuses.sort()).toEqual([200, 404]);
    await until(() => runs.includes('race-1'), 'the run');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(runs.filter((key) => key === 'race-1')).toEqual(['race-1']);
  });

  it('refuses garbage ids (400), unknown ones (404) and non-admins (403)', async () => {
    expect((await as(people.admin).post('/api/admin/jobs/failed/not%20base64!/retry')).status).toBe(400);
    expect((await as(people.admin).post(`/api/admin/jobs/failed/${Buffer.from('h16-retry\nnope').toString('base64url')}/retry`)).status).toBe(404);
    expect((await as(people.admin).post(`/api/admin/jobs/failed/${Buffer.from('no-newline').toString('base64url')}/retry`)).status).toBe(404);
    expect((await as(people.vendor).post(`/api/admin/jobs/failed/${Buffer.from('a\nb').toString('base64url')}/retry`)).status).toBe(403);
  });
});

describe('JobRunner.retryFailed in the in-process mode', () => {
  it('runs a failed job again from its first attempt, once', async () => {
    const jobs = createJobRunner({ redisUrl: null, keyPrefix: 't:', logger: createLogger({ level: 'error', json: true, silent: true }) });
    let failing = true;
    const attempts: number[] = [];
    const queue = jobs.queue<null>('local-retry', (_data, job) => {
      attempts.push(job.attempt);
      if (failing) throw new PermanentJobError('no');
    });
    await jobs.start();
    await queue.enqueue('k', null);
    await until(async () => (await jobs.listFailed({ queue: 'local-retry' })).length === 1, 'the failure');
    expect(await jobs.retryFailed('local-retry', 'missing')).toBe(false);
    failing = false;
    expect(await jobs.retryFailed('local-retry', 'k')).toBe(true);
    expect(await jobs.retryFailed('local-retry', 'k')).toBe(false);
    await until(() => attempts.length === 2, 'the second run');
    expect(attempts).toEqual([1, 1]);
    expect(await jobs.listFailed({ queue: 'local-retry' })).toEqual([]);
    await jobs.close();
  });
});

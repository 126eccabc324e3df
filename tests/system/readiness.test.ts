import request from 'supertest';
import { startTestServer, type TestServer } from '../helpers/server';
import { FerretDbProcess } from '../helpers/ferretdb';
import { bearer, createUser, type TestUser } from '../helpers/users';

async function waitFor<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await probe();
  }
  return last;
}

describe('readiness follows the MongoDB-compatible server', () => {
  let ferret: FerretDbProcess;
  let app: TestServer;
  let user: TestUser;

  beforeAll(async () => {
    ferret = await FerretDbProcess.create();
    app = await startTestServer({ env: { MONGODB_URI: ferret.uri } });
    user = await createUser(app);
  });

  afterAll(async () => {
    await app.close();
    await ferret.destroy();
  });

  it('reports every dependency up with its latency while all three run', async () => {
    const res = await app.api.get('/api/system/ready').expect(200);
    expect(res.body.data.status).toBe('ok');
    for (const name of ['mongodb', 'postgres', 'redis']) {
      expect(res.body.data.checks[name].status).toBe('up');
      expect(typeof res.body.data.checks[name].latencyMs).toBe('number');
    }
  });

  it('turns 503 when the server stops, answers data requests with 503, and recovers when it returns', async () => {
    await ferret.stop();
    const down = await waitFor(
      () => app.api.get('/api/system/ready'),
      (res) => res.status === 503,
    );
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('SERVICE_UNAVAILABLE');
    expect(down.body.error.details).toEqual([{ field: 'mongodb', message: expect.any(String) }]);
    expect(down.body.data.checks.postgres.status).toBe('up');

    // A request that needs MongoDB is answered 503 in the envelope, nothing internal leaked.
    const profile = await app.api.get(`/api/users/${user.id}`).set('Authorization', bearer(user));
    expect(profile.status).toBe(503);
    expect(profile.body.error.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(profile.body)).not.toMatch(/127\.0\.0\.1|Mongo/);

    // Liveness needs no I/O: the process is alive and says so throughout.
    await app.api.get('/api/system/health').expect(200);

    await ferret.start();
    const up = await waitFor(
      () => app.api.get('/api/system/ready'),
      (res) => res.status === 200,
    );
    expect(up.status).toBe(200);
    expect(up.body.data.checks.mongodb.status).toBe('up');
    await app.api.get(`/api/users/${user.id}`).set('Authorization', bearer(user)).expect(200);
  });
});

describe('readiness with optional services down', () => {
  it('is 200 but degraded when PostgreSQL and Redis are unreachable', async () => {
    const app = await startTestServer({
      env: { POSTGRES_URL: 'postgres://postgres@127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1' },
      ownsDatabases: false,
      names: { mongoDb: `t_degraded_${Date.now()}`, postgresDb: 'unused', redisPrefix: 't:degraded:' },
    });
    try {
      const res = await request(app.url).get('/api/system/ready').expect(200);
      expect(res.body.data.status).toBe('degraded');
      expect(res.body.data.checks.mongodb.status).toBe('up');
      expect(res.body.data.checks.postgres.status).toBe('down');
      expect(res.body.data.checks.redis.status).toBe('down');
    } finally {
      await app.ctx.mongo.dropDatabase();
      await app.close();
    }
  });

  it('is 200 and marks them disabled when they are not configured', async () => {
    const app = await startTestServer({
      env: { POSTGRES_URL: undefined, REDIS_URL: undefined },
      ownsDatabases: false,
      names: { mongoDb: `t_disabled_${Date.now()}`, postgresDb: 'unused', redisPrefix: 't:disabled:' },
    });
    try {
      const res = await request(app.url).get('/api/system/ready').expect(200);
      expect(res.body.data.status).toBe('degraded');
      expect(res.body.data.checks.postgres).toEqual({ status: 'disabled' });
      expect(res.body.data.checks.redis).toEqual({ status: 'disabled' });
    } finally {
      await app.ctx.mongo.dropDatabase();
      await app.close();
    }
  });
});

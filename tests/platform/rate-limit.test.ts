import { isolatedNames, startTestServer, type TestServer } from '../helpers/server';

describe('rate limiting through the shared Redis store', () => {
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    const names = isolatedNames();
    const env = { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' };
    first = await startTestServer({ env, names, ownsDatabases: true });
    second = await startTestServer({ env, names, ownsDatabases: false });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  // Any /api path counts against the budget; an unmatched one keeps this test free of other modules.
  const PATH = '/api/rate-limit-probe';

  it('answers 429 RATE_LIMITED with Retry-After and RateLimit headers once the budget is spent, across processes', async () => {
    const ok1 = await first.api.get(PATH).expect(404);
    expect(ok1.headers['ratelimit-policy']).toBe('3;w=60');
    expect(ok1.headers.ratelimit).toMatch(/limit=3, remaining=2/);
    await second.api.get(PATH).expect(404);
    await first.api.get(PATH).expect(404);
    // The fourth request hits the other process: the budget is shared through Redis.
    const limited = await second.api.get(PATH);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers.ratelimit).toMatch(/remaining=0/);
  });

  it('never limits the liveness and readiness probes', async () => {
    for (let i = 0; i < 5; i += 1) await first.api.get('/api/system/health').expect(200);
  });

  it('never limits provider webhooks (their signature is the gate), while the rest of /api stays limited', async () => {
    // Unconfigured here, so each is answered 503 PROVIDER_UNAVAILABLE by the inbox itself, never 429.
    for (let i = 0; i < 5; i += 1) {
      const res = await first.api.post('/api/webhooks/stripe').set('Content-Type', 'application/json').send('{}');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('PROVIDER_UNAVAILABLE');
    }
    expect((await first.api.get(PATH)).status).toBe(429);
  });
});

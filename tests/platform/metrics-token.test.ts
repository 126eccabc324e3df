import { startTestServer, type TestServer } from '../helpers/server';

describe('GET /metrics with METRICS_TOKEN set', () => {
  const token = 'scrape-token-0123456789abcdef';
  let app: TestServer;

  beforeAll(async () => {
    app = await startTestServer({ env: { METRICS_TOKEN: token } });
  });
  afterAll(() => app.close());

  it('answers a scraper presenting the token', async () => {
    const res = await app.api.get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.text).toContain('unhandled_errors_total');
  });

  it('refuses no token, a wrong token or another scheme with 401 in the error envelope', async () => {
    for (const header of [undefined, 'Bearer wrong-token-0123456789abcdef', `Basic ${token}`, token]) {
      const req = app.api.get('/metrics');
      const res = await (header ? req.set('Authorization', header) : req);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
      expect(res.text).not.toContain('process_cpu_user_seconds_total');
    }
  });
});

import type { Role } from '../../src/platform/auth-context';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { stripeDelivery, testSecretsEnv, uniqueId, until } from '../webhooks/harness';
import { usersByRole } from './helpers';

/** Issue 13 item 6: GET /api/admin/webhooks, GET /api/admin/webhooks/:id, POST /api/admin/webhooks/:id/replay. */
describe('admin webhook oversight', () => {
  let app: TestServer;
  let people: Record<Role, TestUser>;

  beforeAll(async () => {
    app = await startTestServer({ env: { ...testSecretsEnv, RATE_LIMIT_MAX: '100000' } });
    people = await usersByRole(app);
  }, 120_000);
  afterAll(() => app.close());

  const as = (who: TestUser) => ({
    get: (path: string) => app.api.get(path).set('Authorization', bearer(who)),
    post: (path: string) => app.api.post(path).set('Authorization', bearer(who)).send({}),
  });

  async function deliver(type = 'charge.succeeded') {
    const delivery = stripeDelivery({ id: uniqueId('evt'), type });
    const res = await app.api.post('/api/webhooks/stripe').set(delivery.headers).send(delivery.body);
    expect(res.status).toBe(200);
    const id = res.body.data.id as string;
    await until(async () => (await as(people.admin).get(`/api/admin/webhooks/${id}`)).body.data?.outcome !== 'pending', 'settled');
    return id;
  }

  it('lists events with filters, shows one with its payload and attempts, and replays it (audited, no second effect)', async () => {
    const first = await deliver('charge.succeeded');
    const second = await deliver('charge.refunded');
    const listed = await as(people.admin).get('/api/admin/webhooks?provider=stripe&limit=1');
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.page.nextCursor).toEqual(expect.any(String));
    const next = await as(people.admin).get(`/api/admin/webhooks?provider=stripe&limit=1&cursor=${encodeURIComponent(listed.body.page.nextCursor)}`);
    expect([listed.body.data[0].id, next.body.data[0].id].sort()).toEqual([first, second].sort());
    const byType = await as(people.admin).get('/api/admin/webhooks?type=charge.refunded');
    expect(byType.body.data.map((e: { id: string }) => e.id)).toEqual([second]);

    const detail = await as(people.admin).get(`/api/admin/webhooks/${first}`);
    expect(detail.status).toBe(200);
    expect(detail.body.data).toMatchObject({ id: first, provider: 'stripe', type: 'charge.succeeded', attempts: 1, payload: { type: 'charge.succeeded' } });
    const outcome = detail.body.data.outcome as string;

    const replayed = await as(people.admin).post(`/api/admin/webhooks/${first}/replay`);
    expect(replayed.status).toBe(200);
    // The handler is idempotent: a replay of a processed event ends where it was.
    await until(async () => (await as(people.admin).get(`/api/admin/webhooks/${first}`)).body.data.outcome !== 'pending', 'replayed');
    expect((await as(people.admin).get(`/api/admin/webhooks/${first}`)).body.data.outcome).toBe(outcome);
    const audit = await as(people.admin).get(`/api/admin/audit?action=webhook.replay&targetId=${first}`);
    expect(audit.body.data[0]).toMatchObject({ actor: { id: people.admin.id }, target: { type: 'webhook_event', id: first } });
  });

  it('answers 404 for an unknown event, 400 for garbage, and refuses non-admins; the old /events paths are gone', async () => {
    expect((await as(people.admin).get('/api/admin/webhooks/000000000000000000000000')).status).toBe(404);
    expect((await as(people.admin).post('/api/admin/webhooks/000000000000000000000000/replay')).status).toBe(404);
    expect((await as(people.admin).get('/api/admin/webhooks/bad%20id')).status).toBe(400);
    expect((await as(people.admin).get('/api/admin/webhooks?limit=0')).status).toBe(400);
    expect((await as(people.admin).get('/api/admin/webhooks?from=yesterday')).status).toBe(400);
    expect((await as(people.vendor).get('/api/admin/webhooks')).status).toBe(403);
    expect((await as(people.user).post('/api/admin/webhooks/000000000000000000000000/replay')).status).toBe(403);
    expect((await app.api.get('/api/admin/webhooks')).status).toBe(401);
    expect((await as(people.admin).get('/api/admin/webhooks/events')).status).toBe(404);
  });
});

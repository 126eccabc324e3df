import { Pool } from 'pg';
import type { AnalyticsModule } from '../../src/modules/analytics';
import { isolatedNames, startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { startTcpProxy, viaProxy, type TcpProxy } from './tcp-proxy';

const analyticsOf = (app: TestServer) => app.server.modules.find((m) => m.name === 'analytics') as AnalyticsModule;

describe('analytics ingestion in the running app', () => {
  let app: TestServer;
  let proxy: TcpProxy;
  let direct: Pool;

  beforeAll(async () => {
    const names = isolatedNames();
    const base = new URL(process.env.POSTGRES_URL as string);
    proxy = await startTcpProxy({ host: base.hostname, port: Number(base.port) });
    base.pathname = `/${names.postgresDb}`;
    // The app reaches PostgreSQL only through the proxy, so the test can take it away from this app alone.
    app = await startTestServer({ names, ownsDatabases: true, env: { POSTGRES_URL: viaProxy(base.toString(), proxy), ANALYTICS_FLUSH_INTERVAL_MS: '50', ANALYTICS_RETRY_MAX_MS: '200' } });
    direct = new Pool({ connectionString: base.toString(), max: 2 });
  });
  afterAll(async () => {
    await direct.end();
    proxy.up();
    await app.close();
    await proxy.close();
  });

  const countByName = async () =>
    Object.fromEntries(
      (await direct.query<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM analytics_domain_events GROUP BY name')).rows.map((r) => [r.name, r.n]),
    );

  it('records the events requests publish, and the daily rollup equals the counts in MongoDB', async () => {
    const from = new Date(Date.now() - 1_000);
    const users: TestUser[] = [];
    for (let i = 0; i < 3; i += 1) users.push(await createUser(app));
    await app.ctx.events.drain();
    expect(await analyticsOf(app).flush()).toBe(true);
    const counts = await countByName();
    const mongoUsers = await app.ctx.mongo.collection('users').countDocuments({ createdAt: { $gte: from } });
    expect(mongoUsers).toBe(3);
    expect(counts['user.registered']).toBe(mongoUsers);
    const today = new Date().toISOString().slice(0, 10);
    await analyticsOf(app).rollups?.rollupDay(today);
    const { rows } = await direct.query<{ dimension: string; value: string }>(
      "SELECT dimension, value FROM analytics_daily WHERE day = $1 AND metric = 'events' AND dimension = 'user.registered'",
      [today],
    );
    const rolled = Object.fromEntries(rows.map((r) => [r.dimension, Number(r.value)]));
    const dayStart = new Date(`${today}T00:00:00.000Z`);
    expect(rolled).toEqual({ 'user.registered': await app.ctx.mongo.collection('users').countDocuments({ createdAt: { $gte: dayStart } }) });
    // No personal data in the rows: no email, no name, no IP.
    const { rows: raw } = await direct.query<{ row: string }>('SELECT row_to_json(e)::text AS row FROM analytics_domain_events e');
    for (const { row } of raw) {
      for (const user of users) expect(row).not.toContain(user.email);
      expect(row).not.toMatch(/127\.0\.0\.1|Test User/);
    }
  });

  it('while PostgreSQL is unreachable every request succeeds, and the events arrive once it returns', async () => {
    const before = await countByName();
    proxy.down();
    const results: number[] = [];
    const users: TestUser[] = [];
    for (let i = 0; i < 4; i += 1) {
      const user = await createUser(app);
      users.push(user);
      results.push((await app.api.get('/api/auth/me').set('Authorization', bearer(user))).status);
    }
    expect(results).toEqual([200, 200, 200, 200]);
    await app.ctx.events.drain();
    expect(await analyticsOf(app).flush()).toBe(false);
    expect(analyticsOf(app).writer?.stats().buffered).toBeGreaterThanOrEqual(4);
    proxy.up();
    expect(await analyticsOf(app).flush()).toBe(true);
    const after = await countByName();
    expect(after['user.registered']).toBe((before['user.registered'] ?? 0) + 4);
    expect(analyticsOf(app).writer?.stats()).toMatchObject({ buffered: 0, dropped: 0 });
    // The outage and the recovery are in the admin's system events.
    const events = await app.ctx.mongo.collection('admin_system_events').find({ kind: { $in: ['dependency.down', 'dependency.up'] } }).sort({ _id: 1 }).toArray();
    expect(events.map((e) => [e.kind, e.details.dependency])).toEqual([['dependency.down', 'postgresql'], ['dependency.up', 'postgresql']]);
  });
});

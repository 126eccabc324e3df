import { Pool } from 'pg';
import type { AnalyticsModule } from '../../src/modules/analytics';
import { isolatedNames, startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { startTcpProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy';

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
    app = await startTestServer({ names, ownsDatabases: true, env: { POSTGRES_URL: viaProxy(base.toString(), proxy), ANALYTICS_FLUSH_INTERVAL_MS: '50', ANALYTICS_RETRY_MAX_MS: '200', ANALYTICS_BATCH_SIZE: '10', ANALYTICS_BUFFER_MAX_EVENTS: '10', ANALYTICS_SPILL_MAX_EVENTS: '20' } });
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

  it('while PostgreSQL is unreachable every request succeeds, and the events (more than memory holds) arrive once it returns', async () => {
    const before = await countByName();
    const writtenBefore = analyticsOf(app).writer?.stats().written ?? 0;
    proxy.down();
    const results: number[] = [];
    const users: TestUser[] = [];
    for (let i = 0; i < 4; i += 1) {
      const user = await createUser(app);
      users.push(user);
      results.push((await app.api.get('/api/auth/me').set('Authorization', bearer(user))).status);
    }
    expect(results).toEqual(Array.from({ length: 4 }, () => 200));
    await app.ctx.events.drain();
    expect(await analyticsOf(app).flush()).toBe(false);
    // Memory holds 10; the rest wait in the Redis spill.
    const stats = analyticsOf(app).writer?.stats();
    expect(stats?.buffered).toBe(10);
    expect(stats?.spillLength).toBeGreaterThanOrEqual(1);
    expect(await app.ctx.redis?.llen(`${app.names.redisPrefix}analytics:spill`)).toBe(stats?.spillLength);
    proxy.up();
    expect(await analyticsOf(app).flush()).toBe(true);
    const after = await countByName();
    expect(after['user.registered']).toBe((before['user.registered'] ?? 0) + 4);
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total(after) - total(before)).toBe((analyticsOf(app).writer?.stats().written ?? 0) - writtenBefore);
    expect(analyticsOf(app).writer?.stats()).toMatchObject({ buffered: 0, dropped: 0, spillLength: 0 });
    // The outage and the recovery are in the admin's system events.
    const events = await app.ctx.mongo.collection('admin_system_events').find({ kind: { $in: ['dependency.down', 'dependency.up'] } }).sort({ _id: 1 }).toArray();
    expect(events.map((e) => [e.kind, e.details.dependency])).toEqual([['dependency.down', 'postgresql'], ['dependency.up', 'postgresql']]);
  });

  it('beyond memory and the spill bound, requests still all succeed and the drops are counted in /metrics', async () => {
    const writer = analyticsOf(app).writer;
    const before = writer?.stats() ?? { written: 0, dropped: 0 };
    const eventsBefore = Object.values(await countByName()).reduce((a, b) => a + b, 0);
    const droppedMetric = async () => Number(/analytics_events_dropped_total\{reason="spill_full"\} (\d+)/.exec((await app.api.get('/metrics')).text)?.[1] ?? 0);
    const droppedBefore = await droppedMetric();
    proxy.down();
    const results: number[] = [];
    for (let i = 0; i < 15; i += 1) {
      const user = await createUser(app);
      results.push((await app.api.get('/api/auth/me').set('Authorization', bearer(user))).status);
    }
    expect(results.every((status) => status === 200)).toBe(true);
    await app.ctx.events.drain();
    expect(await analyticsOf(app).flush()).toBe(false);
    const during = writer?.stats();
    expect(during?.spillLength).toBe(20);
    expect(during?.dropped).toBeGreaterThan(before.dropped);
    const dropped = (await droppedMetric()) - droppedBefore;
    expect(dropped).toBe((during?.dropped ?? 0) - before.dropped);
    proxy.up();
    expect(await analyticsOf(app).flush()).toBe(true);
    const after = writer?.stats();
    // Every event recorded meanwhile was either stored (memory's 10 and the spill's 20) or counted as dropped.
    const stored = Object.values(await countByName()).reduce((a, b) => a + b, 0) - eventsBefore;
    expect(stored).toBe((after?.written ?? 0) - before.written);
    expect(stored).toBe(30);
  }, 90_000);
});

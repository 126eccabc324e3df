import type { Role } from '../../src/platform/auth-context';
import { isolatedNames, startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { startTcpProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { adminModuleOf, usersByRole } from './helpers';

/**
 * Dependency outages as system events: this app reaches MongoDB and Redis through TCP relays the
 * test can cut (the shared servers stay up for everyone else), and probes them every 200 ms.
 */
describe('admin system events: dependency outages and recoveries', () => {
  let app: TestServer;
  let mongoProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let people: Record<Role, TestUser>;

  beforeAll(async () => {
    const names = isolatedNames();
    const mongo = new URL(process.env.MONGODB_URI as string);
    const redis = new URL(process.env.REDIS_URL as string);
    mongoProxy = await startTcpProxy({ host: mongo.hostname, port: Number(mongo.port) });
    redisProxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port) });
    mongo.pathname = `/${names.mongoDb}`;
    app = await startTestServer({
      names,
      ownsDatabases: true,
      env: { MONGODB_URI: viaProxy(mongo.toString(), mongoProxy), REDIS_URL: viaProxy(redis.toString(), redisProxy), ADMIN_DEPENDENCY_CHECK_EVERY_MS: '200', RATE_LIMIT_MAX: '100000' },
    });
    people = await usersByRole(app);
  }, 120_000);
  afterAll(async () => {
    mongoProxy.up();
    redisProxy.up();
    await app.close();
    await Promise.all([mongoProxy.close(), redisProxy.close()]);
  });

  const dependencyEvents = async (dependency: string) => {
    const res = await app.api.get('/api/admin/system/events?limit=100').set('Authorization', bearer(people.admin));
    expect(res.status).toBe(200);
    return (res.body.data as Array<{ kind: string; at: string; details: Record<string, unknown> }>)
      .filter((e) => e.details.dependency === dependency)
      .reverse(); // oldest first
  };

  /**
   * Only changes are recorded, so kinds alternate. (On a heavily loaded machine a probe may see a
   * second short outage right after a recovery: that is recorded as another pair, never as two downs.)
   */
  const expectAlternating = (kinds: string[]) =>
    kinds.forEach((kind, i) => expect(kind).toBe(i % 2 === 0 ? 'dependency.down' : 'dependency.up'));

  /** Waits for a condition the app reaches on its own (its probe runs every 200 ms); fails after 20 s. */
  async function eventually(check: () => Promise<boolean>, what: string) {
    const deadline = Date.now() + 20_000;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('records a Redis outage and its recovery, and requests that need only MongoDB still succeed', async () => {
    expect(await dependencyEvents('redis')).toEqual([]);
    redisProxy.down();
    // Two failed probes in a row make an outage (the timer's probe runs every 200 ms).
    await eventually(async () => (await dependencyEvents('redis')).length > 0, 'the Redis outage');
    expect((await dependencyEvents('redis')).map((e) => e.kind)).toEqual(['dependency.down']);
    expect((await app.api.get('/api/auth/me').set('Authorization', bearer(people.user))).status).toBe(200);
    redisProxy.up();
    await eventually(async () => (await dependencyEvents('redis')).some((e) => e.kind === 'dependency.up'), 'the Redis recovery');
    const events = await dependencyEvents('redis');
    expect(events.map((e) => e.kind).slice(0, 2)).toEqual(['dependency.down', 'dependency.up']);
    expectAlternating(events.map((e) => e.kind));
    expect(events[0]?.details).toMatchObject({ dependency: 'redis', error: expect.any(String) });
    expect(Date.parse(events[0]?.at as string)).toBeLessThanOrEqual(Date.parse(events[1]?.at as string));
  }, 60_000);

  it('records a MongoDB outage (written once MongoDB answers again, with the time it happened) and its recovery', async () => {
    const cutAt = Date.now();
    mongoProxy.down();
    // The probe sees it; its record cannot be written while MongoDB is away and waits in memory.
    await eventually(async () => adminModuleOf(app).dependencyState().mongodb === 'down', 'the MongoDB outage to be seen');
    expect(await app.ctx.mongo.collection('admin_system_events').countDocuments({ 'details.dependency': 'mongodb' }).catch(() => 'unreachable')).toBe('unreachable');
    mongoProxy.up();
    await eventually(async () => (await dependencyEvents('mongodb')).some((e) => e.kind === 'dependency.up'), 'the MongoDB recovery');
    const events = await dependencyEvents('mongodb');
    expect(events.map((e) => e.kind).slice(0, 2)).toEqual(['dependency.down', 'dependency.up']);
    expectAlternating(events.map((e) => e.kind));
    expect(Date.parse(events[0]?.at as string)).toBeGreaterThanOrEqual(cutAt - 1_000);
    expect(Date.parse(events[0]?.at as string)).toBeLessThan(Date.parse(events[1]?.at as string));
  }, 60_000);
});

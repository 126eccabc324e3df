import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { createEventBus, type DomainEvents, type DomainEventName } from '../../src/platform/events';
import { createPostgresPool } from '../../src/platform/postgres';
import { ANALYTICS_EVENTS, toAnalyticsRow } from '../../src/modules/analytics';
import { createAnalyticsWriter } from '../../src/modules/analytics/analytics.writer';
import { freshAnalyticsDb, silentLogger } from './pg';
import { startTcpProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connectRedis, createRedis } from '../../src/platform/redis';
import { createRedisSpill } from '../../src/modules/analytics/analytics.spill';

const at = '2026-11-20T10:00:00.000Z';
const money = { amount: 125_000, currency: 'INR' };
const offer = { offerId: 'o1', conversationId: 'c1', buyerId: 'b1', vendorId: 'v1', actorId: 'b1', version: 1, status: 'open', total: money, at };
const order = { orderId: 'r1', offerId: 'o1', buyerId: 'b1', vendorId: 'v1', total: money, paymentTerms: { kind: 'prepaid' as const, creditDays: null }, at };
const payment = { paymentId: 'p1', userId: 'b1', vendorId: 'v1', orderId: 'r1', provider: 'stripe', amount: money, at };

/** One payload of every event analytics records (typed against the DomainEvents map). */
const SAMPLES: { [K in DomainEventName]?: DomainEvents[K] } = {
  'user.registered': { userId: 'u1', role: 'user', at },
  'session.created': { userId: 'u1', sessionId: 's1', deviceName: "Asha's phone", ip: '203.0.113.9', at },
  'password.changed': { userId: 'u1', at },
  'user.suspended': { userId: 'u1', actorId: 'a1', reason: 'Called support about Jane Doe, +91 98765', at },
  'message.sent': { messageId: 'm1', conversationId: 'c1', senderId: 'u1', seq: 1, type: 'text', at },
  'offer.created': offer,
  'offer.countered': { ...offer, version: 2 },
  'offer.accepted': { ...offer, status: 'accepted', orderId: 'r1' },
  'offer.rejected': offer,
  'offer.withdrawn': offer,
  'offer.expired': { ...offer, actorId: null },
  'order.created': order,
  'order.status_changed': { ...order, from: 'placed', to: 'delivered', actorId: 'v1', reason: 'left at the gate' },
  'payment.succeeded': payment,
  'payment.failed': { ...payment, reason: 'card declined' },
  'refund.created': { ...payment, refundId: 'rf1' },
  'dispute.opened': { ...payment, disputeId: 'd1', reason: 'never arrived' },
  'finance.credit_changed': { creditLineId: 'cl1', buyerId: 'b1', vendorId: 'v1', currency: 'INR', limit: 10, held: 1, posted: 2, available: 7, at },
  'notification.delivered': { notificationId: 'n1', deliveryId: 'n1:email', userId: 'u1', channel: 'email', category: 'offers', at },
  'notification.read': { notificationId: 'n1', userId: 'u1', category: 'offers', at },
  'webhook.failed': { inboxEventId: 'w1', provider: 'stripe', type: 'charge.succeeded', attempts: 5, reason: 'boom', at },
};

/** Event names declared in the DomainEvents map (the platform's file and every module's *.events.ts). */
function declaredEventNames(): string[] {
  const root = path.resolve(__dirname, '../..');
  const files = [path.join(root, 'src/platform/events.ts')];
  for (const m of readdirSync(path.join(root, 'src/modules'))) {
    const file = path.join(root, 'src/modules', m, `${m}.events.ts`);
    if (existsSync(file)) files.push(file);
  }
  const names = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const body = /interface DomainEvents \{([\s\S]*?)\n\s*\}\n/.exec(text)?.[1] ?? '';
    for (const match of body.matchAll(/^\s*'([a-z_]+\.[a-z_]+)'\s*:/gm)) names.add(match[1] as string);
  }
  return [...names].sort();
}

describe('analytics rows', () => {
  it('records every declared domain event (a new event without a subscriber fails here)', () => {
    const declared = declaredEventNames();
    expect(declared.length).toBeGreaterThanOrEqual(19);
    expect([...ANALYTICS_EVENTS].sort()).toEqual(declared);
  });

  it('keeps ids, enumerations and money, and leaves out names, IPs, devices and free text', () => {
    const session = toAnalyticsRow('session.created', SAMPLES['session.created'], at, () => 'id');
    expect(session).toMatchObject({ userId: 'u1', entityId: 's1', properties: { userId: 'u1', sessionId: 's1' } });
    expect(JSON.stringify(session)).not.toMatch(/203\.0\.113|Asha/);
    const suspended = toAnalyticsRow('user.suspended', SAMPLES['user.suspended'], at);
    expect(JSON.stringify(suspended)).not.toMatch(/Jane|98765/);
    const paid = toAnalyticsRow('payment.succeeded', SAMPLES['payment.succeeded'], at);
    expect(paid).toMatchObject({ userId: 'b1', entityId: 'p1', amount: 125_000, currency: 'INR', occurredAt: new Date(at) });
    const expired = toAnalyticsRow('offer.expired', SAMPLES['offer.expired'], at);
    expect(expired.userId).toBe('b1');
    expect(toAnalyticsRow('order.status_changed', SAMPLES['order.status_changed'], at).properties).toMatchObject({ orderId: 'r1', to: 'delivered', paymentTermsKind: 'prepaid' });
  });
});

describe('the analytics writer', () => {
  let db: Awaited<ReturnType<typeof freshAnalyticsDb>>;
  beforeAll(async () => {
    db = await freshAnalyticsDb();
  });
  afterAll(() => db.drop());

  const count = async (pool: Pool, where = 'true', args: unknown[] = []) =>
    (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM analytics_domain_events WHERE ${where}`, args)).rows[0]?.n;

  it('stores a row for each event kind published on the bus, in multi-row batches', async () => {
    const writer = createAnalyticsWriter({ pool: db.pool, logger: silentLogger, batchSize: 7, flushIntervalMs: 50, bufferMaxEvents: 1_000, retryMaxMs: 1_000 });
    const bus = createEventBus({ logger: silentLogger });
    for (const name of ANALYTICS_EVENTS) bus.subscribe(name, (payload, meta) => writer.record(toAnalyticsRow(name, payload, meta.publishedAt)));
    for (const [name, payload] of Object.entries(SAMPLES)) bus.publish(name as DomainEventName, payload as never);
    await bus.drain();
    expect(await writer.flush()).toBe(true);
    const { rows } = await db.pool.query<{ name: string; n: number }>("SELECT name, count(*)::int AS n FROM analytics_domain_events WHERE properties->>'probe' IS NULL GROUP BY name ORDER BY name");
    expect(rows.map((r) => r.name)).toEqual([...ANALYTICS_EVENTS].sort());
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect(writer.stats()).toMatchObject({ buffered: 0, written: ANALYTICS_EVENTS.length, dropped: 0 });
    // The month partition was made, and the rows are in it rather than in the default partition.
    const { rows: parts } = await db.pool.query<{ part: string }>("SELECT DISTINCT tableoid::regclass::text AS part FROM analytics_domain_events WHERE name = 'message.sent'");
    expect(parts).toEqual([{ part: 'analytics_domain_events_2026_11' }]);
    await writer.close();
  });

  it('a batch written twice (a retry after a commit whose answer was lost) is stored once', async () => {
    const writer = createAnalyticsWriter({ pool: db.pool, logger: silentLogger, batchSize: 100, flushIntervalMs: 50, bufferMaxEvents: 1_000, retryMaxMs: 1_000 });
    const row = toAnalyticsRow('message.sent', { ...SAMPLES['message.sent'], messageId: 'dup-1' }, at);
    writer.record(row);
    writer.record({ ...row });
    await writer.flush();
    expect(await count(db.pool, "entity_id = 'dup-1'")).toBe(1);
    await writer.close();
  });

  describe('while PostgreSQL is down', () => {
    let proxy: TcpProxy;
    let pool: Pool;
    beforeEach(async () => {
      proxy = await startTcpProxy({ host: new URL(db.url).hostname, port: Number(new URL(db.url).port) });
      pool = createPostgresPool({ url: viaProxy(db.url, proxy), poolSize: 2 }, silentLogger);
    });
    afterEach(async () => {
      await pool.end().catch(() => undefined);
      await proxy.close();
    });

    it('keeps events buffered, never throws to the caller, and writes them once it is back', async () => {
      const writer = createAnalyticsWriter({ pool, logger: silentLogger, batchSize: 10, flushIntervalMs: 20, bufferMaxEvents: 1_000, retryMaxMs: 100 });
      writer.start();
      proxy.down();
      for (let i = 0; i < 25; i += 1) {
        expect(() => writer.record(toAnalyticsRow('message.sent', { ...SAMPLES['message.sent'], messageId: `down-${i}` }, at))).not.toThrow();
      }
      expect(await writer.flush()).toBe(false);
      expect(writer.stats()).toMatchObject({ buffered: 25, dropped: 0 });
      expect(writer.stats().failedFlushes).toBeGreaterThan(0);
      proxy.up();
      expect(await writer.flush()).toBe(true);
      expect(await count(db.pool, "entity_id LIKE 'down-%'")).toBe(25);
      expect(writer.stats().buffered).toBe(0);
      await writer.close();
    });

    it('holds at most bufferMaxEvents and counts the drops in /metrics', async () => {
      const registry = new Registry();
      const writer = createAnalyticsWriter({ pool, logger: silentLogger, batchSize: 10, flushIntervalMs: 20, bufferMaxEvents: 10, retryMaxMs: 100, registry });
      proxy.down();
      for (let i = 0; i < 15; i += 1) writer.record(toAnalyticsRow('message.sent', { ...SAMPLES['message.sent'], messageId: `bound-${i}` }, at));
      expect(writer.stats()).toMatchObject({ buffered: 10, dropped: 5 });
      expect(await registry.metrics()).toMatch(/analytics_events_dropped_total\{reason="buffer_full"\} 5/);
      proxy.up();
      await writer.flush();
      expect(await count(db.pool, "entity_id LIKE 'bound-%'")).toBe(10);
      // What is still buffered when shutdown's deadline passes is dropped and counted, not waited for.
      proxy.down();
      writer.record(toAnalyticsRow('message.sent', { ...SAMPLES['message.sent'], messageId: 'late' }, at));
      await writer.close(200);
      expect(writer.stats().dropped).toBe(6);
      expect(await registry.metrics()).toMatch(/analytics_events_dropped_total\{reason="shutdown"\} 1/);
    });

    describe('with the Redis spill beyond memory', () => {
      let redis: Redis;
      let key: string;
      beforeAll(async () => {
        redis = createRedis(process.env.REDIS_URL as string, silentLogger, 'analytics-spill-test');
        await connectRedis(redis);
      });
      afterAll(async () => {
        await redis.quit();
      });
      beforeEach(() => {
        key = `t:${randomBytes(5).toString('hex')}:analytics:spill`;
      });
      afterEach(async () => {
        await redis.del(key);
      });
      const spillOf = (maxEvents: number) => createRedisSpill({ redis, key, maxEvents });
      const rowsFor = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => toAnalyticsRow('message.sent', { ...SAMPLES['message.sent'], messageId: `${prefix}-${i}` }, at));

      it('holds more events than memory in Redis, in order, and stores all of them once PostgreSQL returns', async () => {
        const registry = new Registry();
        const writer = createAnalyticsWriter({ pool, logger: silentLogger, batchSize: 10, flushIntervalMs: 20, bufferMaxEvents: 10, retryMaxMs: 100, registry, spill: spillOf(1_000) });
        proxy.down();
        const rows = rowsFor('spill', 60);
        for (const row of rows) writer.record(row);
        expect(await writer.flush()).toBe(false);
        // Memory holds its bound; the other 50 went to Redis in the order they were recorded.
        const spilled = (await redis.lrange(key, 0, -1)).map((raw) => JSON.parse(raw).eventId);
        expect(spilled).toEqual(rows.slice(10).map((r) => r.eventId));
        expect(writer.stats()).toMatchObject({ dropped: 0, spilled: 50, spillLength: 50 });
        // Recorded while the spill holds rows: queued behind them, not ahead in memory.
        const late = rowsFor('spill-late', 3);
        for (const row of late) writer.record(row);
        await writer.flush();
        expect((await redis.lrange(key, -3, -1)).map((raw) => JSON.parse(raw).eventId)).toEqual(late.map((r) => r.eventId));
        proxy.up();
        expect(await writer.flush()).toBe(true);
        expect(await count(db.pool, "entity_id LIKE 'spill-%'")).toBe(63);
        expect(await redis.llen(key)).toBe(0);
        expect(writer.stats()).toMatchObject({ buffered: 0, dropped: 0, spillLength: 0 });
        expect(await registry.metrics()).toMatch(/analytics_events_spilled_total 53/);
        // Drained: new rows go to memory again.
        rowsFor('spill-after', 1).forEach((row) => writer.record(row));
        expect(await redis.llen(key)).toBe(0);
        expect(writer.stats().buffered).toBe(1);
        await writer.close();
      });

      it('beyond the spill bound drops and counts in /metrics; what fit arrives', async () => {
        const registry = new Registry();
        const writer = createAnalyticsWriter({ pool, logger: silentLogger, batchSize: 10, flushIntervalMs: 20, bufferMaxEvents: 10, retryMaxMs: 100, registry, spill: spillOf(20) });
        proxy.down();
        for (const row of rowsFor('full', 50)) writer.record(row);
        expect(await writer.flush()).toBe(false);
        expect(await redis.llen(key)).toBe(20);
        expect(writer.stats()).toMatchObject({ dropped: 20, spilled: 20 });
        expect(await registry.metrics()).toMatch(/analytics_events_dropped_total\{reason="spill_full"\} 20/);
        proxy.up();
        expect(await writer.flush()).toBe(true);
        expect(await count(db.pool, "entity_id LIKE 'full-%'")).toBe(30);
        await writer.close();
      });

      it('two processes draining one spill store every row once and leave it empty', async () => {
        const seed = rowsFor('shared', 95);
        await spillOf(1_000).push(seed);
        const a = createAnalyticsWriter({ pool: db.pool, logger: silentLogger, batchSize: 7, flushIntervalMs: 20, bufferMaxEvents: 10, retryMaxMs: 100, spill: spillOf(1_000) });
        const b = createAnalyticsWriter({ pool: db.pool, logger: silentLogger, batchSize: 7, flushIntervalMs: 20, bufferMaxEvents: 10, retryMaxMs: 100, spill: spillOf(1_000) });
        // start() finds the leftover spill (another process's, or this one's before a restart).
        a.start();
        b.start();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await Promise.all([a.flush(), b.flush(), a.flush(), b.flush()]);
        expect(await redis.llen(key)).toBe(0);
        expect(await count(db.pool, "entity_id LIKE 'shared-%'")).toBe(95);
        await Promise.all([a.close(), b.close()]);
      });

      it('at shutdown with PostgreSQL down, memory goes to the spill, and the next process stores it', async () => {
        const writer = createAnalyticsWriter({ pool, logger: silentLogger, batchSize: 10, flushIntervalMs: 20, bufferMaxEvents: 100, retryMaxMs: 100, spill: spillOf(1_000) });
        proxy.down();
        for (const row of rowsFor('handover', 12)) writer.record(row);
        await writer.close(400);
        expect(writer.stats()).toMatchObject({ dropped: 0, spilled: 12 });
        expect(await redis.llen(key)).toBe(12);
        proxy.up();
        const next = createAnalyticsWriter({ pool: db.pool, logger: silentLogger, batchSize: 10, flushIntervalMs: 20, bufferMaxEvents: 100, retryMaxMs: 100, spill: spillOf(1_000) });
        next.start();
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await next.flush()).toBe(true);
        expect(await count(db.pool, "entity_id LIKE 'handover-%'")).toBe(12);
        await next.close();
      });
    });
  });
});

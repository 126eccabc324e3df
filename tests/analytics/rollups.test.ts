import { createAnalyticsQueries } from '../../src/modules/analytics/analytics.queries';
import { createRollups } from '../../src/modules/analytics/analytics.rollups';
import { createAnalyticsWriter } from '../../src/modules/analytics/analytics.writer';
import { toAnalyticsRow, toOrderLineRows } from '../../src/modules/analytics';
import { freshAnalyticsDb, silentLogger } from './pg';

const money = (amount: number) => ({ amount, currency: 'INR' });
const t = (day: number, hour = 10, minute = 0) => new Date(Date.UTC(2026, 9, day, hour, minute)).toISOString(); // October 2026

describe('analytics rollups and reports on a known data set', () => {
  let db: Awaited<ReturnType<typeof freshAnalyticsDb>>;
  let queries: ReturnType<typeof createAnalyticsQueries>;
  let rollups: ReturnType<typeof createRollups>;

  beforeAll(async () => {
    db = await freshAnalyticsDb();
    queries = createAnalyticsQueries(db.pool);
    rollups = createRollups(db.pool);
    const writer = createAnalyticsWriter({ pool: db.pool, logger: silentLogger, batchSize: 50, flushIntervalMs: 1_000, bufferMaxEvents: 10_000, retryMaxMs: 1_000 });
    const rec = (name: string, payload: Record<string, unknown>) => writer.record(toAnalyticsRow(name, payload, String(payload.at)));
    // Signups: u1, u2 in the week of Mon 5 Oct; u3 in the week of Mon 12 Oct.
    rec('user.registered', { userId: 'u1', role: 'user', at: t(5) });
    rec('user.registered', { userId: 'u2', role: 'vendor', at: t(6) });
    rec('user.registered', { userId: 'u3', role: 'user', at: t(12) });
    // Messages: 3 on the 5th (u1 twice, u2 once), 1 on the 13th (u1: active in their second week).
    rec('message.sent', { messageId: 'm1', conversationId: 'c', senderId: 'u1', seq: 1, type: 'text', at: t(5, 11) });
    rec('message.sent', { messageId: 'm2', conversationId: 'c', senderId: 'u1', seq: 2, type: 'text', at: t(5, 12) });
    rec('message.sent', { messageId: 'm3', conversationId: 'c', senderId: 'u2', seq: 3, type: 'text', at: t(6, 9) });
    rec('message.sent', { messageId: 'm4', conversationId: 'c', senderId: 'u1', seq: 4, type: 'text', at: t(13) });
    // Funnel: 4 offers created on the 7th; 3 accepted (after 1 h, 2 h, 3 h); 2 orders delivered
    // (a day after acceptance); 1 of those paid (2 h after delivery). o4 is never accepted.
    const offer = (id: string, at: string, extra: Record<string, unknown> = {}) => ({ offerId: id, conversationId: 'c', buyerId: 'u1', vendorId: 'u2', actorId: 'u1', version: 1, status: 'open', total: money(1000), at, ...extra });
    for (const id of ['o1', 'o2', 'o3', 'o4']) rec('offer.created', offer(id, t(7, 8)));
    rec('offer.accepted', offer('o1', t(7, 9), { orderId: 'r1' }));
    rec('offer.accepted', offer('o2', t(7, 10), { orderId: 'r2' }));
    rec('offer.accepted', offer('o3', t(7, 11), { orderId: 'r3' }));
    const order = (id: string, at: string, vendorId: string, amount: number) => ({ orderId: id, offerId: 'x', buyerId: 'u1', vendorId, total: money(amount), paymentTerms: { kind: 'credit', creditDays: 30 }, at });
    rec('order.created', order('r1', t(7, 9), 'u2', 50_000));
    rec('order.created', order('r2', t(7, 10), 'u2', 30_000));
    rec('order.created', order('r3', t(7, 11), 'v9', 70_000));
    rec('order.status_changed', { ...order('r1', t(8, 9), 'u2', 50_000), from: 'shipped', to: 'delivered', actorId: 'u2', reason: null });
    rec('order.status_changed', { ...order('r2', t(8, 10), 'u2', 30_000), from: 'shipped', to: 'delivered', actorId: 'u2', reason: null });
    rec('order.status_changed', { ...order('r3', t(8, 11), 'v9', 70_000), from: 'placed', to: 'shipped', actorId: 'v9', reason: null });
    rec('payment.succeeded', { paymentId: 'p1', userId: 'u1', vendorId: 'u2', orderId: 'r1', provider: 'stripe', amount: money(50_000), at: t(8, 11) });
    // A payment for r3, which was never delivered: not in the strict funnel's last step.
    rec('payment.succeeded', { paymentId: 'p3', userId: 'u1', vendorId: 'v9', orderId: 'r3', provider: 'stripe', amount: money(70_000), at: t(8, 12) });
    // Order lines (products by volume): cumin by sku in r1 and r2, black pepper (no sku) in r1 and r3,
    // cardamom in grams in r3; r1's lines are seen twice (stored once).
    const line = (name: string, sku: string | null, quantity: number, unit: string, amount: number) => ({ name, sku, quantity, unit, lineTotal: money(amount), description: 'Call Asha on +91 98765' });
    const lines = {
      r1: { vendorId: 'u2', items: [line('Cumin seeds', 'CUM-1', 10, 'kg', 30_000), line('Black pepper', null, 5, 'kg', 20_000)] },
      r2: { vendorId: 'u2', items: [line('Cumin, whole', 'CUM-1', 20, 'kg', 30_000)] },
      r3: { vendorId: 'v9', items: [line('Black pepper', null, 2, 'kg', 10_000), line('Cardamom', null, 250, 'g', 60_000)] },
    };
    for (const [orderId, hour] of [['r1', 9], ['r2', 10], ['r3', 11], ['r1', 9]] as const) {
      for (const row of toOrderLineRows({ orderId, at: t(7, hour) }, lines[orderId])) writer.record(row);
    }
    await writer.flush();
    await writer.close();
  });
  afterAll(() => db.drop());

  const daily = async (day: string) =>
    (await db.pool.query<{ metric: string; dimension: string; value: string }>('SELECT metric, dimension, value FROM analytics_daily WHERE day = $1 ORDER BY metric, dimension', [day])).rows;

  it('rolls a day up into counts per event, active users, MAU and amounts, and a second run changes nothing', async () => {
    await rollups.rollupDay('2026-10-05');
    const first = await daily('2026-10-05');
    expect(first).toEqual([
      { metric: 'active_users', dimension: '', value: '1' },
      { metric: 'events', dimension: 'message.sent', value: '2' },
      { metric: 'events', dimension: 'user.registered', value: '1' },
      { metric: 'mau', dimension: '', value: '1' },
    ]);
    await Promise.all([rollups.rollupDay('2026-10-05'), rollups.rollupDay('2026-10-05')]);
    expect(await daily('2026-10-05')).toEqual(first);
    await rollups.rollupDay('2026-10-08');
    expect(await daily('2026-10-08')).toEqual(
      expect.arrayContaining([
        { metric: 'amount', dimension: 'order.status_changed:INR', value: '150000' },
        { metric: 'amount', dimension: 'payment.succeeded:INR', value: '120000' },
        { metric: 'mau', dimension: '', value: '3' },
      ]),
    );
  });

  it('recomputes a day after late events arrive', async () => {
    await rollups.rollupDay('2026-10-20');
    expect(await daily('2026-10-20')).toEqual([{ metric: 'active_users', dimension: '', value: '0' }, { metric: 'mau', dimension: '', value: '4' }]);
    const writer = createAnalyticsWriter({ pool: db.pool, logger: silentLogger, batchSize: 50, flushIntervalMs: 1_000, bufferMaxEvents: 100, retryMaxMs: 1_000 });
    writer.record(toAnalyticsRow('message.sent', { messageId: 'late', conversationId: 'c', senderId: 'u9', seq: 9, type: 'text', at: t(20) }, t(20)));
    await writer.flush();
    await writer.close();
    await rollups.rollupDay('2026-10-20');
    expect(await daily('2026-10-20')).toContainEqual({ metric: 'events', dimension: 'message.sent', value: '1' });
  });

  it('answers a daily and a weekly timeseries from the rollups, with empty buckets as zero', async () => {
    await rollups.rollupRange(new Date(t(1)), new Date(t(31)));
    const period = { from: new Date('2026-10-05T00:00:00Z'), to: new Date('2026-10-08T00:00:00Z') };
    expect(await queries.timeseries('message.sent', period, 'day')).toEqual([
      { at: '2026-10-05T00:00:00.000Z', value: 2 },
      { at: '2026-10-06T00:00:00.000Z', value: 1 },
      { at: '2026-10-07T00:00:00.000Z', value: 0 },
    ]);
    const weeks = await queries.timeseries('message.sent', { from: new Date('2026-10-05T00:00:00Z'), to: new Date('2026-10-19T00:00:00Z') }, 'week');
    expect(weeks).toEqual([
      { at: '2026-10-05T00:00:00.000Z', value: 3 },
      { at: '2026-10-12T00:00:00.000Z', value: 1 },
    ]);
    expect(await queries.timeseries('active_users', { from: new Date('2026-10-05T00:00:00Z'), to: new Date('2026-10-07T00:00:00Z') }, 'day')).toEqual([
      { at: '2026-10-05T00:00:00.000Z', value: 1 },
      { at: '2026-10-06T00:00:00.000Z', value: 1 },
    ]);
  });

  it('follows offers through acceptance, delivery and payment, with conversion and median time per step', async () => {
    const funnel = await queries.funnel({ from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') });
    expect(funnel).toEqual([
      { step: 'offer_created', count: 4, conversion: 1, medianSecondsFromPrevious: null },
      { step: 'offer_accepted', count: 3, conversion: 0.75, medianSecondsFromPrevious: 7_200 },
      { step: 'order_delivered', count: 2, conversion: 0.6667, medianSecondsFromPrevious: 86_400 },
      { step: 'order_paid', count: 1, conversion: 0.5, medianSecondsFromPrevious: 7_200 },
    ]);
    const empty = await queries.funnel({ from: new Date('2026-12-01T00:00:00Z'), to: new Date('2026-12-02T00:00:00Z') });
    expect(empty.map((s) => [s.count, s.conversion])).toEqual([[0, 1], [0, null], [0, null], [0, null]]);
  });

  it('builds weekly signup cohorts with their activity per week', async () => {
    const cohorts = await queries.cohorts({ from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') }, 3);
    expect(cohorts).toEqual([
      // u1 and u2 (week of 5 Oct): both active in week 0 (messages, offers), u1 in week 1 (message on the 13th).
      { cohort: '2026-10-05T00:00:00.000Z', size: 2, active: [2, 1, 0] },
      { cohort: '2026-10-12T00:00:00.000Z', size: 1, active: [0, 0, 0] },
    ]);
  });

  it('ranks vendors by order value and reports KPIs for a period', async () => {
    const period = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') };
    expect(await queries.topVendors(period, 10)).toEqual([
      { vendorId: 'u2', currency: 'INR', value: 80_000, orders: 2 },
      { vendorId: 'v9', currency: 'INR', value: 70_000, orders: 1 },
    ]);
    expect(await queries.topProducts(period, 10)).toEqual([
      { product: 'Cardamom', sku: null, name: 'Cardamom', unit: 'g', quantity: 250, orders: 1, vendors: 1 },
      { product: 'CUM-1', sku: 'CUM-1', name: 'Cumin seeds', unit: 'kg', quantity: 30, orders: 2, vendors: 1 },
      { product: 'Black pepper', sku: null, name: 'Black pepper', unit: 'kg', quantity: 7, orders: 2, vendors: 2 },
    ]);
    expect(await queries.topProducts(period, 1)).toHaveLength(1);
    expect(await queries.topProducts({ from: new Date('2026-10-08T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') }, 10)).toEqual([]);
    // Lines keep the product, never the item's free-text description.
    const { rows } = await db.pool.query<{ row: string }>("SELECT row_to_json(e)::text AS row FROM analytics_domain_events e WHERE name = 'order.line'");
    expect(rows).toHaveLength(5);
    for (const { row } of rows) expect(row).not.toMatch(/Asha|98765/);
    const kpis = await queries.kpis({ from: new Date('2026-10-05T00:00:00Z'), to: new Date('2026-10-09T00:00:00Z') });
    // Users who acted: u1 and u2, and v9 (the vendor who moved r3), all on the 8th too.
    expect(kpis).toMatchObject({ activeUsers: 3, dau: 3, mau: 3 });
    expect(kpis.counts).toMatchObject({ 'message.sent': 3, 'offer.created': 4, 'offer.accepted': 3, 'order.created': 3, 'payment.succeeded': 2 });
    expect(kpis.amounts).toContainEqual({ event: 'payment.succeeded', currency: 'INR', amount: 120_000 });
    expect(await queries.recentForUser('u2', 2)).toEqual([
      { name: 'order.status_changed', at: t(8, 10), entityId: 'r2' },
      { name: 'order.status_changed', at: t(8, 9), entityId: 'r1' },
    ]);
  });
});

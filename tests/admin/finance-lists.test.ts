import { bearer, createUser, type TestUser } from '../helpers/users';
import { expectLedgerConsistent, startFinanceWorld, type FinanceWorld } from '../finance/finance-helpers';

/** GET /api/admin/finance/{payments,refunds,disputes}: every row for admins, filtered, in cursor pages. */
let w: FinanceWorld;
let seq = 0;
let buyerA: TestUser;
let buyerB: TestUser;
const ids = { paidA: '', processingA: '', paidB: '', refund: '', dispute: '' };

type Row = { id: string; status: string; userId?: string; vendorId?: string; paymentId?: string; provider?: string; checkout?: unknown };

const admin = (path: string, query: Record<string, string | number> = {}, user: TestUser = w.admin) => w.app.api.get(path).query(query).set('Authorization', bearer(user));

async function owing(amount: number): Promise<TestUser> {
  const buyer = await createUser(w.app);
  await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 1_000_000, actorId: w.admin.id });
  const n = ++seq;
  const offerId = `fl-offer-${n}`;
  await w.finance.creditHolds.hold({ offerId, buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount, currency: 'INR' }, creditDays: 30, actorId: buyer.id });
  w.app.ctx.events.publish('order.status_changed', {
    orderId: `fl-order-${n}`, offerId, buyerId: buyer.id, vendorId: w.vendor.id, total: { amount, currency: 'INR' },
    paymentTerms: { kind: 'credit', creditDays: 30 }, at: new Date().toISOString(), from: 'shipped', to: 'delivered', actorId: w.vendor.id, reason: null,
  });
  for (let i = 0; i < 150; i += 1) {
    const l = await admin(`/api/finance/accounts/line:${buyer.id}:${w.vendor.id}:INR`);
    if (l.body.data?.posted?.amount === amount) return buyer;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the charge was not posted');
}

async function pay(buyer: TestUser, amount: number) {
  const res = await w.app.api.post('/api/finance/payments').set('Authorization', bearer(buyer)).set('Idempotency-Key', `fl-${++seq}`).send({ provider: 'stripe', vendorId: w.vendor.id, currency: 'INR', amount });
  expect(res.status).toBe(201);
  return res.body.data as { id: string; checkout: { paymentIntentId: string } };
}

async function succeed(payment: { id: string; checkout: { paymentIntentId: string } }, amount: number, charge: string) {
  const eventId = `evt_fl_${++seq}`;
  const outcome = await w.finance.webhookHandlers.stripe({
    id: `inbox-fl-${seq}`, provider: 'stripe', eventId, type: 'payment_intent.succeeded', receivedAt: new Date().toISOString(), attempts: 0, occurredAt: null,
    payload: { id: eventId, type: 'payment_intent.succeeded', data: { object: { id: payment.checkout.paymentIntentId, amount_received: amount, currency: 'inr', latest_charge: charge, metadata: { paymentId: payment.id } } } },
  });
  expect(outcome.outcome).toBe('processed');
}

beforeAll(async () => {
  w = await startFinanceWorld({ env: { RATE_LIMIT_MAX: '1000000' } });
  [buyerA, buyerB] = await Promise.all([owing(10_000), owing(6_000)]);
  const paidA = await pay(buyerA, 4_000);
  await succeed(paidA, 4_000, `ch_fl_a_${seq}`);
  const processingA = await pay(buyerA, 1_000);
  const paidB = await pay(buyerB, 6_000);
  await succeed(paidB, 6_000, `ch_fl_b_${seq}`);
  const refund = await w.app.api.post(`/api/finance/payments/${paidA.id}/refunds`).set('Authorization', bearer(w.vendor)).set('Idempotency-Key', `fl-r-${seq}`).send({ amount: 1_500 });
  expect(refund.status).toBe(201);
  const disputeEvent = `evt_fl_d_${++seq}`;
  await w.finance.webhookHandlers.stripe({
    id: `inbox-fl-${seq}`, provider: 'stripe', eventId: disputeEvent, type: 'charge.dispute.created', receivedAt: new Date().toISOString(), attempts: 0, occurredAt: null,
    payload: { id: disputeEvent, type: 'charge.dispute.created', data: { object: { id: `dp_fl_${seq}`, amount: 2_000, currency: 'inr', charge: `ch_fl_b_${seq - 3}`, payment_intent: paidB.checkout.paymentIntentId, reason: 'fraudulent', status: 'needs_response' } } },
  });
  Object.assign(ids, { paidA: paidA.id, processingA: processingA.id, paidB: paidB.id, refund: refund.body.data.id as string, dispute: `stripe:dp_fl_${seq}` });
}, 180_000);
afterAll(async () => {
  await w.app.close();
});
afterEach(async () => {
  await w.app.ctx.events.drain();
  await expectLedgerConsistent(w.app);
});

async function all(path: string, query: Record<string, string | number> = {}): Promise<Row[]> {
  const res = await admin(path, { ...query, limit: 100 });
  expect(res.status).toBe(200);
  return res.body.data as Row[];
}

describe('admin finance lists', () => {
  test('payments: every payment, newest first, filtered by status, provider, either party and time; no checkout secrets', async () => {
    const every = await all('/api/admin/finance/payments');
    expect(every.map((p) => p.id)).toEqual([ids.paidB, ids.processingA, ids.paidA]);
    expect(every.every((p) => p.checkout === undefined)).toBe(true);
    expect((await all('/api/admin/finance/payments', { status: 'processing' })).map((p) => p.id)).toEqual([ids.processingA]);
    expect((await all('/api/admin/finance/payments', { status: 'disputed' })).map((p) => p.id)).toEqual([ids.paidB]);
    expect((await all('/api/admin/finance/payments', { userId: buyerA.id })).map((p) => p.id)).toEqual([ids.processingA, ids.paidA]);
    expect(await all('/api/admin/finance/payments', { userId: w.vendor.id })).toHaveLength(3);
    expect(await all('/api/admin/finance/payments', { userId: w.stranger.id })).toEqual([]);
    expect(await all('/api/admin/finance/payments', { provider: 'stripe' })).toHaveLength(3);
    expect(await all('/api/admin/finance/payments', { provider: 'razorpay' })).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await all('/api/admin/finance/payments', { from: future })).toEqual([]);
    expect(await all('/api/admin/finance/payments', { to: future })).toHaveLength(3);
    expect(await all('/api/admin/finance/payments', { to: new Date(Date.now() - 3_600_000).toISOString() })).toEqual([]);
  });

  test('payments in pages of one: each once, in order, then a null cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await admin('/api/admin/finance/payments', { limit: 1, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.page.limit).toBe(1);
      seen.push(...(res.body.data as Row[]).map((p) => p.id));
      cursor = res.body.page.nextCursor as string | null;
    } while (cursor && seen.length < 10);
    expect(seen).toEqual([ids.paidB, ids.processingA, ids.paidA]);
  });

  test('refunds and disputes: listed with their filters', async () => {
    const refunds = await all('/api/admin/finance/refunds');
    expect(refunds).toEqual([expect.objectContaining({ id: ids.refund, paymentId: ids.paidA, amount: { amount: 1_500, currency: 'INR' } })]);
    expect(await all('/api/admin/finance/refunds', { userId: buyerA.id })).toHaveLength(1);
    expect(await all('/api/admin/finance/refunds', { userId: buyerB.id })).toEqual([]);
    expect(await all('/api/admin/finance/refunds', { provider: 'stripe' })).toHaveLength(1);
    expect(await all('/api/admin/finance/refunds', { provider: 'payu' })).toEqual([]);
    const status = refunds[0]?.status as string;
    expect(await all('/api/admin/finance/refunds', { status })).toHaveLength(1);
    expect(await all('/api/admin/finance/refunds', { status: status === 'failed' ? 'succeeded' : 'failed' })).toEqual([]);

    const disputes = await all('/api/admin/finance/disputes');
    expect(disputes).toEqual([expect.objectContaining({ id: ids.dispute, paymentId: ids.paidB, status: 'open', amount: { amount: 2_000, currency: 'INR' } })]);
    expect(await all('/api/admin/finance/disputes', { status: 'open', provider: 'stripe', userId: buyerB.id })).toHaveLength(1);
    expect(await all('/api/admin/finance/disputes', { status: 'won' })).toEqual([]);
    expect(await all('/api/admin/finance/disputes', { userId: buyerA.id })).toEqual([]);
    expect(await all('/api/admin/finance/disputes', { from: new Date(Date.now() + 3_600_000).toISOString() })).toEqual([]);
  });

  test('bad inputs are 400 VALIDATION_FAILED naming the field; a non-admin is 403', async () => {
    const cases: Array<[string, Record<string, string | number>, string]> = [
      ['/api/admin/finance/payments', { status: 'paid' }, 'status'],
      ['/api/admin/finance/payments', { provider: 'paypal' }, 'provider'],
      ['/api/admin/finance/payments', { userId: 'not-an-id' }, 'userId'],
      ['/api/admin/finance/payments', { from: 'yesterday' }, 'from'],
      ['/api/admin/finance/payments', { limit: 0 }, 'limit'],
      ['/api/admin/finance/payments', { cursor: 'garbage' }, 'cursor'],
      ['/api/admin/finance/refunds', { status: 'open' }, 'status'],
      ['/api/admin/finance/refunds', { to: '2026-13-40' }, 'to'],
      ['/api/admin/finance/disputes', { status: 'pending' }, 'status'],
      ['/api/admin/finance/disputes', { limit: 101 }, 'limit'],
    ];
    for (const [path, query, field] of cases) {
      const res = await admin(path, query);
      expect({ path, query, status: res.status, code: res.body.error?.code }).toEqual({ path, query, status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    for (const path of ['/api/admin/finance/payments', '/api/admin/finance/refunds', '/api/admin/finance/disputes']) {
      expect((await admin(path, {}, buyerA)).status).toBe(403);
      expect((await admin(path, {}, w.vendor)).status).toBe(403);
      expect((await w.app.api.get(path)).status).toBe(401);
    }
  });
});

import { bearer } from '../helpers/users';
import { testClock } from '../helpers/clock';
import { expectLedgerConsistent, startFinanceWorld, type FinanceWorld } from './finance-helpers';
import { createUser } from '../helpers/users';

const clock = testClock();
let w: FinanceWorld;

beforeAll(async () => {
  w = await startFinanceWorld({ clock });
});
afterAll(async () => {
  await w.app.close();
});
afterEach(async () => {
  await w.app.ctx.events.drain();
  await expectLedgerConsistent(w.app);
});

const lineId = (buyerId: string, vendorId: string, currency = 'INR') => `line:${buyerId}:${vendorId}:${currency}`;
const hold = (offerId: string, amount: number, buyerId = w.buyer.id, vendorId = w.vendor.id) =>
  w.finance.creditHolds.hold({ offerId, buyerId, vendorId, amount: { amount, currency: 'INR' }, creditDays: 30, actorId: buyerId });

async function line(id: string) {
  const res = await w.app.api.get(`/api/finance/accounts/${id}`).set('Authorization', bearer(w.admin));
  expect(res.status).toBe(200);
  return res.body.data as { available: { amount: number }; held: { amount: number }; posted: { amount: number }; status: string };
}

describe('credit holds', () => {
  test('100 concurrent holds of 10% of the limit each: exactly 10 succeed, 90 CREDIT_LIMIT_EXCEEDED, available ends at 0', async () => {
    const buyer = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 1_000_000, actorId: w.admin.id });
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => hold(`offer-c-${i}`, 100_000, buyer.id)));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []));
    expect(ok).toBe(10);
    expect(codes).toEqual(Array(90).fill('CREDIT_LIMIT_EXCEEDED'));
    const after = await line(lineId(buyer.id, w.vendor.id));
    expect(after.available.amount).toBe(0);
    expect(after.held.amount).toBe(1_000_000);
  }, 180_000);

  test('a hold is idempotent per offer, and a release voids it once', async () => {
    await w.finance.admin.setLimit({ buyerId: w.buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 500_000, actorId: w.admin.id });
    await Promise.all([hold('offer-idem', 200_000), hold('offer-idem', 200_000), hold('offer-idem', 200_000)]);
    expect((await line(lineId(w.buyer.id, w.vendor.id))).held.amount).toBe(200_000);
    await Promise.all([w.finance.creditHolds.release('offer-idem', 'lost race'), w.finance.creditHolds.release('offer-idem', 'lost race')]);
    const after = await line(lineId(w.buyer.id, w.vendor.id));
    expect(after.held.amount).toBe(0);
    expect(after.available.amount).toBe(500_000);
    await expect(w.finance.creditHolds.release('no-such-offer', 'x')).resolves.toBeUndefined();
  });

  test('no line, or a frozen line: CREDIT_LINE_UNAVAILABLE', async () => {
    await expect(hold('offer-noline', 1, w.stranger.id)).rejects.toMatchObject({ code: 'CREDIT_LINE_UNAVAILABLE', status: 409 });
    const other = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: other.id, vendorId: w.vendor.id, currency: 'INR', limit: 10_000, actorId: w.admin.id });
    await w.finance.admin.freeze(lineId(other.id, w.vendor.id), { actorId: w.admin.id, reason: 'review' });
    await expect(hold('offer-frozen', 1, other.id)).rejects.toMatchObject({ code: 'CREDIT_LINE_UNAVAILABLE' });
    await w.finance.admin.unfreeze(lineId(other.id, w.vendor.id), { actorId: w.admin.id, reason: null });
    await expect(hold('offer-frozen', 1, other.id)).resolves.toBeUndefined();
    await w.finance.creditHolds.release('offer-frozen', 'cleanup');
  });

  test('the order decides: delivered posts the hold as a charge, cancelled voids it, through durable jobs', async () => {
    const buyer = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 100_000, creditDays: 15, actorId: w.admin.id });
    await hold('offer-d', 30_000, buyer.id);
    await hold('offer-x', 20_000, buyer.id);
    const base = { buyerId: buyer.id, vendorId: w.vendor.id, total: { amount: 30_000, currency: 'INR' }, paymentTerms: { kind: 'credit' as const, creditDays: 15 }, at: new Date().toISOString() };
    w.app.ctx.events.publish('order.created', { ...base, orderId: 'o-d', offerId: 'offer-d' });
    w.app.ctx.events.publish('order.status_changed', { ...base, orderId: 'o-d', offerId: 'offer-d', from: 'shipped', to: 'delivered', actorId: w.vendor.id, reason: null });
    w.app.ctx.events.publish('order.status_changed', { ...base, orderId: 'o-d', offerId: 'offer-d', from: 'shipped', to: 'delivered', actorId: w.vendor.id, reason: null });
    w.app.ctx.events.publish('order.status_changed', { ...base, orderId: 'o-x', offerId: 'offer-x', total: { amount: 20_000, currency: 'INR' }, from: 'placed', to: 'cancelled', actorId: buyer.id, reason: 'changed mind' });
    const id = lineId(buyer.id, w.vendor.id);
    for (let i = 0; i < 100; i += 1) {
      const l = await line(id);
      if (l.posted.amount === 30_000 && l.held.amount === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await line(id);
    expect(after).toMatchObject({ posted: { amount: 30_000 }, held: { amount: 0 }, available: { amount: 70_000 } });
    const tx = await w.app.api.get('/api/finance/transactions').query({ account: id }).set('Authorization', bearer(buyer));
    expect(tx.status).toBe(200);
    const kinds = (tx.body.data as Array<{ kind: string; dueAt: string | null }>).map((t) => t.kind).sort();
    expect(kinds).toEqual(['hold', 'hold', 'post', 'void']);
    const post = (tx.body.data as Array<{ kind: string; dueAt: string | null; reference: { id: string } }>).find((t) => t.kind === 'post');
    expect(post?.reference.id).toBe('o-d');
    expect(new Date(post?.dueAt as string).getTime()).toBeGreaterThan(Date.now() + 14 * 86_400_000);
  });

  test('an expired hold is voided by the sweep (test clock)', async () => {
    const buyer = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 50_000, actorId: w.admin.id });
    await hold('offer-exp', 50_000, buyer.id);
    expect((await w.finance.repair()).expiredHolds).toBe(0);
    clock.advance(31 * 86_400_000);
    const done = await w.finance.repair();
    expect(done.expiredHolds).toBeGreaterThanOrEqual(1); // this one, and the first test's ten
    expect((await line(lineId(buyer.id, w.vendor.id))).available.amount).toBe(50_000);
  });
});

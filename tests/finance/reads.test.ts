import { io as connect, type Socket } from 'socket.io-client';
import { testClock } from '../helpers/clock';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { expectLedgerConsistent, startFinanceWorld, type FinanceWorld } from './finance-helpers';

const DAY = 86_400_000;
const clock = testClock();
let w: FinanceWorld;
let seq = 0;

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

const lineId = (buyerId: string, vendorId: string) => `line:${buyerId}:${vendorId}:INR`;

async function deliverHold(buyer: TestUser, amount: number, creditDays = 30): Promise<string> {
  const offerId = `offer-r-${++seq}`;
  await w.finance.creditHolds.hold({ offerId, buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount, currency: 'INR' }, creditDays, actorId: buyer.id });
  w.app.ctx.events.publish('order.status_changed', {
    orderId: `order-r-${seq}`,
    offerId,
    buyerId: buyer.id,
    vendorId: w.vendor.id,
    total: { amount, currency: 'INR' },
    paymentTerms: { kind: 'credit', creditDays },
    at: clock().toISOString(),
    from: 'shipped',
    to: 'delivered',
    actorId: w.vendor.id,
    reason: null,
  });
  for (let i = 0; i < 100; i += 1) {
    const tx = await w.app.api.get('/api/finance/transactions').query({ reference: `order-r-${seq}` }).set('Authorization', bearer(buyer));
    if (tx.body.data.length === 1) return offerId;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the hold was not posted');
}

describe('reads', () => {
  test('statement as JSON and as CSV: opening, entries with a running posted balance, closing; a stranger gets 404', async () => {
    const buyer = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 100_000, actorId: w.admin.id });
    const start = clock();
    await deliverHold(buyer, 10_000);
    clock.advance(2 * DAY);
    const from = clock().toISOString();
    await deliverHold(buyer, 2_500);
    await w.finance.creditHolds.hold({ offerId: 'open-hold', buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount: 1_000, currency: 'INR' }, creditDays: 30, actorId: buyer.id });
    const to = new Date(clock().getTime() + 60_000).toISOString();
    const json = await w.app.api.get('/api/finance/statements').query({ from, to }).set('Authorization', bearer(buyer));
    expect(json.status).toBe(200);
    const [acct] = json.body.data.accounts;
    expect(acct).toMatchObject({ accountId: lineId(buyer.id, w.vendor.id), opening: 10_000, closing: 12_500 });
    expect(acct.entries.map((e: { kind: string; pending: boolean; balance: number }) => [e.kind, e.pending, e.balance])).toEqual([
      ['hold', true, 10_000],
      ['post', false, 12_500],
      ['hold', true, 12_500],
    ]);
    const csv = await w.app.api.get('/api/finance/statements').query({ from, to, format: 'csv' }).set('Authorization', bearer(buyer));
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).toBe('"account","currency","at","kind","transfer","reference_type","reference_id","pending","debit","credit","balance","memo"');
    expect(rows).toHaveLength(1 + 1 + 3 + 1);
    expect(rows[1]).toContain('"opening"');
    expect(rows.at(-1)).toMatch(/"closing",.*"12500",""$/);
    const viaAccept = await w.app.api.get('/api/finance/statements').query({ from, to }).set('Accept', 'text/csv').set('Authorization', bearer(buyer));
    expect(viaAccept.text).toBe(csv.text);
    expect((await w.app.api.get('/api/finance/statements').query({ from, to, account: lineId(buyer.id, w.vendor.id) }).set('Authorization', bearer(w.stranger))).status).toBe(404);
    const strangers = await w.app.api.get('/api/finance/statements').query({ from: start.toISOString(), to }).set('Authorization', bearer(w.stranger));
    expect(strangers.body.data.accounts).toEqual([]);
    expect((await w.app.api.get('/api/finance/statements').query({ from: to, to: from }).set('Authorization', bearer(buyer))).status).toBe(400);
    await w.finance.creditHolds.release('open-hold', 'cleanup');
  });

  test('summary: owed, available, held and overdue for the buyer, receivable for the vendor', async () => {
    const buyer = await createUser(w.app);
    const vendor = await createUser(w.app, { role: 'vendor' });
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: vendor.id, currency: 'INR', limit: 50_000, actorId: w.admin.id });
    const offerId = `offer-s-${++seq}`;
    await w.finance.creditHolds.hold({ offerId, buyerId: buyer.id, vendorId: vendor.id, amount: { amount: 20_000, currency: 'INR' }, creditDays: 10, actorId: buyer.id });
    w.app.ctx.events.publish('order.status_changed', { orderId: `o-s-${seq}`, offerId, buyerId: buyer.id, vendorId: vendor.id, total: { amount: 20_000, currency: 'INR' }, paymentTerms: { kind: 'credit', creditDays: 10 }, at: clock().toISOString(), from: 'shipped', to: 'delivered', actorId: vendor.id, reason: null });
    await w.finance.creditHolds.hold({ offerId: `${offerId}-b`, buyerId: buyer.id, vendorId: vendor.id, amount: { amount: 5_000, currency: 'INR' }, creditDays: 10, actorId: buyer.id });
    let s: { asBuyer: Record<string, { amount: number }>; asVendor: Record<string, { amount: number }> } | undefined;
    for (let i = 0; i < 100; i += 1) {
      s = (await w.app.api.get('/api/finance/summary').set('Authorization', bearer(buyer))).body.data.currencies[0];
      if (s?.asBuyer.owed?.amount === 20_000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(s?.asBuyer).toMatchObject({ limit: { amount: 50_000 }, owed: { amount: 20_000 }, held: { amount: 5_000 }, available: { amount: 25_000 }, overdue: { amount: 0 } });
    clock.advance(11 * DAY);
    const later = (await w.app.api.get('/api/finance/summary').query({ currency: 'INR' }).set('Authorization', bearer(buyer))).body.data.currencies[0];
    expect(later.asBuyer.overdue.amount).toBe(20_000);
    const vendorView = (await w.app.api.get('/api/finance/summary').set('Authorization', bearer(vendor))).body.data.currencies[0];
    expect(vendorView.asVendor).toMatchObject({ receivable: { amount: 20_000 }, held: { amount: 5_000 }, overdue: { amount: 20_000 } });
    expect((await w.app.api.get('/api/finance/summary').set('Authorization', bearer(w.stranger))).body.data.currencies).toEqual([]);
    await w.finance.creditHolds.release(`${offerId}-b`, 'cleanup');
  });

  test('a line past due beyond FINANCE_OVERDUE_FREEZE_DAYS takes no new hold; its risk shows why (vendor and admin only)', async () => {
    const buyer = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 100_000, actorId: w.admin.id });
    await deliverHold(buyer, 10_000, 5);
    clock.advance(5 * DAY + 31 * DAY);
    await expect(
      w.finance.creditHolds.hold({ offerId: `late-${++seq}`, buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount: 1, currency: 'INR' }, creditDays: 5, actorId: buyer.id }),
    ).rejects.toMatchObject({ code: 'CREDIT_LINE_UNAVAILABLE' });
    const id = lineId(buyer.id, w.vendor.id);
    const risk = await w.app.api.get(`/api/finance/accounts/${id}/risk`).set('Authorization', bearer(w.vendor));
    expect(risk.status).toBe(200);
    expect(risk.body.data).toMatchObject({ holdsFrozen: true, daysPastDue: 31, overdue: 10_000, suggestedLimit: 10_000 });
    expect((await w.app.api.get(`/api/finance/accounts/${id}/risk`).set('Authorization', bearer(w.admin))).status).toBe(200);
    expect((await w.app.api.get(`/api/finance/accounts/${id}/risk`).set('Authorization', bearer(buyer))).status).toBe(404);
    expect((await w.app.api.get(`/api/finance/accounts/${id}/risk`).set('Authorization', bearer(w.stranger))).status).toBe(404);
  });

  test('both parties\' devices receive finance:credit_changed when a line\'s balances move', async () => {
    const buyer = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 30_000, actorId: w.admin.id });
    const open = async (user: TestUser) => {
      const socket = connect(w.app.url, { auth: { token: user.accessToken }, transports: ['websocket'], reconnection: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      return socket;
    };
    const sockets: Socket[] = [await open(buyer), await open(w.vendor)];
    try {
      const received = sockets.map(
        (socket) =>
          new Promise<Record<string, unknown>>((resolve) => {
            socket.on('finance:credit_changed', (payload: Record<string, unknown>) => {
              if (payload.buyerId === buyer.id) resolve(payload);
            });
          }),
      );
      await w.finance.creditHolds.hold({ offerId: `sock-${++seq}`, buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount: 12_000, currency: 'INR' }, creditDays: 30, actorId: buyer.id });
      for (const payload of await Promise.all(received)) {
        expect(payload).toMatchObject({ creditLineId: lineId(buyer.id, w.vendor.id), currency: 'INR', limit: 30_000, held: 12_000, posted: 0, available: 18_000 });
      }
      await w.finance.creditHolds.release(`sock-${seq}`, 'cleanup');
    } finally {
      sockets.forEach((s) => s.close());
    }
  });
});

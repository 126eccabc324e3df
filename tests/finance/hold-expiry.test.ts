import { directConversation } from '../chat/chat-helpers';
import { OFFERS_TEST_ENV, act, createOffer, cuminOffer, type Parties } from '../offers/offers-helpers';
import { testClock } from '../helpers/clock';
import { bearer } from '../helpers/users';
import { expectLedgerConsistent, startFinanceWorld, type FinanceWorld } from './finance-helpers';
import { until as waitUntil } from '../helpers/until';

/** A credit order's hold expires with the order's delivery deadline (+ FINANCE_HOLD_GRACE_DAYS), wired through offers' contract. */
const DAY = 86_400_000;
const clock = testClock();
let w: FinanceWorld;
let p: Parties;

beforeAll(async () => {
  w = await startFinanceWorld({ env: { ...OFFERS_TEST_ENV, FINANCE_HOLD_GRACE_DAYS: '3' }, clock });
  p = { buyer: w.buyer, vendor: w.vendor, stranger: w.stranger, conversationId: await directConversation(w.app, w.vendor, w.buyer) };
  await w.finance.admin.setLimit({ buyerId: w.buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 100_000_000, creditDays: 30, actorId: w.admin.id });
}, 120_000);
afterAll(async () => {
  await w.app.close();
});
afterEach(async () => {
  await w.app.ctx.events.drain();
  await expectLedgerConsistent(w.app);
});

async function line() {
  const res = await w.app.api.get(`/api/finance/accounts/line:${w.buyer.id}:${w.vendor.id}:INR`).set('Authorization', bearer(w.buyer));
  expect(res.status).toBe(200);
  return res.body.data as { held: { amount: number }; available: { amount: number } };
}

const until = (check: () => Promise<boolean>, what: string) => waitUntil(check, what, 15_000, 100);

test('an accepted credit offer delivered by a date: its hold stays until the date + the grace days, then the sweep voids it once', async () => {
  const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const deliveryDate = isoDay(clock().getTime() + 20 * DAY);
  const offer = await createOffer(w.app, w.vendor, cuminOffer(p, { delivery: { place: 'Pune', date: deliveryDate } }));
  const accepted = await act(w.app, w.buyer, offer.id, 'accept', { version: 1 });
  expect(accepted.status).toBe(200);
  expect((await line()).held.amount).toBe(offer.total.amount);

  // The order.created job reads the order's terms through offers' contract and moves the expiry.
  const deadline = Date.parse(`${deliveryDate}T00:00:00.000Z`) + DAY;
  const holds = w.app.ctx.mongo.collection<{ _id: string; deadlineAt: Date | null; expiresAt: Date }>('finance_holds');
  await until(async () => (await holds.findOne({ _id: offer.id }))?.deadlineAt != null, 'the order.created job');
  expect((await holds.findOne({ _id: offer.id }))?.expiresAt.getTime()).toBe(deadline + 3 * DAY);

  // Past the old 30-day-from-placement rule would not matter; past the placement + grace does not void it either.
  clock.advance(deadline + 3 * DAY - clock().getTime() - 3_600_000);
  expect((await w.finance.repair()).expiredHolds).toBe(0);
  expect((await line()).held.amount).toBe(offer.total.amount);

  clock.advance(2 * 3_600_000);
  // Two sweeps at once (two processes): each may report it, the ledger has one void.
  const [first, second] = await Promise.all([w.finance.repair(), w.finance.repair()]);
  expect(first.expiredHolds + second.expiredHolds).toBeGreaterThanOrEqual(1);
  expect(await line()).toMatchObject({ held: { amount: 0 }, available: { amount: 100_000_000 } });
  const tx = await w.app.api.get('/api/finance/transactions').query({ account: `line:${w.buyer.id}:${w.vendor.id}:INR` }).set('Authorization', bearer(w.buyer));
  expect((tx.body.data as Array<{ kind: string }>).map((t) => t.kind).sort()).toEqual(['hold', 'void']);
  expect((await w.finance.repair()).expiredHolds).toBe(0);
}, 120_000);

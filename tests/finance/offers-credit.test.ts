import { directConversation } from '../chat/chat-helpers';
import { OFFERS_TEST_ENV, act, createOffer, cuminOffer, type Parties } from '../offers/offers-helpers';
import { bearer, type TestUser } from '../helpers/users';
import { expectLedgerConsistent, startFinanceWorld, type FinanceWorld } from './finance-helpers';
import { until as waitUntil } from '../helpers/until';

/** The credit port in the running app: offers' acceptance path holds credit through finance. */
let w: FinanceWorld;
let p: Parties;
const OFFER_TOTAL = 12_000_000; // cuminOffer: 500 kg at 240.00
const LIMIT = 10 * OFFER_TOTAL;

beforeAll(async () => {
  w = await startFinanceWorld({ env: OFFERS_TEST_ENV });
  p = { buyer: w.buyer, vendor: w.vendor, stranger: w.stranger, conversationId: await directConversation(w.app, w.vendor, w.buyer) };
  await w.finance.admin.setLimit({ buyerId: w.buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: LIMIT, creditDays: 30, actorId: w.admin.id });
});
afterAll(async () => {
  await w.app.close();
});
afterEach(async () => {
  await w.app.ctx.events.drain();
  await expectLedgerConsistent(w.app);
});

const lineId = () => `line:${w.buyer.id}:${w.vendor.id}:INR`;
async function line() {
  return (await w.app.api.get(`/api/finance/accounts/${lineId()}`).set('Authorization', bearer(w.buyer))).body.data as { available: { amount: number }; held: { amount: number }; posted: { amount: number } };
}
const step = (user: TestUser, orderId: string, name: string, body: Record<string, unknown>) => w.app.api.post(`/api/offers/orders/${orderId}/${name}`).set('Authorization', bearer(user)).send(body);

const until = (check: () => Promise<boolean>, what: string) => waitUntil(check, what, 15_000, 100);

describe('credit offers through the offers module', () => {
  let accepted: Array<{ offerId: string; orderId: string }> = [];

  test('100 concurrent accepts of credit offers worth 10% of the limit each: exactly 10 succeed, 90 CREDIT_LIMIT_EXCEEDED and stay open, available = 0', async () => {
    const offers: string[] = [];
    for (let i = 0; i < 100; i += 10) {
      offers.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => createOffer(w.app, w.vendor, cuminOffer(p, { termsText: `lot ${i + j}` })).then((o) => o.id)))));
    }
    const results = await Promise.all(offers.map((id) => act(w.app, w.buyer, id, 'accept', { version: 1 })));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(10);
    expect(results.filter((r) => r.status !== 200).map((r) => r.body.error?.code)).toEqual(Array(90).fill('CREDIT_LIMIT_EXCEEDED'));
    accepted = ok.map((r) => ({ offerId: r.body.data.id as string, orderId: r.body.data.orderId as string }));
    expect(await line()).toMatchObject({ available: { amount: 0 }, held: { amount: LIMIT }, posted: { amount: 0 } });
    const refused = offers.find((id) => !accepted.some((a) => a.offerId === id)) as string;
    const still = await w.app.api.get(`/api/offers/${refused}`).set('Authorization', bearer(w.buyer));
    expect(still.body.data).toMatchObject({ status: 'open', orderId: null });
  }, 300_000);

  test('delivered posts the order\'s hold as a charge, cancelled voids it; a payment for the order pays the line', async () => {
    const first = accepted[0] as { orderId: string };
    const second = accepted[1] as { orderId: string };
    await step(w.vendor, first.orderId, 'confirm', { version: 1 }).expect(200);
    await step(w.vendor, first.orderId, 'ship', { version: 2, carrier: 'BlueDart', trackingNumber: 'BD1' }).expect(200);
    await step(w.vendor, first.orderId, 'deliver', { version: 3 }).expect(200);
    const cancelled = await step(w.buyer, second.orderId, 'cancel', { version: 1, reason: 'not needed' });
    expect(cancelled.status).toBe(200);
    await until(async () => {
      const l = await line();
      return l.posted.amount === OFFER_TOTAL && l.held.amount === LIMIT - 2 * OFFER_TOTAL;
    }, 'the post and the void');
    expect((await line()).available.amount).toBe(OFFER_TOTAL);

    const pay = await w.app.api.post('/api/finance/payments').set('Authorization', bearer(w.buyer)).set('Idempotency-Key', `order-pay-${first.orderId}`).send({ provider: 'stripe', orderId: first.orderId });
    expect(pay.status).toBe(201);
    expect(pay.body.data).toMatchObject({ orderId: first.orderId, creditLineId: lineId(), amount: { amount: OFFER_TOTAL, currency: 'INR' } });
    const strangers = await w.app.api.post('/api/finance/payments').set('Authorization', bearer(w.stranger)).set('Idempotency-Key', `x-${first.orderId}`).send({ provider: 'stripe', orderId: first.orderId });
    expect(strangers.status).toBe(404);
    const outcome = await w.finance.webhookHandlers.stripe({
      id: 'inbox-order',
      provider: 'stripe',
      eventId: 'evt_order',
      type: 'payment_intent.succeeded',
      receivedAt: new Date().toISOString(),
      attempts: 0,
      occurredAt: null,
      payload: { id: 'evt_order', type: 'payment_intent.succeeded', data: { object: { id: pay.body.data.checkout.paymentIntentId, amount_received: OFFER_TOTAL, currency: 'inr', metadata: { paymentId: pay.body.data.id } } } },
    });
    expect(outcome.outcome).toBe('processed');
    expect(await line()).toMatchObject({ posted: { amount: 0 }, available: { amount: 2 * OFFER_TOTAL } });
  }, 60_000);
});

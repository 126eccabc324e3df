import Stripe from 'stripe';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { expectLedgerConsistent, startFinanceWorld, STRIPE_WEBHOOK_SECRET, type FinanceWorld } from './finance-helpers';
import { until as waitUntil } from '../helpers/until';

/**
 * Stripe disputes and cancellations through the webhook inbox: every event is signed with
 * Stripe.webhooks.generateTestHeaderString and posted to POST /api/webhooks/stripe; the inbox
 * verifies, de-duplicates by event id and hands it to finance's handler.
 */
let w: FinanceWorld;
let seq = 0;
const opened: unknown[] = [];
const failed: unknown[] = [];

beforeAll(async () => {
  w = await startFinanceWorld();
  w.app.ctx.events.subscribe('dispute.opened', (p) => void opened.push(p));
  w.app.ctx.events.subscribe('payment.failed', (p) => void failed.push(p));
}, 120_000);
afterAll(async () => {
  await w.app.close();
});
afterEach(async () => {
  await w.app.ctx.events.drain();
  await expectLedgerConsistent(w.app);
});

const lineId = (buyer: TestUser) => `line:${buyer.id}:${w.vendor.id}:INR`;
const get = (path: string, user: TestUser) => w.app.api.get(path).set('Authorization', bearer(user));

async function line(buyer: TestUser) {
  return (await get(`/api/finance/accounts/${lineId(buyer)}`, w.admin)).body.data as { held: { amount: number }; posted: { amount: number }; available: { amount: number } };
}

const until = (check: () => Promise<boolean>, what: string) => waitUntil(check, what, 15_000, 100);

/** A signed Stripe event body, as Stripe posts it. */
function signed(type: string, object: Record<string, unknown>, eventId = `evt_dsp_${++seq}`) {
  const body = JSON.stringify({ id: eventId, object: 'event', type, created: Math.floor(Date.now() / 1000), livemode: false, data: { object } });
  return { body, signature: Stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_WEBHOOK_SECRET }) };
}

async function deliver(event: { body: string; signature: string }) {
  const res = await w.app.api.post('/api/webhooks/stripe').set('Content-Type', 'application/json').set('Stripe-Signature', event.signature).send(event.body);
  expect(res.status).toBe(200);
  return res.body.data as { id: string; duplicate: boolean };
}

async function transfersOf(buyer: TestUser, reference: string) {
  const res = await get(`/api/finance/transactions?account=${encodeURIComponent(lineId(buyer))}&reference=${encodeURIComponent(reference)}`, buyer);
  expect(res.status).toBe(200);
  return res.body.data as Array<{ kind: string; amount: { amount: number } }>;
}

/** A buyer owing `amount` (a delivered credit order), then a Stripe payment of it in `processing`. */
async function processingPayment(amount: number) {
  const buyer = await createUser(w.app);
  await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 1_000_000, actorId: w.admin.id });
  const offerId = `dsp-offer-${++seq}`;
  await w.finance.creditHolds.hold({ offerId, buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount, currency: 'INR' }, creditDays: 30, actorId: buyer.id });
  w.app.ctx.events.publish('order.status_changed', {
    orderId: `dsp-order-${seq}`, offerId, buyerId: buyer.id, vendorId: w.vendor.id, total: { amount, currency: 'INR' },
    paymentTerms: { kind: 'credit', creditDays: 30 }, at: new Date().toISOString(), from: 'shipped', to: 'delivered', actorId: w.vendor.id, reason: null,
  });
  await until(async () => (await line(buyer)).posted.amount === amount, 'the charge');
  const res = await w.app.api.post('/api/finance/payments').set('Authorization', bearer(buyer)).set('Idempotency-Key', `dsp-${seq}`).send({ provider: 'stripe', vendorId: w.vendor.id, currency: 'INR' });
  expect(res.status).toBe(201);
  const payment = res.body.data as { id: string; status: string; checkout: { paymentIntentId: string } };
  return { buyer, payment, pi: payment.checkout.paymentIntentId };
}

/** …and settled by a signed payment_intent.succeeded naming its charge. */
async function paidPayment(amount: number) {
  const p = await processingPayment(amount);
  const charge = `ch_dsp_${++seq}`;
  await deliver(signed('payment_intent.succeeded', { id: p.pi, object: 'payment_intent', amount, amount_received: amount, currency: 'inr', latest_charge: charge, metadata: { paymentId: p.payment.id } }));
  await until(async () => (await get(`/api/finance/payments/${p.payment.id}`, p.buyer)).body.data.status === 'succeeded', 'the success');
  expect((await line(p.buyer)).posted.amount).toBe(0);
  return { ...p, charge };
}

const dispute = (id: string, p: { pi: string; charge: string }, amount: number, status: string) => ({ id, object: 'dispute', amount, currency: 'inr', charge: p.charge, payment_intent: p.pi, reason: 'fraudulent', status });

describe('Stripe disputes through the signed webhook inbox', () => {
  test('charge.dispute.created freezes the disputed amount once (replays and a re-sent event change nothing), shown to both parties and admins, not to a stranger; closed as won releases it', async () => {
    const p = await paidPayment(10_000);
    const disputeId = `dp_${++seq}`;
    const created = signed('charge.dispute.created', dispute(disputeId, p, 4_000, 'needs_response'));
    expect((await deliver(created)).duplicate).toBe(false);
    await until(async () => (await line(p.buyer)).held.amount === 4_000, 'the freeze');
    expect((await deliver(created)).duplicate).toBe(true);
    // Stripe may also send the same change under a new event id: the dispute's own id keeps it to one effect.
    await deliver(signed('charge.dispute.created', dispute(disputeId, p, 4_000, 'needs_response')));
    await deliver(signed('charge.dispute.updated', dispute(disputeId, p, 4_000, 'under_review')));
    await w.app.ctx.events.drain();
    await new Promise((r) => setTimeout(r, 500));
    expect(await line(p.buyer)).toMatchObject({ held: { amount: 4_000 }, posted: { amount: 0 }, available: { amount: 996_000 } });
    expect((await transfersOf(p.buyer, `stripe:${disputeId}`)).map((t) => t.kind)).toEqual(['dispute']);
    expect(opened.filter((e) => (e as { disputeId: string }).disputeId === `stripe:${disputeId}`)).toHaveLength(1);

    for (const who of [p.buyer, w.vendor, w.admin]) {
      const listed = await get('/api/finance/disputes?limit=100', who);
      expect(listed.status).toBe(200);
      expect(listed.body.data).toContainEqual(expect.objectContaining({ id: `stripe:${disputeId}`, paymentId: p.payment.id, status: 'open', amount: { amount: 4_000, currency: 'INR' } }));
      const view = await get(`/api/finance/payments/${p.payment.id}`, who);
      expect(view.status).toBe(200);
      expect(view.body.data).toMatchObject({ status: 'disputed', disputes: [expect.objectContaining({ id: `stripe:${disputeId}`, status: 'open' })] });
    }
    expect((await get('/api/finance/disputes?limit=100', w.stranger)).body.data).toEqual([]);
    expect((await get(`/api/finance/payments/${p.payment.id}`, w.stranger)).status).toBe(404);

    const won = signed('charge.dispute.closed', dispute(disputeId, p, 4_000, 'won'));
    await deliver(won);
    await until(async () => (await line(p.buyer)).held.amount === 0, 'the release');
    expect((await deliver(won)).duplicate).toBe(true);
    await deliver(signed('charge.dispute.closed', dispute(disputeId, p, 4_000, 'won')));
    await new Promise((r) => setTimeout(r, 500));
    expect(await line(p.buyer)).toMatchObject({ held: { amount: 0 }, posted: { amount: 0 }, available: { amount: 1_000_000 } });
    expect((await transfersOf(p.buyer, `stripe:${disputeId}`)).map((t) => t.kind).sort()).toEqual(['dispute', 'void']);
    const after = (await get(`/api/finance/payments/${p.payment.id}`, p.buyer)).body.data;
    expect(after).toMatchObject({ status: 'succeeded', disputes: [expect.objectContaining({ status: 'won' })] });
  }, 120_000);

  test('charge.dispute.closed as lost takes the amount back: the buyer owes it again, once however often it is replayed', async () => {
    const p = await paidPayment(8_000);
    const disputeId = `dp_${++seq}`;
    await deliver(signed('charge.dispute.created', dispute(disputeId, p, 8_000, 'needs_response')));
    await until(async () => (await line(p.buyer)).held.amount === 8_000, 'the freeze');
    const lost = signed('charge.dispute.closed', dispute(disputeId, p, 8_000, 'lost'));
    await deliver(lost);
    await until(async () => (await line(p.buyer)).posted.amount === 8_000, 'the reversal');
    expect((await deliver(lost)).duplicate).toBe(true);
    await Promise.all([deliver(signed('charge.dispute.closed', dispute(disputeId, p, 8_000, 'lost'))), deliver(signed('charge.dispute.closed', dispute(disputeId, p, 8_000, 'won')))]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await line(p.buyer)).toMatchObject({ held: { amount: 0 }, posted: { amount: 8_000 }, available: { amount: 992_000 } });
    expect((await transfersOf(p.buyer, `stripe:${disputeId}`)).map((t) => t.kind).sort()).toEqual(['dispute', 'reversal']);
    const view = (await get(`/api/finance/payments/${p.payment.id}`, w.vendor)).body.data;
    expect(view).toMatchObject({ status: 'disputed', disputes: [expect.objectContaining({ id: `stripe:${disputeId}`, status: 'lost' })] });
    // The provider took the amount back: it is not refundable a second time.
    const refund = await w.app.api.post(`/api/finance/payments/${p.payment.id}/refunds`).set('Authorization', bearer(w.vendor)).set('Idempotency-Key', `dsp-r-${seq}`).send({ amount: 1 });
    expect(refund.status).toBe(409);
    expect(refund.body.error.code).toBe('REFUND_EXCEEDS_PAYMENT');
  }, 120_000);

  test('two disputes on one payment each freeze their own amount; what stays refundable excludes both', async () => {
    const p = await paidPayment(10_000);
    const [one, two] = [`dp_${++seq}`, `dp_${++seq}`];
    await deliver(signed('charge.dispute.created', dispute(one, p, 3_000, 'needs_response')));
    await deliver(signed('charge.dispute.created', dispute(two, p, 4_000, 'needs_response')));
    await until(async () => (await line(p.buyer)).held.amount === 7_000, 'both freezes');
    await until(async () => (await get(`/api/finance/payments/${p.payment.id}`, p.buyer)).body.data.disputed?.amount === 7_000, 'the payment\'s disputed amount');
    const refund = (amount: number) => w.app.api.post(`/api/finance/payments/${p.payment.id}/refunds`).set('Authorization', bearer(w.vendor)).set('Idempotency-Key', `dsp-r-${++seq}`).send({ amount });
    expect((await refund(3_001)).status).toBe(409);
    expect((await refund(3_000)).status).toBe(201);
    await deliver(signed('charge.dispute.closed', dispute(one, p, 3_000, 'won')));
    await until(async () => (await get(`/api/finance/payments/${p.payment.id}`, p.buyer)).body.data.disputed?.amount === 4_000, 'the release of one');
    expect((await get(`/api/finance/payments/${p.payment.id}`, p.buyer)).body.data).toMatchObject({ status: 'disputed', refunded: { amount: 3_000 } });
  }, 120_000);
});

describe('Stripe cancellations through the signed webhook inbox', () => {
  test('payment_intent.canceled: the payment is cancelled, no transfer is written, payment.failed is not announced, and replays or a late success change nothing', async () => {
    const p = await processingPayment(5_000);
    const canceled = signed('payment_intent.canceled', { id: p.pi, object: 'payment_intent', amount: 5_000, currency: 'inr', status: 'canceled', cancellation_reason: 'abandoned', metadata: { paymentId: p.payment.id } });
    expect((await deliver(canceled)).duplicate).toBe(false);
    await until(async () => (await get(`/api/finance/payments/${p.payment.id}`, p.buyer)).body.data.status === 'cancelled', 'the cancellation');
    expect((await deliver(canceled)).duplicate).toBe(true);
    await deliver(signed('payment_intent.canceled', { id: p.pi, object: 'payment_intent', amount: 5_000, currency: 'inr', status: 'canceled', cancellation_reason: 'abandoned', metadata: { paymentId: p.payment.id } }));
    // A success arriving after the cancellation is not applied.
    await deliver(signed('payment_intent.succeeded', { id: p.pi, object: 'payment_intent', amount: 5_000, amount_received: 5_000, currency: 'inr', latest_charge: `ch_late_${seq}`, metadata: { paymentId: p.payment.id } }));
    await new Promise((r) => setTimeout(r, 800));
    await w.app.ctx.events.drain();
    const view = (await get(`/api/finance/payments/${p.payment.id}`, p.buyer)).body.data;
    expect(view).toMatchObject({ status: 'cancelled', failureReason: 'abandoned' });
    expect(await transfersOf(p.buyer, p.payment.id)).toEqual([]);
    expect(await line(p.buyer)).toMatchObject({ posted: { amount: 5_000 }, held: { amount: 0 } });
    expect(failed.filter((e) => (e as { paymentId: string }).paymentId === p.payment.id)).toEqual([]);
  }, 120_000);
});

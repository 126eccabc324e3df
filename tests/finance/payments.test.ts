import { createHash, createHmac } from 'node:crypto';
import Stripe from 'stripe';
import type { DomainEvents } from '../../src/platform/events';
import { startTestServer } from '../helpers/server';
import { startProviderStub, type ProviderStub } from '../notifications/provider-stub';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { expectLedgerConsistent, PAYU, RAZORPAY, startFinanceWorld, STRIPE_WEBHOOK_SECRET, type FinanceWorld } from './finance-helpers';

let w: FinanceWorld;
let stub: ProviderStub;
let seq = 0;
const events: Array<{ name: string; payload: unknown }> = [];

beforeAll(async () => {
  // Razorpay's and PayU's APIs: a local HTTP stub at the boundary (nock 15 is ESM-only and this Jest setup cannot load it).
  stub = await startProviderStub();
  w = await startFinanceWorld({ env: { RAZORPAY_API_URL: stub.url, PAYU_API_URL: stub.url } });
  for (const name of ['payment.succeeded', 'payment.failed', 'refund.created', 'dispute.opened', 'finance.credit_changed'] as const) {
    w.app.ctx.events.subscribe(name, (payload) => void events.push({ name, payload }));
  }
});
afterAll(async () => {
  await w.app.close();
  await stub.close();
});
afterEach(async () => {
  await w.app.ctx.events.drain();
  await expectLedgerConsistent(w.app);
});

const lineId = (buyerId: string, vendorId: string) => `line:${buyerId}:${vendorId}:INR`;
const key = () => `k-${Date.now()}-${++seq}`;

async function line(id: string) {
  const res = await w.app.api.get(`/api/finance/accounts/${id}`).set('Authorization', bearer(w.admin));
  return res.body.data as { available: { amount: number }; held: { amount: number }; posted: { amount: number } };
}

/** A buyer who owes `amount` on a line with the vendor: a hold posted by a delivered order. */
async function buyerOwing(amount: number): Promise<TestUser> {
  const buyer = await createUser(w.app);
  await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 1_000_000, actorId: w.admin.id });
  const offerId = `offer-${++seq}`;
  await w.finance.creditHolds.hold({ offerId, buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount, currency: 'INR' }, creditDays: 30, actorId: buyer.id });
  w.app.ctx.events.publish('order.status_changed', {
    orderId: `order-${seq}`,
    offerId,
    buyerId: buyer.id,
    vendorId: w.vendor.id,
    total: { amount, currency: 'INR' },
    paymentTerms: { kind: 'credit', creditDays: 30 },
    at: new Date().toISOString(),
    from: 'shipped',
    to: 'delivered',
    actorId: w.vendor.id,
    reason: null,
  });
  for (let i = 0; i < 100 && (await line(lineId(buyer.id, w.vendor.id))).posted.amount !== amount; i += 1) await new Promise((r) => setTimeout(r, 50));
  expect((await line(lineId(buyer.id, w.vendor.id))).posted.amount).toBe(amount);
  return buyer;
}

function pay(buyer: TestUser, body: Record<string, unknown>, idempotencyKey = key()) {
  return w.app.api.post('/api/finance/payments').set('Authorization', bearer(buyer)).set('Idempotency-Key', idempotencyKey).send({ vendorId: w.vendor.id, currency: 'INR', ...body });
}

function stripeEvent(type: string, object: Record<string, unknown>) {
  const id = `evt_${++seq}`;
  return { id: `inbox-${seq}`, provider: 'stripe' as const, eventId: id, type, receivedAt: new Date().toISOString(), attempts: 0, occurredAt: null, payload: { id, object: 'event', type, data: { object } } };
}

async function stripePaid(buyer: TestUser, amount: number) {
  const res = await pay(buyer, { provider: 'stripe' });
  expect(res.status).toBe(201);
  const payment = res.body.data as { id: string; checkout: { paymentIntentId: string } };
  const outcome = await w.finance.webhookHandlers.stripe(
    stripeEvent('payment_intent.succeeded', { id: payment.checkout.paymentIntentId, object: 'payment_intent', amount, amount_received: amount, currency: 'inr', metadata: { paymentId: payment.id } }),
  );
  expect(outcome.outcome).toBe('processed');
  return payment;
}

describe('payments through Stripe (stripe-mock, the real SDK)', () => {
  test('a payment of the outstanding balance: client secret, then the verified webhook applies it once, however often replayed', async () => {
    const buyer = await buyerOwing(25_000);
    const idem = key();
    const first = await pay(buyer, { provider: 'stripe' }, idem);
    expect(first.status).toBe(201);
    expect(first.body.data).toMatchObject({ status: 'processing', amount: { amount: 25_000, currency: 'INR' }, creditLineId: lineId(buyer.id, w.vendor.id) });
    expect(first.body.data.checkout.clientSecret).toMatch(/_secret_/);
    const again = await pay(buyer, { provider: 'stripe' }, idem);
    expect(again.status).toBe(200);
    expect(again.body.data.id).toBe(first.body.data.id);
    expect((await pay(buyer, { provider: 'stripe', amount: 100 }, idem)).status).toBe(409);

    const event = stripeEvent('payment_intent.succeeded', {
      id: first.body.data.checkout.paymentIntentId,
      object: 'payment_intent',
      amount: 25_000,
      amount_received: 25_000,
      currency: 'inr',
      metadata: { paymentId: first.body.data.id },
    });
    const outcomes = await Promise.all([w.finance.webhookHandlers.stripe(event), w.finance.webhookHandlers.stripe(event), w.finance.webhookHandlers.stripe(event)]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['processed', 'processed', 'processed']);
    await w.app.ctx.events.drain();
    expect((await line(lineId(buyer.id, w.vendor.id))).posted.amount).toBe(0);
    const got = await w.app.api.get(`/api/finance/payments/${first.body.data.id}`).set('Authorization', bearer(buyer));
    expect(got.body.data).toMatchObject({ status: 'succeeded', flags: [] });
    expect(events.filter((e) => e.name === 'payment.succeeded' && (e.payload as DomainEvents['payment.succeeded']).paymentId === first.body.data.id)).toHaveLength(1);
    const changed = events.filter((e) => e.name === 'finance.credit_changed' && (e.payload as DomainEvents['finance.credit_changed']).buyerId === buyer.id);
    expect(changed.at(-1)?.payload).toMatchObject({ posted: 0, available: 1_000_000 });
  });

  test('a success whose amount does not match is flagged, not applied', async () => {
    const buyer = await buyerOwing(10_000);
    const res = await pay(buyer, { provider: 'stripe' });
    const outcome = await w.finance.webhookHandlers.stripe(
      stripeEvent('payment_intent.succeeded', { id: res.body.data.checkout.paymentIntentId, amount: 9_000, amount_received: 9_000, currency: 'inr', metadata: { paymentId: res.body.data.id } }),
    );
    expect(outcome).toMatchObject({ outcome: 'processed', note: expect.stringContaining('flagged') });
    const got = await w.app.api.get(`/api/finance/payments/${res.body.data.id}`).set('Authorization', bearer(w.vendor));
    expect(got.body.data.status).toBe('processing');
    expect(got.body.data.flags).toHaveLength(1);
    expect((await line(lineId(buyer.id, w.vendor.id))).posted.amount).toBe(10_000);
  });

  test('a failed payment is failed, changes no balance and announces payment.failed', async () => {
    const buyer = await buyerOwing(5_000);
    const res = await pay(buyer, { provider: 'stripe' });
    await w.finance.webhookHandlers.stripe(
      stripeEvent('payment_intent.payment_failed', { id: res.body.data.checkout.paymentIntentId, metadata: { paymentId: res.body.data.id }, last_payment_error: { message: 'card declined' } }),
    );
    const got = await w.app.api.get(`/api/finance/payments/${res.body.data.id}`).set('Authorization', bearer(buyer));
    expect(got.body.data).toMatchObject({ status: 'failed', failureReason: 'card declined' });
    await w.app.ctx.events.drain();
    expect(events.some((e) => e.name === 'payment.failed' && (e.payload as { paymentId: string }).paymentId === res.body.data.id)).toBe(true);
  });

  test('50 concurrent refunds that together exceed the payment are capped at what was paid', async () => {
    const buyer = await buyerOwing(10_000);
    const payment = await stripePaid(buyer, 10_000);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => w.app.api.post(`/api/finance/payments/${payment.id}/refunds`).set('Authorization', bearer(w.vendor)).set('Idempotency-Key', key()).send({ amount: 3_000 })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 409).map((r) => r.body.error.code)).toEqual(Array(47).fill('REFUND_EXCEEDS_PAYMENT'));
    const got = await w.app.api.get(`/api/finance/payments/${payment.id}`).set('Authorization', bearer(w.vendor));
    expect(got.body.data).toMatchObject({ status: 'refunded', refunded: { amount: 9_000 } });
    expect(got.body.data.refunds).toHaveLength(3);
    expect((await line(lineId(buyer.id, w.vendor.id))).posted.amount).toBe(9_000);
    // The rest, then nothing.
    const rest = await w.app.api.post(`/api/finance/payments/${payment.id}/refunds`).set('Authorization', bearer(w.admin)).set('Idempotency-Key', key()).send({});
    expect(rest.status).toBe(201);
    expect(rest.body.data.amount.amount).toBe(1_000);
    expect((await w.app.api.post(`/api/finance/payments/${payment.id}/refunds`).set('Authorization', bearer(w.vendor)).set('Idempotency-Key', key()).send({ amount: 1 })).status).toBe(409);
  }, 180_000);

  test('refunds: the buyer may not (403), a stranger sees 404, a repeated key returns the first refund', async () => {
    const buyer = await buyerOwing(4_000);
    const payment = await stripePaid(buyer, 4_000);
    expect((await w.app.api.post(`/api/finance/payments/${payment.id}/refunds`).set('Authorization', bearer(buyer)).set('Idempotency-Key', key()).send({ amount: 1 })).status).toBe(403);
    expect((await w.app.api.post(`/api/finance/payments/${payment.id}/refunds`).set('Authorization', bearer(w.stranger)).set('Idempotency-Key', key()).send({ amount: 1 })).status).toBe(404);
    expect((await w.app.api.get(`/api/finance/payments/${payment.id}`).set('Authorization', bearer(w.stranger))).status).toBe(404);
    const k = key();
    const a = await w.app.api.post(`/api/finance/payments/${payment.id}/refunds`).set('Authorization', bearer(w.vendor)).set('Idempotency-Key', k).send({ amount: 1_000 });
    const b = await w.app.api.post(`/api/finance/payments/${payment.id}/refunds`).set('Authorization', bearer(w.vendor)).set('Idempotency-Key', k).send({ amount: 1_000 });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.body.data.id).toBe(a.body.data.id);
    expect((await w.app.api.post(`/api/finance/payments/${payment.id}/refunds`).set('Authorization', bearer(w.vendor)).send({ amount: 1 })).status).toBe(400);
  });

  test('end to end: a Stripe-signed webhook through POST /api/webhooks/stripe settles the payment', async () => {
    const buyer = await buyerOwing(7_000);
    const res = await pay(buyer, { provider: 'stripe' });
    const body = JSON.stringify({
      id: `evt_e2e_${++seq}`,
      object: 'event',
      type: 'payment_intent.succeeded',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: res.body.data.checkout.paymentIntentId, object: 'payment_intent', amount: 7_000, amount_received: 7_000, currency: 'inr', metadata: { paymentId: res.body.data.id } } },
    });
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_WEBHOOK_SECRET });
    const delivered = await w.app.api.post('/api/webhooks/stripe').set('Content-Type', 'application/json').set('Stripe-Signature', signature).send(body);
    expect(delivered.status).toBe(200); // the inbox answers 200 to every accepted delivery
    let status = '';
    for (let i = 0; i < 100 && status !== 'succeeded'; i += 1) {
      status = (await w.app.api.get(`/api/finance/payments/${res.body.data.id}`).set('Authorization', bearer(buyer))).body.data.status;
      if (status !== 'succeeded') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('succeeded');
    expect((await line(lineId(buyer.id, w.vendor.id))).posted.amount).toBe(0);
  });

  test('bad payment inputs: no Idempotency-Key, unknown provider, nothing outstanding', async () => {
    const buyer = await createUser(w.app);
    const noKey = await w.app.api.post('/api/finance/payments').set('Authorization', bearer(buyer)).send({ provider: 'stripe', vendorId: w.vendor.id, currency: 'INR' });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.details[0].field).toBe('idempotency-key');
    expect((await pay(buyer, { provider: 'paypal' })).status).toBe(400);
    expect((await pay(buyer, { provider: 'stripe' })).status).toBe(404); // no line with this vendor
  });
});

describe('payments through Razorpay (a local stub at the HTTP boundary)', () => {
  test('an order, a captured payment, then a dispute that freezes the amount and is lost', async () => {
    const buyer = await buyerOwing(12_000);
    const orderId = `order_rzp${++seq}`;
    stub.reply('POST', '/v1/orders', () => ({ status: 200, body: { id: orderId, entity: 'order', amount: 12_000, currency: 'INR', status: 'created' } }));
    const before = stub.requests.length;
    const res = await pay(buyer, { provider: 'razorpay' });
    expect(res.status).toBe(201);
    expect(res.body.data.checkout).toMatchObject({ orderId, keyId: RAZORPAY.keyId });
    const sent = stub.requests.slice(before).find((r) => r.path === '/v1/orders');
    expect(sent?.body).toMatchObject({ amount: 12_000, currency: 'INR', receipt: res.body.data.id });
    expect(sent?.headers.authorization).toBe(`Basic ${Buffer.from(`${RAZORPAY.keyId}:${RAZORPAY.keySecret}`).toString('base64')}`);

    const captured = { event: 'payment.captured', payload: { payment: { entity: { id: `pay_${seq}`, order_id: orderId, amount: 12_000, currency: 'INR', status: 'captured' } } } };
    const base = { provider: 'razorpay' as const, receivedAt: new Date().toISOString(), attempts: 0, occurredAt: null };
    expect((await w.finance.webhookHandlers.razorpay({ ...base, id: 'i1', eventId: 'e1', type: 'payment.captured', payload: captured })).outcome).toBe('processed');
    expect((await line(lineId(buyer.id, w.vendor.id))).posted.amount).toBe(0);

    const dispute = { id: `disp_${seq}`, amount: 12_000, currency: 'INR', reason_code: 'fraud', status: 'open' };
    const opened = { event: 'payment.dispute.created', payload: { payment: captured.payload.payment, dispute: { entity: dispute } } };
    await w.finance.webhookHandlers.razorpay({ ...base, id: 'i2', eventId: 'e2', type: 'payment.dispute.created', payload: opened });
    await w.finance.webhookHandlers.razorpay({ ...base, id: 'i2', eventId: 'e2', type: 'payment.dispute.created', payload: opened });
    expect(await line(lineId(buyer.id, w.vendor.id))).toMatchObject({ posted: { amount: 0 }, held: { amount: 12_000 } });
    const listed = await w.app.api.get('/api/finance/disputes').set('Authorization', bearer(buyer));
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.data[0]).toMatchObject({ status: 'open', amount: { amount: 12_000 } });
    expect((await w.app.api.get('/api/finance/disputes').set('Authorization', bearer(w.stranger))).body.data).toEqual([]);
    const lost = { event: 'payment.dispute.lost', payload: { payment: captured.payload.payment, dispute: { entity: { ...dispute, status: 'lost' } } } };
    await w.finance.webhookHandlers.razorpay({ ...base, id: 'i3', eventId: 'e3', type: 'payment.dispute.lost', payload: lost });
    expect(await line(lineId(buyer.id, w.vendor.id))).toMatchObject({ posted: { amount: 12_000 }, held: { amount: 0 } });
    await w.app.ctx.events.drain();
    expect(events.filter((e) => e.name === 'dispute.opened')).toHaveLength(1);
  });

  test('end to end: a Razorpay-signed webhook through POST /api/webhooks/razorpay', async () => {
    const buyer = await buyerOwing(3_000);
    const orderId = `order_rzpe2e${++seq}`;
    stub.reply('POST', '/v1/orders', { status: 200, body: { id: orderId, amount: 3_000, currency: 'INR' } });
    const res = await pay(buyer, { provider: 'razorpay' });
    const body = JSON.stringify({ event: 'payment.captured', payload: { payment: { entity: { id: `pay_e2e${seq}`, order_id: orderId, amount: 3_000, currency: 'INR' } } } });
    const signature = createHmac('sha256', RAZORPAY.webhookSecret).update(body).digest('hex');
    const delivered = await w.app.api
      .post('/api/webhooks/razorpay')
      .set({ 'Content-Type': 'application/json', 'X-Razorpay-Signature': signature, 'X-Razorpay-Event-Id': `evt_rzp_${seq}` })
      .send(body);
    expect(delivered.status).toBe(200); // the inbox answers 200 to every accepted delivery
    let status = '';
    for (let i = 0; i < 100 && status !== 'succeeded'; i += 1) {
      status = (await w.app.api.get(`/api/finance/payments/${res.body.data.id}`).set('Authorization', bearer(buyer))).body.data.status;
      if (status !== 'succeeded') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('succeeded');
  });
});

describe('payments through PayU (hash-signed form)', () => {
  test('the form carries PayU\'s request hash; a success callback applies the payment; a refund goes through PayU\'s API', async () => {
    const buyer = await buyerOwing(15_050);
    const res = await pay(buyer, { provider: 'payu' });
    expect(res.status).toBe(201);
    const f = res.body.data.checkout.fields as Record<string, string>;
    expect(f.amount).toBe('150.50');
    const expected = createHash('sha512').update([PAYU.key, f.txnid, f.amount, f.productinfo, f.firstname, f.email, f.udf1, '', '', '', '', '', '', '', '', '', PAYU.salt].join('|')).digest('hex');
    expect(f.hash).toBe(expected);
    const mih = `mih${++seq}`;
    const callback = { status: 'success', txnid: f.txnid as string, mihpayid: mih, amount: '150.50', key: PAYU.key, productinfo: f.productinfo as string };
    const outcome = await w.finance.webhookHandlers.payu({ id: 'p1', provider: 'payu', eventId: `${mih}:success`, type: 'success', receivedAt: new Date().toISOString(), attempts: 0, occurredAt: null, payload: callback } as never);
    expect(outcome.outcome).toBe('processed');
    expect((await line(lineId(buyer.id, w.vendor.id))).posted.amount).toBe(0);
    stub.reply('POST', '/merchant/postservice.php', { status: 200, body: { status: 1, msg: 'Refund Request Queued', request_id: 'req1' } });
    const before = stub.requests.length;
    const refund = await w.app.api.post(`/api/finance/payments/${res.body.data.id}/refunds`).set('Authorization', bearer(w.vendor)).set('Idempotency-Key', key()).send({ amount: 5_000 });
    expect(refund.status).toBe(201);
    const sent = stub.requests.slice(before).find((r) => r.path === '/merchant/postservice.php')?.body as Record<string, string>;
    expect(sent).toMatchObject({ key: PAYU.key, command: 'cancel_refund_transaction', var1: mih, var3: '50.00' });
    expect(sent.hash).toBe(createHash('sha512').update([PAYU.key, 'cancel_refund_transaction', mih, PAYU.salt].join('|')).digest('hex'));
  });
});

describe('PayU end to end', () => {
  test('a callback signed with PayU\'s reverse hash, through POST /api/webhooks/payu, settles the payment', async () => {
    const buyer = await buyerOwing(2_000);
    const res = await pay(buyer, { provider: 'payu' });
    const f = res.body.data.checkout.fields as Record<string, string>;
    const fields: Record<string, string> = { key: PAYU.key, txnid: f.txnid as string, amount: f.amount as string, productinfo: f.productinfo as string, firstname: f.firstname as string, email: f.email as string, udf1: f.udf1 as string, udf2: '', udf3: '', udf4: '', udf5: '', status: 'success', mihpayid: `mihe2e${++seq}` };
    // PayU's published reverse hash, written out here independently of the code under test.
    const reverse = [PAYU.salt, fields.status, '', '', '', '', '', fields.udf5, fields.udf4, fields.udf3, fields.udf2, fields.udf1, fields.email, fields.firstname, fields.productinfo, fields.amount, fields.txnid, fields.key].join('|');
    const body = new URLSearchParams({ ...fields, hash: createHash('sha512').update(reverse).digest('hex') }).toString();
    const delivered = await w.app.api.post('/api/webhooks/payu').set('Content-Type', 'application/x-www-form-urlencoded').send(body);
    expect(delivered.status).toBe(200);
    let status = '';
    for (let i = 0; i < 100 && status !== 'succeeded'; i += 1) {
      status = (await w.app.api.get(`/api/finance/payments/${res.body.data.id}`).set('Authorization', bearer(buyer))).body.data.status;
      if (status !== 'succeeded') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('succeeded');
    expect((await line(lineId(buyer.id, w.vendor.id))).posted.amount).toBe(0);
  });
});

describe('a provider without keys', () => {
  test('is switched off with 503 PROVIDER_UNAVAILABLE', async () => {
    const bare = await startTestServer({ env: { STRIPE_SECRET_KEY: undefined, RAZORPAY_KEY_ID: undefined, PAYU_MERCHANT_KEY: undefined } });
    try {
      const user = await createUser(bare);
      for (const provider of ['stripe', 'razorpay', 'payu']) {
        const res = await bare.api.post('/api/finance/payments').set('Authorization', bearer(user)).set('Idempotency-Key', key()).send({ provider, vendorId: w.vendor.id, currency: 'INR' });
        expect({ provider, status: res.status, code: res.body.error?.code }).toEqual({ provider, status: 503, code: 'PROVIDER_UNAVAILABLE' });
      }
    } finally {
      await bare.close();
    }
  });
});

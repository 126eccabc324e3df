import type { InboxEvent, WebhookProvider } from '../../src/modules/webhooks';
import {
  payuDelivery,
  razorpayDelivery,
  secrets,
  standardDelivery,
  startInbox,
  stripeDelivery,
  twilioDelivery,
  uniqueId,
  until,
  type Inbox,
} from './harness';

describe('webhook verification: every provider on the raw body, stored once, refused otherwise', () => {
  let inbox: Inbox;
  const seen: InboxEvent[] = [];
  const effects = new Map<string, number>();

  beforeAll(async () => {
    // 'ai' always has the inbox's own handler; its port counts here like the others' handlers.
    inbox = await startInbox({
      ai: {
        async applyAiResult(result) {
          const key = `ai:${result.eventId}`;
          effects.set(key, (effects.get(key) ?? 0) + 1);
          return 'processed';
        },
      },
    });
    for (const provider of ['stripe', 'razorpay', 'payu', 'twilio', 'logistics'] as WebhookProvider[]) {
      inbox.module.handlers.register(provider, async (event) => {
        seen.push(event);
        const key = `${event.provider}:${event.eventId}`;
        effects.set(key, (effects.get(key) ?? 0) + 1);
        return { outcome: 'processed' };
      });
    }
  });
  afterAll(() => inbox.close());

  const stored = (provider: string, eventId: string) => inbox.events.countDocuments({ provider, eventId });
  const total = () => inbox.events.countDocuments({});

  async function expectRefused(path: string, delivery: { body: string | Buffer; headers: Record<string, string> }, status: number, code: string) {
    const before = await total();
    const res = await inbox.post(path, delivery.body, { ...delivery.headers, 'X-Request-Id': 'req-refused-1' });
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ code, requestId: 'req-refused-1' });
    expect(await total()).toBe(before);
  }

  async function expectProcessed(provider: string, eventId: string) {
    await until(async () => (effects.get(`${provider}:${eventId}`) ?? 0) > 0, `${provider} ${eventId} processed`);
    await until(async () => (await inbox.events.findOne({ provider, eventId }).lean())?.status === 'processed', 'outcome recorded');
  }

  describe('Stripe (constructEvent)', () => {
    it('stores a validly signed event, answers 200 and hands the handler the verified event object', async () => {
      const id = uniqueId('evt');
      const delivery = stripeDelivery({ id, type: 'payment_intent.succeeded', data: { object: { id: 'pi_1', amount: 1200 } } });
      const res = await inbox.post('/api/webhooks/stripe', delivery.body, delivery.headers);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ id: expect.any(String), duplicate: false });
      await expectProcessed('stripe', id);
      const event = seen.find((e) => e.eventId === id);
      expect(event).toMatchObject({ provider: 'stripe', type: 'payment_intent.succeeded', attempts: 0, id: res.body.data.id });
      expect(event?.payload).toMatchObject({ id, data: { object: { id: 'pi_1', amount: 1200 } } });
    });

    it('refuses a forged signature, a wrong secret, a stale timestamp and a tampered body with 401, storing nothing', async () => {
      const good = stripeDelivery({ id: uniqueId('evt'), type: 'charge.succeeded' });
      await expectRefused('/api/webhooks/stripe', { body: good.body, headers: { ...good.headers, 'Stripe-Signature': `t=${Math.floor(Date.now() / 1000)},v1=${'a'.repeat(64)}` } }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused('/api/webhooks/stripe', stripeDelivery({ id: uniqueId('evt'), type: 'charge.succeeded' }, { secret: 'whsec_someone_else' }), 401, 'WEBHOOK_SIGNATURE_INVALID');
      const stale = stripeDelivery({ id: uniqueId('evt'), type: 'charge.succeeded' }, { timestamp: Math.floor(Date.now() / 1000) - 3_600 });
      await expectRefused('/api/webhooks/stripe', stale, 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused('/api/webhooks/stripe', { body: good.body.replace('charge.succeeded', 'charge.refunded'), headers: good.headers }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused('/api/webhooks/stripe', { body: good.body, headers: { 'Content-Type': 'application/json' } }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      const metrics = await inbox.metricsText();
      expect(metrics).toMatch(/webhook_deliveries_refused_total\{provider="stripe",reason="signature"\} 4/);
      expect(metrics).toMatch(/webhook_deliveries_refused_total\{provider="stripe",reason="stale"\} 1/);
    });

    it('answers a replayed event id 200 without storing or applying it again', async () => {
      const id = uniqueId('evt');
      const first = stripeDelivery({ id, type: 'charge.succeeded' });
      expect((await inbox.post('/api/webhooks/stripe', first.body, first.headers)).status).toBe(200);
      await expectProcessed('stripe', id);
      // Stripe re-signs each retry: a new timestamp, the same event.
      const again = stripeDelivery({ id, type: 'charge.succeeded' }, { timestamp: Math.floor(Date.now() / 1000) - 5 });
      const res = await inbox.post('/api/webhooks/stripe', again.body, again.headers);
      expect(res.status).toBe(200);
      expect(res.body.data.duplicate).toBe(true);
      await inbox.ctx.events.drain();
      expect(await stored('stripe', id)).toBe(1);
      expect(effects.get(`stripe:${id}`)).toBe(1);
    });

    it('refuses a validly signed body that is not JSON (400) and a 2 MB body (413), storing nothing', async () => {
      const body = '{"id": "evt_x", "type": ';
      const signature = (await import('stripe')).default.webhooks.generateTestHeaderString({ payload: body, secret: secrets.stripe });
      await expectRefused('/api/webhooks/stripe', { body, headers: { 'Content-Type': 'application/json', 'Stripe-Signature': signature } }, 400, 'VALIDATION_FAILED');
      const big = JSON.stringify({ id: uniqueId('evt'), type: 'x', pad: 'x'.repeat(2 * 1024 * 1024) });
      const signedBig = (await import('stripe')).default.webhooks.generateTestHeaderString({ payload: big, secret: secrets.stripe });
      await expectRefused('/api/webhooks/stripe', { body: big, headers: { 'Content-Type': 'application/json', 'Stripe-Signature': signedBig } }, 413, 'PAYLOAD_TOO_LARGE');
      // Malformed JSON under a signature-shaped header that does not verify.
      await expectRefused('/api/webhooks/stripe', { body: '{"a":', headers: { 'Content-Type': 'application/json', 'Stripe-Signature': `t=1,v1=${'0'.repeat(64)}` } }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      expect(await inbox.metricsText()).toMatch(/webhook_deliveries_refused_total\{provider="stripe",reason="too_large"\} 1/);
    });
  });

  describe('Razorpay (validateWebhookSignature)', () => {
    const payment = { event: 'payment.captured', payload: { payment: { entity: { id: 'pay_1', amount: 5000, currency: 'INR' } } } };

    it('stores a valid event under X-Razorpay-Event-Id and hands the handler the JSON', async () => {
      const id = uniqueId('rzp');
      const delivery = razorpayDelivery(id, payment);
      expect((await inbox.post('/api/webhooks/razorpay', delivery.body, delivery.headers)).status).toBe(200);
      await expectProcessed('razorpay', id);
      expect(seen.find((e) => e.eventId === id)).toMatchObject({ type: 'payment.captured', payload: payment });
    });

    it('refuses a forged signature, a wrong secret, a tampered body and a missing event id, storing nothing', async () => {
      const good = razorpayDelivery(uniqueId('rzp'), payment);
      await expectRefused('/api/webhooks/razorpay', { body: good.body, headers: { ...good.headers, 'X-Razorpay-Signature': 'f'.repeat(64) } }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused('/api/webhooks/razorpay', razorpayDelivery(uniqueId('rzp'), payment, { secret: 'another-secret' }), 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused('/api/webhooks/razorpay', { body: good.body.replace('5000', '500000'), headers: good.headers }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      const { 'X-Razorpay-Event-Id': _omitted, ...noId } = good.headers;
      await expectRefused('/api/webhooks/razorpay', { body: good.body, headers: noId }, 401, 'WEBHOOK_SIGNATURE_INVALID');
    });

    it('Razorpay signs no timestamp: a stale delivery replayed later with its event id is one effect', async () => {
      const id = uniqueId('rzp');
      const old = razorpayDelivery(id, { ...payment, created_at: Math.floor(Date.now() / 1000) - 86_400 });
      expect((await inbox.post('/api/webhooks/razorpay', old.body, old.headers)).status).toBe(200);
      await expectProcessed('razorpay', id);
      const replay = await inbox.post('/api/webhooks/razorpay', old.body, old.headers);
      expect(replay.status).toBe(200);
      expect(replay.body.data.duplicate).toBe(true);
      await inbox.ctx.events.drain();
      expect(effects.get(`razorpay:${id}`)).toBe(1);
      expect(await stored('razorpay', id)).toBe(1);
    });
  });

  describe('PayU (reverse hash with the salt)', () => {
    const fields = (txnid: string) => ({
      txnid,
      mihpayid: uniqueId('403993715'),
      status: 'success',
      amount: '1250.00',
      productinfo: 'Order 42',
      firstname: 'Asha',
      email: 'asha@example.test',
      udf1: 'order_42',
    });

    it('stores a callback whose hash matches and hands the handler its form fields as strings', async () => {
      const delivery = payuDelivery(fields(uniqueId('txn')));
      const res = await inbox.post('/api/webhooks/payu', delivery.body, delivery.headers);
      expect(res.status).toBe(200);
      const eventId = `${delivery.fields.mihpayid}:success`;
      await expectProcessed('payu', eventId);
      expect(seen.find((e) => e.eventId === eventId)).toMatchObject({ type: 'payment.success', payload: delivery.fields });
    });

    it('refuses a forged hash, a wrong salt, a tampered amount and another merchant key, storing nothing', async () => {
      const good = payuDelivery(fields(uniqueId('txn')));
      await expectRefused('/api/webhooks/payu', { body: good.body.replace(/hash=[0-9a-f]+/, `hash=${'0'.repeat(128)}`), headers: good.headers }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused('/api/webhooks/payu', payuDelivery(fields(uniqueId('txn')), { salt: 'wrongSalt' }), 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused('/api/webhooks/payu', { body: good.body.replace('amount=1250.00', 'amount=1.00'), headers: good.headers }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused('/api/webhooks/payu', payuDelivery({ ...fields(uniqueId('txn')), key: 'otherKey' }), 401, 'WEBHOOK_SIGNATURE_INVALID');
    });

    it('PayU signs no timestamp: an old callback posted again is one effect', async () => {
      const delivery = payuDelivery(fields(uniqueId('txn')));
      const eventId = `${delivery.fields.mihpayid}:success`;
      expect((await inbox.post('/api/webhooks/payu', delivery.body, delivery.headers)).status).toBe(200);
      await expectProcessed('payu', eventId);
      expect((await inbox.post('/api/webhooks/payu', delivery.body, delivery.headers)).status).toBe(200);
      await inbox.ctx.events.drain();
      expect(effects.get(`payu:${eventId}`)).toBe(1);
    });
  });

  describe('Twilio (validateRequest on the public URL)', () => {
    const status = (sid: string, messageStatus: string) => ({ MessageSid: sid, MessageStatus: messageStatus, To: '+919800000000', From: '+15005550006', AccountSid: 'AC123' });

    it('stores a status callback signed for the public URL (query included) and hands the handler the fields', async () => {
      const sid = uniqueId('SM');
      const path = '/api/webhooks/twilio?tenant=main';
      const delivery = twilioDelivery(path, status(sid, 'delivered'));
      expect((await inbox.post(path, delivery.body, delivery.headers)).status).toBe(200);
      await expectProcessed('twilio', `${sid}:delivered`);
      expect(seen.find((e) => e.eventId === `${sid}:delivered`)).toMatchObject({ type: 'message.delivered', payload: status(sid, 'delivered') });
    });

    it('takes each status of one message as its own event', async () => {
      const sid = uniqueId('SM');
      for (const s of ['sent', 'delivered']) {
        const delivery = twilioDelivery('/api/webhooks/twilio', status(sid, s));
        expect((await inbox.post('/api/webhooks/twilio', delivery.body, delivery.headers)).status).toBe(200);
      }
      await expectProcessed('twilio', `${sid}:sent`);
      await expectProcessed('twilio', `${sid}:delivered`);
    });

    it('refuses a forged signature, a wrong token, a tampered field and a signature for another URL, storing nothing', async () => {
      const good = twilioDelivery('/api/webhooks/twilio', status(uniqueId('SM'), 'delivered'));
      await expectRefused('/api/webhooks/twilio', { body: good.body, headers: { ...good.headers, 'X-Twilio-Signature': 'bm90IGEgc2lnbmF0dXJl' } }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused('/api/webhooks/twilio', twilioDelivery('/api/webhooks/twilio', status(uniqueId('SM'), 'delivered'), { authToken: 'other-token' }), 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused('/api/webhooks/twilio', { body: good.body.replace('delivered', 'failed'), headers: good.headers }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      const elsewhere = twilioDelivery('/api/webhooks/twilio?x=1', status(uniqueId('SM'), 'delivered'));
      await expectRefused('/api/webhooks/twilio', elsewhere, 401, 'WEBHOOK_SIGNATURE_INVALID');
    });

    it('Twilio signs no timestamp: a callback posted again is one effect', async () => {
      const sid = uniqueId('SM');
      const delivery = twilioDelivery('/api/webhooks/twilio', status(sid, 'delivered'));
      expect((await inbox.post('/api/webhooks/twilio', delivery.body, delivery.headers)).status).toBe(200);
      await expectProcessed('twilio', `${sid}:delivered`);
      expect((await inbox.post('/api/webhooks/twilio', delivery.body, delivery.headers)).status).toBe(200);
      await inbox.ctx.events.drain();
      expect(effects.get(`twilio:${sid}:delivered`)).toBe(1);
    });
  });

  describe.each([
    ['logistics', secrets.logistics],
    ['ai', secrets.ai],
  ])('%s (Standard Webhooks)', (provider, secret) => {
    const path = `/api/webhooks/${provider}`;
    const payload = {
      type: provider === 'ai' ? 'ai.task.succeeded' : 'shipment.delivered',
      timestamp: new Date().toISOString(),
      data: { n: 1, correlationId: 'c1', task: 'translate_message' },
    };

    it('stores a valid delivery under its webhook-id', async () => {
      const delivery = standardDelivery(payload, { secret });
      expect((await inbox.post(path, delivery.body, delivery.headers)).status).toBe(200);
      await expectProcessed(provider, delivery.id);
      if (provider === 'logistics') expect(seen.find((e) => e.eventId === delivery.id)).toMatchObject({ provider, type: payload.type, payload });
    });

    it('refuses a forged signature, a wrong secret, a stale or future timestamp and a tampered body, storing nothing', async () => {
      const good = standardDelivery(payload, { secret });
      await expectRefused(path, { body: good.body, headers: { ...good.headers, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` } }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused(path, standardDelivery(payload, { secret: `whsec_${Buffer.from('not-the-right-secret-at-all!').toString('base64')}` }), 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused(path, standardDelivery(payload, { secret, timestamp: Math.floor(Date.now() / 1000) - 3_600 }), 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused(path, standardDelivery(payload, { secret, timestamp: Math.floor(Date.now() / 1000) + 3_600 }), 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused(path, { body: good.body.replace('"n":1', '"n":2'), headers: good.headers }, 401, 'WEBHOOK_SIGNATURE_INVALID');
      await expectRefused(path, { body: good.body, headers: { ...good.headers, 'webhook-id': 'msg_other' } }, 401, 'WEBHOOK_SIGNATURE_INVALID');
    });

    it('answers a replayed webhook-id 200, one effect', async () => {
      const delivery = standardDelivery(payload, { secret });
      expect((await inbox.post(path, delivery.body, delivery.headers)).status).toBe(200);
      await expectProcessed(provider, delivery.id);
      const retry = standardDelivery(payload, { secret, id: delivery.id, timestamp: Math.floor(Date.now() / 1000) + 1 });
      expect((await inbox.post(path, retry.body, retry.headers)).status).toBe(200);
      await inbox.ctx.events.drain();
      expect(effects.get(`${provider}:${delivery.id}`)).toBe(1);
    });

    it('refuses a validly signed body that is not JSON with 400', async () => {
      const delivery = standardDelivery(payload, { secret });
      const body = '{"type": "x", ';
      const { createHmac } = await import('node:crypto');
      const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
      const signature = createHmac('sha256', key).update(`${delivery.id}.${delivery.headers['webhook-timestamp']}.${body}`).digest('base64');
      await expectRefused(path, { body, headers: { ...delivery.headers, 'webhook-signature': `v1,${signature}` } }, 400, 'VALIDATION_FAILED');
    });
  });

  it('accepts a logistics delivery signed with a previous secret still listed (rotation without downtime)', async () => {
    const delivery = standardDelivery({ type: 'shipment.in_transit', data: {} }, { secret: secrets.logisticsOld });
    expect((await inbox.post('/api/webhooks/logistics', delivery.body, delivery.headers)).status).toBe(200);
    await expectProcessed('logistics', delivery.id);
  });

  it('refuses bodies that are not UTF-8 or hold NUL bytes with 400, before any verifier', async () => {
    const delivery = stripeDelivery({ id: uniqueId('evt'), type: 'x' });
    await expectRefused('/api/webhooks/stripe', { body: Buffer.from([0xff, 0xfe, 0x7b]), headers: delivery.headers }, 400, 'VALIDATION_FAILED');
    await expectRefused('/api/webhooks/stripe', { body: Buffer.from('{"a":"\u0000"}'), headers: delivery.headers }, 400, 'VALIDATION_FAILED');
  });
});

describe('a provider without its secret', () => {
  it('answers every request to its path 503 PROVIDER_UNAVAILABLE and stores nothing, even a validly signed one', async () => {
    const inbox = await startInbox({ env: { STRIPE_WEBHOOK_SECRET: undefined, LOGISTICS_WEBHOOK_SECRET: undefined, LOGISTICS_WEBHOOK_PREVIOUS_SECRETS: undefined } });
    try {
      const stripe = stripeDelivery({ id: uniqueId('evt'), type: 'charge.succeeded' });
      const res = await inbox.post('/api/webhooks/stripe', stripe.body, stripe.headers);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('PROVIDER_UNAVAILABLE');
      const logistics = standardDelivery({ type: 'shipment.delivered', data: {} });
      expect((await inbox.post('/api/webhooks/logistics', logistics.body, logistics.headers)).status).toBe(503);
      expect(await inbox.events.countDocuments({})).toBe(0);
      expect(await inbox.metricsText()).toMatch(/webhook_deliveries_refused_total\{provider="stripe",reason="unconfigured"\} 1/);
      // The others still work.
      const rzp = razorpayDelivery(uniqueId('rzp'), { event: 'payment.captured' });
      expect((await inbox.post('/api/webhooks/razorpay', rzp.body, rzp.headers)).status).toBe(200);
    } finally {
      await inbox.close();
    }
  });
});

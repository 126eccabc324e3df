import request from 'supertest';
import type { WebhooksModule } from '../../src/modules/webhooks';
import { startTestServer, type TestServer } from '../helpers/server';
import { stripeDelivery, testSecretsEnv, twilioDelivery, uniqueId, until } from './harness';

/** The inbox inside the full server, as the composition root builds it. */
describe('the webhook inbox in the running server', () => {
  let app: TestServer;
  let inbox: WebhooksModule;

  beforeAll(async () => {
    app = await startTestServer({ env: { ...testSecretsEnv, RAZORPAY_WEBHOOK_SECRET: undefined } });
    inbox = app.server.modules.find((m) => m.name === 'webhooks') as WebhooksModule;
  });
  afterAll(() => app.close());

  it('mounts POST /api/webhooks/<provider>, reads the raw body past the app JSON parser, and processes through the server job runner', async () => {
    const id = uniqueId('evt');
    // Whitespace and key order that a parse-and-reserialise would lose: the signature still holds.
    const body = `{ "id": "${id}",\n  "object": "event", "type": "charge.succeeded" }`;
    const { headers } = stripeDelivery({});
    const Stripe = (await import('stripe')).default;
    headers['Stripe-Signature'] = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: testSecretsEnv.STRIPE_WEBHOOK_SECRET as string });
    const res = await request(app.url).post('/api/webhooks/stripe').set(headers).send(body);
    expect(res.status).toBe(200);
    // Finance's Stripe handler (wired by the composition root) decides; the inbox records its answer.
    const inboxId = res.body.data.id as string;
    await until(async () => (await inbox.admin.get(inboxId)).outcome !== 'pending', 'settled');
    const detail = await inbox.admin.get(inboxId);
    expect(['processed', 'ignored']).toContain(detail.outcome);
    expect(detail).toMatchObject({ eventId: id, attempts: 1, payload: { id, type: 'charge.succeeded' } });
  });

  it('verifies Twilio against PUBLIC_BASE_URL, not the address the server sees', async () => {
    const delivery = twilioDelivery('/api/webhooks/twilio', { MessageSid: uniqueId('SM'), MessageStatus: 'sent' });
    const res = await request(app.url).post('/api/webhooks/twilio').set(delivery.headers).send(delivery.body);
    expect(res.status).toBe(200);
  });

  it('refuses an unverified delivery with the envelope and counts it in /metrics', async () => {
    const res = await request(app.url).post('/api/webhooks/stripe').set({ 'Content-Type': 'application/json', 'Stripe-Signature': 't=1,v1=00' }).send('{"id":"evt_forged","type":"x"}');
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID', requestId: expect.any(String) });
    const metrics = await request(app.url).get('/metrics');
    expect(metrics.text).toMatch(/webhook_deliveries_refused_total\{provider="stripe",reason="signature"\} 1/);
  });

  it('answers 503 PROVIDER_UNAVAILABLE for a provider whose secret is not configured', async () => {
    const res = await request(app.url).post('/api/webhooks/razorpay').set('Content-Type', 'application/json').send('{"event":"payment.captured"}');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('PROVIDER_UNAVAILABLE');
  });
});

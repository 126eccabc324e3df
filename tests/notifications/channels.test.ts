import type { DomainEvents } from '../../src/platform/events';
import twilio from 'twilio';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { findMessageTo, mailpitSmtpUrl } from '../helpers/mailpit';
import { startProviderStub, type ProviderStub } from './provider-stub';
import { FCM_SEND, TWILIO, TWILIO_MESSAGES, notificationEnv, notificationsOf, stubFcmToken, twilioMessage, waitForDeliveries } from './helpers';
import type { NotificationsModule } from '../../src/modules/notifications';


// Starting a server with its own databases takes seconds on a loaded machine; no assertion depends on time.
jest.setTimeout(90_000);

describe('notification channels (email through Mailpit, SMS through Twilio, push through FCM)', () => {
  let app: TestServer;
  let stub: ProviderStub;
  let module: NotificationsModule;
  let alice: TestUser;
  const deliveredEvents: DomainEvents['notification.delivered'][] = [];

  beforeAll(async () => {
    stub = await startProviderStub();
    stubFcmToken(stub);
    app = await startTestServer({ env: notificationEnv(mailpitSmtpUrl(), stub.url) });
    module = notificationsOf(app);
    alice = await createUser(app, { name: 'Alice Trader' });
    app.ctx.events.subscribe('notification.delivered', (payload) => void deliveredEvents.push(payload));
    await app.api.patch('/api/auth/me').set('Authorization', bearer(alice)).send({ phone: '+919876543210' }).expect(200);
  });
  afterAll(async () => {
    await app.close();
    await stub.close();
  });

  it('sends an email that Mailpit really receives, with the title as subject and the deep link', async () => {
    const { notification } = await module.notify(alice.id, {
      category: 'offers',
      title: 'Counter-offer on cumin',
      body: 'Your offer was countered at ₹1,250.00.',
      data: { link: '/offers/o-77' },
      channels: ['inApp', 'email'],
    });
    const deliveries = await waitForDeliveries(module, notification!.id, (d) => d.email?.status === 'sent');
    expect(deliveries.email).toMatchObject({ status: 'sent', attempts: 1 });
    const mail = await findMessageTo(alice.email);
    expect(mail.Subject).toBe('Counter-offer on cumin');
    expect(mail.Text).toContain('Hello Alice Trader,');
    expect(mail.Text).toContain('Your offer was countered at ₹1,250.00.');
    expect(mail.Text).toContain('https://app.example.test/offers/o-77');
    expect(mail.HTML).toContain('href="https://app.example.test/offers/o-77"');
  });

  it('sends an SMS through the twilio SDK with the status callback URL, retrying a failing provider until it succeeds', async () => {
    stub.reply('POST', TWILIO_MESSAGES, { status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });
    stub.reply('POST', TWILIO_MESSAGES, (req) => ({ status: 201, body: twilioMessage('SM0000000000000000000000000000000a', String((req.body as Record<string, string>).To)) }));
    const before = stub.requests.length;
    const { notification } = await module.notify(alice.id, { category: 'finance', title: 'Payment received', body: 'Your payment of ₹500.00 succeeded.', channels: ['sms'] });
    const deliveries = await waitForDeliveries(module, notification!.id, (d) => d.sms?.status === 'sent');
    expect(deliveries.sms).toMatchObject({ status: 'sent', attempts: 2, providerId: 'SM0000000000000000000000000000000a' });
    const sent = stub.requests.slice(before).filter((r) => r.path === TWILIO_MESSAGES);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.body).toMatchObject({
      To: '+919876543210',
      From: TWILIO.from,
      Body: 'Payment received: Your payment of ₹500.00 succeeded.',
      StatusCallback: 'https://app.example.test/api/webhooks/twilio',
    });
    expect(sent[1]!.headers.authorization).toBe(`Basic ${Buffer.from(`${TWILIO.sid}:${TWILIO.token}`).toString('base64')}`);

    // Twilio's status callbacks, as the webhook inbox hands them over: delivered, then a late "sent" that changes nothing.
    expect(await module.twilioStatusHandler({ payload: { MessageSid: 'SM0000000000000000000000000000000a', MessageStatus: 'delivered' } })).toMatchObject({ outcome: 'processed' });
    expect(await module.twilioStatusHandler({ payload: { MessageSid: 'SM0000000000000000000000000000000a', MessageStatus: 'sent' } })).toMatchObject({ outcome: 'processed' });
    const after = await waitForDeliveries(module, notification!.id, (d) => d.sms?.status === 'delivered');
    expect(after.sms!.history.map((h) => h.status)).toEqual(['queued', 'sent', 'delivered']);
    // A replayed "delivered" callback moves nothing and announces nothing: one delivery event.
    expect(await module.twilioStatusHandler({ payload: { MessageSid: 'SM0000000000000000000000000000000a', MessageStatus: 'delivered' } })).toMatchObject({ outcome: 'processed' });
    await app.ctx.events.drain();
    expect(deliveredEvents.filter((e) => e.notificationId === notification!.id && e.channel === 'sms')).toHaveLength(1);
    expect(await module.twilioStatusHandler({ payload: { MessageSid: 'SMunknown', MessageStatus: 'delivered' } })).toMatchObject({ outcome: 'ignored' });
    expect(await module.twilioStatusHandler({ payload: { MessageSid: 'SM0000000000000000000000000000000a', MessageStatus: 'sending' } })).toMatchObject({ outcome: 'ignored' });
  });

  it('records a number Twilio refuses (4xx) as failed at once, with the reason, without retrying', async () => {
    stub.reply('POST', TWILIO_MESSAGES, { status: 400, body: { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 } });
    const before = stub.requests.length;
    const { notification } = await module.notify(alice.id, { category: 'finance', title: 'Refund', body: 'b', channels: ['sms'] });
    const deliveries = await waitForDeliveries(module, notification!.id, (d) => d.sms?.status === 'failed');
    expect(deliveries.sms).toMatchObject({ status: 'failed', attempts: 1, reason: 'Twilio refused the message (400, code 21211)' });
    expect(stub.requests.slice(before).filter((r) => r.path === TWILIO_MESSAGES)).toHaveLength(1);
  });

  it("records Twilio's undelivered callback as failed with its error code", async () => {
    stub.reply('POST', TWILIO_MESSAGES, (req) => ({ status: 201, body: twilioMessage('SM0000000000000000000000000000000b', String((req.body as Record<string, string>).To)) }));
    const { notification } = await module.notify(alice.id, { category: 'finance', title: 'Credit', body: 'b', channels: ['sms'] });
    await waitForDeliveries(module, notification!.id, (d) => d.sms?.status === 'sent');
    await module.twilioStatusHandler({ payload: { MessageSid: 'SM0000000000000000000000000000000b', MessageStatus: 'undelivered', ErrorCode: '30003' } });
    const deliveries = await waitForDeliveries(module, notification!.id, (d) => d.sms?.status === 'failed');
    expect(deliveries.sms!.reason).toBe('Twilio: undelivered (error 30003)');
  });

  it('pushes through FCM HTTP v1 to every device and removes a token FCM reports unregistered', async () => {
    const live = `fcm-live-${Date.now()}-0123456789abcdef`;
    const gone = `fcm-gone-${Date.now()}-0123456789abcdef`;
    for (const token of [live, gone]) {
      await app.api.post('/api/notifications/devices').set('Authorization', bearer(alice)).send({ token, platform: 'android' }).expect(201);
    }
    stub.reply(
      'POST',
      FCM_SEND,
      (req) => {
        const token = (req.body as { message: { token: string } }).message.token;
        return token === gone
          ? { status: 404, body: { error: { code: 404, status: 'NOT_FOUND', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }] } } }
          : { status: 200, body: { name: 'projects/trade-test/messages/0:1' } };
      },
      2,
    );
    const before = stub.requests.length;
    const { notification } = await module.notify(alice.id, { category: 'offers', title: 'New offer', body: 'b', data: { link: '/offers/9' }, channels: ['push'] });
    const deliveries = await waitForDeliveries(module, notification!.id, (d) => d.push?.status === 'sent');
    expect(deliveries.push).toMatchObject({ providerId: 'projects/trade-test/messages/0:1', reason: '1 unregistered token(s) removed' });
    const sends = stub.requests.slice(before).filter((r) => r.path === FCM_SEND);
    expect(sends.map((r) => r.headers.authorization)).toEqual(['Bearer ya29.test-token', 'Bearer ya29.test-token']);
    expect(sends[0]!.body).toMatchObject({ message: { notification: { title: 'New offer', body: 'b' }, data: { link: '/offers/9', notificationId: notification!.id, category: 'offers' } } });
    const tokens = (await app.ctx.mongo.collection('notification_devices').find({ userId: alice.id }).toArray()).map((d) => String(d._id));
    expect(tokens).toContain(live);
    expect(tokens).not.toContain(gone);
  });

  it('takes a Twilio status callback end to end through POST /api/webhooks/twilio: valid, forged, replayed', async () => {
    stub.reply('POST', TWILIO_MESSAGES, (req) => ({ status: 201, body: twilioMessage('SM0000000000000000000000000000000c', String((req.body as Record<string, string>).To)) }));
    const { notification } = await module.notify(alice.id, { category: 'finance', title: 'Dispute', body: 'b', channels: ['sms'] });
    await waitForDeliveries(module, notification!.id, (d) => d.sms?.status === 'sent');
    const fields = { MessageSid: 'SM0000000000000000000000000000000c', MessageStatus: 'delivered', AccountSid: TWILIO.sid, To: '+919876543210' };
    const signature = twilio.getExpectedTwilioSignature(TWILIO.token, 'https://api.example.test/api/webhooks/twilio', fields);
    const form = new URLSearchParams(fields).toString();
    const post = (sig: string) => app.api.post('/api/webhooks/twilio').set('Content-Type', 'application/x-www-form-urlencoded').set('X-Twilio-Signature', sig).send(form);

    const forged = await post(twilio.getExpectedTwilioSignature('not-the-token', 'https://api.example.test/api/webhooks/twilio', fields));
    expect(forged.status).toBeGreaterThanOrEqual(400);
    expect(forged.status).toBeLessThan(500);
    expect((await module.admin.deliveries(notification!.id)).find((d) => d.channel === 'sms')!.status).toBe('sent');

    const first = await post(signature);
    expect(first.status).toBe(200);
    expect(first.body.data.duplicate).toBe(false);
    const deliveries = await waitForDeliveries(module, notification!.id, (d) => d.sms?.status === 'delivered');
    expect(deliveries.sms!.history.map((h) => h.status)).toEqual(['queued', 'sent', 'delivered']);

    const replayed = await post(signature);
    expect(replayed.status).toBe(200);
    expect(replayed.body.data.duplicate).toBe(true);
    const again = await module.admin.deliveries(notification!.id);
    expect(again.find((d) => d.channel === 'sms')!.history).toHaveLength(3);
  });
});

import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { testClock, type TestClock } from '../helpers/clock';
import { findMessageTo, mailpitSmtpUrl } from '../helpers/mailpit';
import { startProviderStub, type ProviderStub } from './provider-stub';
import { msUntilNextUtc, notificationEnv, notificationsOf, waitForDeliveries } from './helpers';
import type { NotificationsModule } from '../../src/modules/notifications';
import type { ChatModule } from '../../src/modules/chat';
import { encodeJobId } from '../../src/platform/jobs';
import { openSocket } from '../chat/chat-helpers';
import type { OfferEventPayload } from '../../src/platform/events';

/** Polls until `check` returns a value (background jobs), or fails. */
async function eventually<T>(check: () => Promise<T | null | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}


// Starting a server with its own databases takes seconds on a loaded machine; no assertion depends on time.
jest.setTimeout(90_000);

describe('the notification pipeline on the app clock: quiet hours, bus subscribers, digests', () => {
  let app: TestServer;
  let stub: ProviderStub;
  let clock: TestClock;
  let module: NotificationsModule;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    clock = testClock();
    // 18:00 UTC: 23:30 in Asia/Kolkata.
    clock.advance(msUntilNextUtc(18, 0));
    stub = await startProviderStub();
    app = await startTestServer({ env: notificationEnv(mailpitSmtpUrl(), stub.url), clock });
    module = notificationsOf(app);
    [alice, bob] = await Promise.all([createUser(app, { name: 'Alice' }), createUser(app, { name: 'Bob' })]);
    await app.api
      .patch('/api/notifications/preferences')
      .set('Authorization', bearer(alice))
      .send({ quietHours: { enabled: true, start: '22:00', end: '07:00', timezone: 'Asia/Kolkata' } })
      .expect(200);
  });
  afterAll(async () => {
    await app.close();
    await stub.close();
  });

  const offer = (overrides: Partial<OfferEventPayload> = {}): OfferEventPayload => ({
    offerId: `offer-${Math.random().toString(36).slice(2)}`,
    conversationId: 'c1',
    buyerId: alice.id,
    vendorId: bob.id,
    actorId: bob.id,
    version: 2,
    status: 'countered',
    total: { amount: 125_000, currency: 'INR' },
    at: clock().toISOString(),
    ...overrides,
  });

  it('at 23:30 in Kolkata an email waits until 07:00 local while in-app is delivered at once; a critical one goes now', async () => {
    const normal = await module.notify(alice.id, { category: 'offers', title: 'Quiet counter-offer', body: 'b', channels: ['inApp', 'email'] });
    const critical = await module.notify(alice.id, { category: 'finance', priority: 'critical', title: 'Payment failed now', body: 'b', channels: ['inApp', 'email'] });
    const urgent = await waitForDeliveries(module, critical.notification!.id, (d) => d.email?.status === 'sent');
    expect(urgent.email!.notBefore).toBeNull();
    expect((await findMessageTo(alice.email)).Subject).toBe('Payment failed now');

    const waiting = await waitForDeliveries(module, normal.notification!.id, (d) => d.inApp?.status === 'delivered');
    const expectedEnd = new Date(clock().getTime() + 7.5 * 3_600_000);
    expectedEnd.setUTCSeconds(0, 0);
    expect(waiting.email).toMatchObject({ status: 'delayed', reason: 'quiet hours', notBefore: expectedEnd.toISOString() });
    await module.releaseDue();
    expect((await module.admin.deliveries(normal.notification!.id)).find((d) => d.channel === 'email')!.status).toBe('delayed');

    // A third is read in the app during the night: its email is not sent in the morning.
    const readFirst = await module.notify(alice.id, { category: 'offers', title: 'Read at night', body: 'b', channels: ['inApp', 'email'] });
    await app.api.post(`/api/notifications/${readFirst.notification!.id}/read`).set('Authorization', bearer(alice)).expect(200);

    clock.advance(expectedEnd.getTime() - clock().getTime() + 60_000);
    await module.releaseDue();
    const morning = await waitForDeliveries(module, normal.notification!.id, (d) => d.email?.status === 'sent');
    expect(morning.email!.history.map((h) => h.status)).toEqual(['delayed', 'sent']);
    const skipped = await waitForDeliveries(module, readFirst.notification!.id, (d) => d.email?.status === 'suppressed');
    expect(skipped.email!.reason).toBe('read in the app before the quiet hours ended');
  });

  it('turns offer events on the bus into one notification for the other party, whatever the replays', async () => {
    const payload = offer();
    app.ctx.events.publish('offer.countered', payload);
    app.ctx.events.publish('offer.countered', payload);
    const found = await eventually(
      async () => (await app.ctx.mongo.collection('notifications').find({ userId: alice.id, 'data.offerId': payload.offerId }).toArray()).filter(Boolean).length ? true : null,
      'the counter-offer notification',
    );
    expect(found).toBe(true);
    await app.ctx.events.drain();
    const rows = await app.ctx.mongo.collection('notifications').find({ 'data.offerId': payload.offerId }).toArray();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ userId: alice.id, category: 'offers', title: 'Counter-offer', body: 'Your offer was countered at ₹1,250.00.' });
  });

  it('notifies security events critically to the account owner', async () => {
    app.ctx.events.publish('password.changed', { userId: bob.id, at: clock().toISOString() });
    const row = await eventually(() => app.ctx.mongo.collection('notifications').findOne({ userId: bob.id, title: 'Password changed' }), 'password notice');
    expect(row.priority).toBe('critical');
  });

  it('a chat message to an offline member notifies them and opens a digest: one email after the delay', async () => {
    const conv = await app.api.post('/api/chat/conversations').set('Authorization', bearer(bob)).send({ type: 'direct', participantIds: [alice.id] });
    const conversationId = conv.body.data.id as string;
    for (const n of [1, 2]) {
      await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(bob)).send({ clientMessageId: `m-${n}-${Date.now()}`, type: 'text', text: `hi ${n}` }).expect(201);
    }
    await eventually(async () => ((await app.ctx.mongo.collection('notifications').countDocuments({ userId: alice.id, category: 'chat' })) === 2 ? true : null), 'two chat notifications');
    expect(await app.ctx.mongo.collection('notifications').countDocuments({ userId: bob.id, category: 'chat' })).toBe(0);
    const digest = await eventually(() => app.ctx.mongo.collection('notification_digests').findOne({ userId: alice.id }), 'an open digest');

    await module.releaseDue();
    expect(await app.ctx.mongo.collection('notification_digests').countDocuments({ userId: alice.id })).toBe(1);
    clock.advance(digest.dueAt.getTime() - clock().getTime() + 1_000);
    await module.releaseDue();
    const outcome = await eventually(() => app.ctx.mongo.collection('notification_digest_outcomes').findOne({ userId: alice.id, outcome: 'sent' }), 'digest sent');
    expect(outcome.unread).toBe(2);
    const mail = await eventually(async () => {
      const m = await findMessageTo(alice.email);
      return m.Subject === 'You have 2 unread messages' ? m : null;
    }, 'the digest email');
    expect(mail.Text).toContain('https://app.example.test/chats');
  });

  it('a chat message to members who have the app open enqueues no chat job and notifies nobody; one to an offline member does', async () => {
    const chat = app.server.modules.find((m) => m.name === 'chat') as ChatModule;
    const carol = await createUser(app, { name: 'Carol' });
    const conv = await app.api.post('/api/chat/conversations').set('Authorization', bearer(bob)).send({ type: 'direct', participantIds: [carol.id] }).expect(201);
    const conversationId = conv.body.data.id as string;
    const jobExists = async (messageId: string) =>
      (await app.ctx.redis!.exists(`${app.ctx.config.redis.keyPrefix}bull:notifications.chat:${encodeJobId(`message:${messageId}`)}`)) === 1;
    const send = async (text: string) =>
      (await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(bob)).send({ clientMessageId: `${text.replace(/ /g, '-')}-${Date.now()}`, type: 'text', text }).expect(201)).body.data.id as string;

    const socket = await openSocket(app.url, carol);
    try {
      await eventually(async () => ((await chat.isOnline(carol.id)) ? true : null), 'carol online');
      const seen = await send('while online');
      await app.ctx.events.drain();
      expect(await jobExists(seen)).toBe(false);
    } finally {
      socket.close();
    }
    await eventually(async () => ((await chat.isOnline(carol.id)) ? null : true), 'carol offline');
    const missed = await send('while offline');
    await eventually(async () => ((await jobExists(missed)) ? true : null), 'the chat job');
    const rows = await eventually(async () => {
      const found = await app.ctx.mongo.collection('notifications').find({ userId: carol.id, category: 'chat' }).toArray();
      return found.length ? found : null;
    }, 'the chat notification');
    expect(rows.map((n) => n.data.messageId)).toEqual([missed]);
  });

  it('a digest is cancelled when the messages are read first', async () => {
    const conv = await app.api.post('/api/chat/conversations').set('Authorization', bearer(bob)).send({ type: 'direct', participantIds: [alice.id] });
    const conversationId = conv.body.data.id as string;
    await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(bob)).send({ clientMessageId: `m-cancel-${Date.now()}`, type: 'text', text: 'later' }).expect(201);
    const digest = await eventually(() => app.ctx.mongo.collection('notification_digests').findOne({ userId: alice.id }), 'a new open digest');
    await app.api.post('/api/notifications/read-all').set('Authorization', bearer(alice)).send({ category: 'chat' }).expect(200);
    clock.advance(digest.dueAt.getTime() - clock().getTime() + 1_000);
    await module.releaseDue();
    const outcome = await eventually(
      () => app.ctx.mongo.collection('notification_digest_outcomes').findOne({ userId: alice.id, _id: `${alice.id}:chat:${digest.startedAt.getTime()}` as never }),
      'digest decided',
    );
    expect(outcome).toMatchObject({ outcome: 'cancelled', unread: 0 });
  });
});

import request from 'supertest';
import { createEventBus, type DomainEvents } from '../../src/platform/events';
import { createLogger } from '../../src/platform/logger';
import { createMetrics, type Metrics } from '../../src/platform/metrics';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser } from '../helpers/users';

const silent = createLogger({ level: 'error', json: false, silent: true });

const failures = async (metrics: Metrics, event: string) =>
  (await metrics.domainEventHandlerFailures.get()).values.find((v) => v.labels.event === event)?.value ?? 0;

const registered = (userId: string): DomainEvents['user.registered'] => ({ userId, role: 'user', at: new Date().toISOString() });

describe('the domain event bus', () => {
  it('delivers to every subscriber of the event, after the publisher has returned', async () => {
    const bus = createEventBus({ logger: silent });
    const seen: string[] = [];
    bus.subscribe('user.registered', (payload, meta) => void seen.push(`a:${payload.userId}:${meta.name}`));
    bus.subscribe('user.registered', async (payload) => void seen.push(`b:${payload.userId}`));
    bus.subscribe('message.sent', () => void seen.push('wrong event'));
    bus.publish('user.registered', registered('u1'));
    expect(seen).toEqual([]);
    await bus.drain();
    expect(seen.sort()).toEqual(['a:u1:user.registered', 'b:u1']);
  });

  it('keeps a throwing or rejecting subscriber from failing the publisher or the other subscribers, and counts it', async () => {
    const metrics = createMetrics();
    const bus = createEventBus({ logger: silent, metrics });
    const delivered: string[] = [];
    bus.subscribe('payment.succeeded', () => {
      throw new Error('notifications are down');
    });
    bus.subscribe('payment.succeeded', async () => Promise.reject(new Error('analytics are down')));
    bus.subscribe('payment.succeeded', (payload) => void delivered.push(payload.paymentId));
    expect(() =>
      bus.publish('payment.succeeded', {
        paymentId: 'pay_1',
        userId: 'u1',
        vendorId: 'v1',
        orderId: null,
        provider: 'razorpay',
        amount: { amount: 125_000, currency: 'INR' },
        at: new Date().toISOString(),
      }),
    ).not.toThrow();
    await bus.drain();
    expect(delivered).toEqual(['pay_1']);
    expect(await failures(metrics, 'payment.succeeded')).toBe(2);
    metrics.stop();
  });

  it('stops delivering to a subscriber that unsubscribed', async () => {
    const bus = createEventBus({ logger: silent });
    let calls = 0;
    const unsubscribe = bus.subscribe('offer.accepted', () => void (calls += 1));
    const offer = {
      offerId: 'o1',
      orderId: 'r1',
      conversationId: 'c1',
      buyerId: 'b',
      vendorId: 'v',
      actorId: 'b',
      version: 2,
      status: 'accepted',
      total: { amount: 116_000_00, currency: 'INR' },
      at: new Date().toISOString(),
    };
    bus.publish('offer.accepted', offer);
    await bus.drain();
    unsubscribe();
    bus.publish('offer.accepted', offer);
    await bus.drain();
    expect(calls).toBe(1);
  });
});

describe('domain events published by the modules', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app.close());

  it('announces user.registered, and a failing subscriber neither fails registration nor goes unseen in /metrics', async () => {
    const events: DomainEvents['user.registered'][] = [];
    const off = [
      app.ctx.events.subscribe('user.registered', (payload) => void events.push(payload)),
      app.ctx.events.subscribe('user.registered', () => {
        throw new Error('welcome mail service is down');
      }),
    ];
    try {
      const user = await createUser(app);
      await app.ctx.events.drain();
      expect(events).toEqual([{ userId: user.id, role: 'user', at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/) }]);
      const metrics = await request(app.url).get('/metrics').expect(200);
      expect(metrics.text).toMatch(/domain_event_handler_failures_total\{event="user.registered"\} 1/);
    } finally {
      for (const unsubscribe of off) unsubscribe();
    }
  });

  it('announces message.sent once per stored message, not for a retried send', async () => {
    const sent: DomainEvents['message.sent'][] = [];
    const off = app.ctx.events.subscribe('message.sent', (payload) => void sent.push(payload));
    try {
      const [alice, bob] = await Promise.all([createUser(app), createUser(app)]);
      const conversation = await app.api
        .post('/api/chat/conversations')
        .set('Authorization', bearer(alice))
        .send({ type: 'direct', participantIds: [bob.id] });
      expect(conversation.status).toBeLessThan(300);
      const conversationId = conversation.body.data.id as string;
      const body = { clientMessageId: 'c-1', text: 'hello' };
      const first = await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send(body);
      expect(first.status).toBeLessThan(300);
      await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send(body);
      await app.ctx.events.drain();
      expect(sent).toEqual([
        { messageId: first.body.data.id, conversationId, senderId: alice.id, seq: 1, type: 'text', at: first.body.data.createdAt },
      ]);
    } finally {
      off();
    }
  });
});

import { Types } from 'mongoose';
import type { InboxEvent } from '../../src/modules/webhooks';
import { testClock } from '../helpers/clock';
import { payuDelivery, razorpayDelivery, standardDelivery, startInbox, stripeDelivery, uniqueId, until, type Inbox } from './harness';

describe('webhook processing: a durable job with retries, outcomes recorded, replayable', () => {
  let inbox: Inbox;
  const clock = testClock();
  // Stripe: behaviour chosen per event id by the test.
  const plans = new Map<string, { failTimes: number; calls: number; effects: number }>();

  beforeAll(async () => {
    inbox = await startInbox({
      clock,
      env: { WEBHOOK_PENDING_DEADLINE_MS: '60000', WEBHOOK_RECONCILE_EVERY_MS: '200' },
      // 200 requests at once still race on the unique insert through 8 store connections, without
      // taking most of the shared FerretDB's 50 PostgreSQL connections (docs/architecture.md).
      platformEnv: { MONGODB_POOL_SIZE: '8' },
    });
    inbox.module.handlers.register('stripe', async (event: InboxEvent) => {
      const plan = plans.get(event.eventId);
      if (!plan) return { outcome: 'ignored', note: 'not planned' };
      plan.calls += 1;
      if (plan.calls <= plan.failTimes) throw new Error(`gateway timeout #${plan.calls}`);
      // Idempotent on the provider's id, as every handler must be: a second success has no second effect.
      if (plan.effects === 0) plan.effects = 1;
      return { outcome: 'processed', note: `effect applied for ${event.eventId}` };
    });
  });
  afterAll(() => inbox.close());

  const find = (eventId: string) => inbox.events.findOne({ eventId }).lean();

  async function deliver(failTimes: number) {
    const id = uniqueId('evt');
    plans.set(id, { failTimes, calls: 0, effects: 0 });
    const delivery = stripeDelivery({ id, type: 'payment_intent.succeeded' });
    const res = await inbox.post('/api/webhooks/stripe', delivery.body, delivery.headers);
    expect(res.status).toBe(200);
    return { eventId: id, inboxId: res.body.data.id as string };
  }

  it('a handler that fails twice then succeeds ends processed after three attempts, each recorded', async () => {
    const { eventId, inboxId } = await deliver(2);
    await until(async () => (await find(eventId))?.status === 'processed', 'processed');
    const detail = await inbox.module.admin.get(inboxId);
    expect(detail).toMatchObject({ outcome: 'processed', attempts: 3, note: `effect applied for ${eventId}` });
    expect(detail.attemptLog.map((a) => [a.by, a.result])).toEqual([
      ['job', 'error'],
      ['job', 'error'],
      ['job', 'processed'],
    ]);
    expect(detail.attemptLog[0]?.note).toBe('gateway timeout #1');
    expect(plans.get(eventId)).toMatchObject({ calls: 3, effects: 1 });
    expect(inbox.published.find((p) => p.inboxEventId === inboxId)).toBeUndefined();
  });

  it('a handler that always fails ends failed with every attempt recorded and webhook.failed published', async () => {
    const { eventId, inboxId } = await deliver(1_000);
    await until(async () => (await find(eventId))?.status === 'failed', 'failed');
    const detail = await inbox.module.admin.get(inboxId);
    // WEBHOOK_JOB_ATTEMPTS=4 in the harness.
    expect(detail).toMatchObject({ outcome: 'failed', attempts: 4, note: 'gateway timeout #4', settledAt: expect.any(String) });
    expect(detail.attemptLog).toHaveLength(4);
    expect(detail.attemptLog.every((a) => a.result === 'error')).toBe(true);
    await until(() => inbox.published.some((p) => p.inboxEventId === inboxId), 'webhook.failed');
    expect(inbox.published.filter((p) => p.inboxEventId === inboxId)).toEqual([
      { inboxEventId: inboxId, provider: 'stripe', type: 'payment_intent.succeeded', attempts: 4, reason: 'gateway timeout #4', at: expect.any(String) },
    ]);
    expect(await inbox.metricsText()).toMatch(/webhook_events_settled_total\{provider="stripe",outcome="failed"\} 1/);
  });

  it('a replay of a processed event runs the idempotent handler again and changes nothing else', async () => {
    const { eventId, inboxId } = await deliver(0);
    await until(async () => (await find(eventId))?.status === 'processed', 'processed');
    const replayed = await inbox.module.admin.replay(inboxId);
    expect(replayed).toMatchObject({ outcome: 'processed', attempts: 2 });
    expect(replayed.attemptLog.map((a) => a.by)).toEqual(['job', 'replay']);
    expect(plans.get(eventId)).toMatchObject({ calls: 2, effects: 1 });
    expect(await inbox.events.countDocuments({ eventId })).toBe(1);
  });

  it('a replay of a failed event whose cause is fixed processes it', async () => {
    const { eventId, inboxId } = await deliver(4);
    await until(async () => (await find(eventId))?.status === 'failed', 'failed');
    const replayed = await inbox.module.admin.replay(inboxId);
    expect(replayed).toMatchObject({ outcome: 'processed', attempts: 5 });
  });

  it('an event for a provider without a handler is stored and ignored with a note; a replay after one registers processes it', async () => {
    const delivery = razorpayDelivery(uniqueId('rzp'), { event: 'payment.captured' });
    const res = await inbox.post('/api/webhooks/razorpay', delivery.body, delivery.headers);
    expect(res.status).toBe(200);
    const id = res.body.data.id as string;
    await until(async () => (await inbox.module.admin.get(id)).outcome === 'ignored', 'ignored');
    expect((await inbox.module.admin.get(id)).note).toMatch(/No handler is registered for razorpay/);
    const calls: string[] = [];
    inbox.module.handlers.register('razorpay', async (event) => {
      calls.push(event.eventId);
      return { outcome: 'processed' };
    });
    expect(() => inbox.module.handlers.register('razorpay', async () => ({ outcome: 'processed' }))).toThrow(/already registered/);
    expect(await inbox.module.admin.replay(id)).toMatchObject({ outcome: 'processed', attempts: 2, note: null });
    expect(calls).toHaveLength(1);
  });

  it('a handler registered for some event types leaves the others stored and ignored, with a note', async () => {
    const handled: string[] = [];
    inbox.module.handlers.register(
      'payu',
      async (event) => {
        handled.push(event.type);
        return { outcome: 'processed' };
      },
      { types: ['payment.success'] },
    );
    const base = { amount: '10.00', productinfo: 'p', firstname: 'f', email: 'e@x.test' };
    const ok = payuDelivery({ ...base, txnid: uniqueId('txn'), mihpayid: uniqueId('m'), status: 'success' });
    const other = payuDelivery({ ...base, txnid: uniqueId('txn'), mihpayid: uniqueId('m'), status: 'pending' });
    const okId = (await inbox.post('/api/webhooks/payu', ok.body, ok.headers)).body.data.id as string;
    const otherId = (await inbox.post('/api/webhooks/payu', other.body, other.headers)).body.data.id as string;
    await until(async () => (await inbox.module.admin.get(otherId)).outcome === 'ignored', 'ignored');
    await until(async () => (await inbox.module.admin.get(okId)).outcome === 'processed', 'processed');
    expect((await inbox.module.admin.get(otherId)).note).toBe('No handler takes payment.pending events from payu');
    expect(handled).toEqual(['payment.success']);
  });

  it('an event stored but whose job was lost is found by the reconciliation past its deadline and processed', async () => {
    const eventId = uniqueId('evt');
    plans.set(eventId, { failTimes: 0, calls: 0, effects: 0 });
    // As if the process died between the insert and the enqueue.
    const body = JSON.stringify({ id: eventId, object: 'event', type: 'charge.succeeded' });
    await inbox.events.create({
      provider: 'stripe',
      eventId,
      dedupeKey: `stripe:${eventId}`,
      type: 'charge.succeeded',
      receivedAt: clock(),
      verification: 'stripe',
      headers: {},
      body,
      status: 'pending',
      attempts: 0,
      attemptLog: [],
    });
    // Not yet past the deadline: the reconciliation leaves it alone.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await find(eventId))?.status).toBe('pending');
    clock.advance(61_000);
    await until(async () => (await find(eventId))?.status === 'processed', 'processed by reconciliation');
    expect(plans.get(eventId)).toMatchObject({ calls: 1, effects: 1 });
  });

  it('concurrent replays of one event are serialised: every run is recorded, none lost', async () => {
    const { eventId, inboxId } = await deliver(0);
    await until(async () => (await find(eventId))?.status === 'processed', 'processed');
    await Promise.all(Array.from({ length: 6 }, () => inbox.module.admin.replay(inboxId)));
    const detail = await inbox.module.admin.get(inboxId);
    expect(detail).toMatchObject({ outcome: 'processed', attempts: 7 });
    expect(detail.attemptLog).toHaveLength(7);
    expect(plans.get(eventId)).toMatchObject({ calls: 7, effects: 1 });
  });

  it('200 concurrent deliveries of one event store it once and apply it once', async () => {
    const eventId = uniqueId('evt');
    plans.set(eventId, { failTimes: 0, calls: 0, effects: 0 });
    const delivery = stripeDelivery({ id: eventId, type: 'payment_intent.succeeded' });
    const answers = await Promise.all(Array.from({ length: 200 }, () => inbox.post('/api/webhooks/stripe', delivery.body, delivery.headers)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(answers.filter((a) => a.body.data.duplicate === false)).toHaveLength(1);
    const ids = new Set(answers.map((a) => a.body.data.id as string));
    expect(ids.size).toBe(1);
    await until(async () => (await find(eventId))?.status === 'processed', 'processed');
    await inbox.ctx.events.drain();
    expect(await inbox.events.countDocuments({ eventId })).toBe(1);
    expect(plans.get(eventId)).toMatchObject({ calls: 1, effects: 1 });
  }, 60_000);
});

describe('the admin contract: list with filters and cursor pages, get, replay', () => {
  let inbox: Inbox;
  beforeAll(async () => {
    inbox = await startInbox();
    inbox.module.handlers.register('logistics', async (event) =>
      (event.payload as { type: string }).type === 'shipment.bad' ? Promise.reject(new Error('nope')) : { outcome: 'processed' },
    );
  });
  afterAll(() => inbox.close());

  it('pages newest first through every event and filters by provider, type, outcome and date', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const d = standardDelivery({ type: 'shipment.updated', data: { i } });
      ids.push((await inbox.post('/api/webhooks/logistics', d.body, d.headers)).body.data.id);
    }
    const other = stripeDelivery({ id: uniqueId('evt'), type: 'charge.succeeded' });
    ids.push((await inbox.post('/api/webhooks/stripe', other.body, other.headers)).body.data.id);
    await until(async () => (await inbox.events.countDocuments({ status: 'pending' })) === 0, 'all settled');

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await inbox.module.admin.list({ limit: 2, cursor });
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((e) => e.id));
      cursor = page.page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const logistics = await inbox.module.admin.list({ provider: 'logistics' });
    expect(logistics.data.map((e) => e.id)).toEqual(ids.slice(0, 5).reverse());
    expect((await inbox.module.admin.list({ type: 'charge.succeeded' })).data.map((e) => e.id)).toEqual([ids[5]]);
    // Stripe has no handler here: ignored; logistics processed.
    expect((await inbox.module.admin.list({ outcome: 'ignored' })).data.map((e) => e.id)).toEqual([ids[5]]);
    expect((await inbox.module.admin.list({ outcome: 'processed' })).data).toHaveLength(5);
    expect((await inbox.module.admin.list({ to: '2000-01-01T00:00:00.000Z' })).data).toEqual([]);
    expect((await inbox.module.admin.list({ from: new Date(Date.now() - 60_000).toISOString() })).data).toHaveLength(6);
  });

  it('gets one event with its payload, headers that matter and attempts; never a signature', async () => {
    const d = standardDelivery({ type: 'shipment.updated', data: { orderId: 'o1' } });
    const id = (await inbox.post('/api/webhooks/logistics', d.body, d.headers)).body.data.id as string;
    await until(async () => (await inbox.module.admin.get(id)).outcome === 'processed', 'processed');
    const detail = await inbox.module.admin.get(id);
    expect(detail).toMatchObject({
      id,
      provider: 'logistics',
      eventId: d.id,
      verification: 'standard-webhooks',
      payload: { type: 'shipment.updated', data: { orderId: 'o1' } },
      headers: { 'webhook-id': d.id, 'content-type': 'application/json' },
      attempts: 1,
      attemptLog: [{ by: 'job', result: 'processed', note: null, at: expect.any(String), durationMs: expect.any(Number) }],
    });
    expect(JSON.stringify(detail)).not.toContain(d.headers['webhook-signature']);
  });

  it('answers NOT_FOUND for an unknown or malformed id, and VALIDATION_FAILED for a bad cursor or date', async () => {
    await expect(inbox.module.admin.get(new Types.ObjectId().toHexString())).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    await expect(inbox.module.admin.get('not-an-id')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(inbox.module.admin.replay(new Types.ObjectId().toHexString())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(inbox.module.admin.list({ cursor: 'garbage' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(inbox.module.admin.list({ from: 'yesterday' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('without Redis (the in-process job mode)', () => {
  it('stores, processes and retries the same way', async () => {
    const inbox = await startInbox({ platformEnv: { REDIS_URL: undefined } });
    try {
      expect(inbox.ctx.jobs.mode).toBe('in-process');
      let calls = 0;
      inbox.module.handlers.register('stripe', async () => {
        calls += 1;
        if (calls === 1) throw new Error('first run fails');
        return { outcome: 'processed' };
      });
      const delivery = stripeDelivery({ id: uniqueId('evt'), type: 'charge.succeeded' });
      const res = await inbox.post('/api/webhooks/stripe', delivery.body, delivery.headers);
      expect(res.status).toBe(200);
      await until(async () => (await inbox.module.admin.get(res.body.data.id)).outcome === 'processed', 'processed');
      expect((await inbox.module.admin.get(res.body.data.id)).attempts).toBe(2);
    } finally {
      await inbox.close();
    }
  });
});

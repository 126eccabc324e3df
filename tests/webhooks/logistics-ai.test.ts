import type { AiTaskResult, AiTasksPort, ShipmentUpdate, ShipmentsPort } from '../../src/modules/webhooks';
import { secrets, standardDelivery, startInbox, uniqueId, until, type Inbox } from './harness';

/**
 * A small stand-in for the offers module's side of the port, with the rule the contract asks of
 * it: the timeline is ordered by the carrier's time, and the order's state only moves forward.
 */
function inTestShipments(): ShipmentsPort & { timelines: Map<string, ShipmentUpdate[]>; state: Map<string, string>; fail: Set<string> } {
  const rank = { in_transit: 1, out_for_delivery: 2, delivered: 3, exception: 0 } as const;
  const timelines = new Map<string, ShipmentUpdate[]>();
  const state = new Map<string, string>();
  const fail = new Set<string>();
  return {
    timelines,
    state,
    fail,
    async applyShipmentUpdate(update) {
      if (fail.has(update.orderId)) throw new Error('offers is unavailable');
      if (update.orderId.startsWith('unknown')) return 'ignored';
      const timeline = timelines.get(update.orderId) ?? [];
      if (timeline.some((u) => u.eventId === update.eventId)) return 'processed';
      timeline.push(update);
      timeline.sort((a, b) => a.at.localeCompare(b.at));
      timelines.set(update.orderId, timeline);
      const latest = timeline[timeline.length - 1] as ShipmentUpdate;
      const current = state.get(update.orderId);
      const next = latest.status === 'exception' ? 'exception' : latest.status;
      if (!current || next === 'exception' || rank[next] > rank[current as keyof typeof rank]) state.set(update.orderId, next);
      return 'processed';
    },
  };
}

function carrierEvent(orderId: string, status: string, occurredAt: string, extra: Record<string, unknown> = {}) {
  return standardDelivery({
    type: `shipment.${status}`,
    timestamp: new Date().toISOString(),
    data: { orderId, carrier: 'bluedart', trackingNumber: 'BD123456', status, location: 'Pune hub', occurredAt, ...extra },
  });
}

describe('logistics: carrier events normalised and handed to the offers port', () => {
  let inbox: Inbox;
  const shipments = inTestShipments();
  beforeAll(async () => {
    inbox = await startInbox({ shipments });
  });
  afterAll(() => inbox.close());

  const settled = async (id: string) => {
    await until(async () => (await inbox.module.admin.get(id)).outcome !== 'pending', 'settled');
    return inbox.module.admin.get(id);
  };
  const post = async (d: ReturnType<typeof carrierEvent>) => {
    const res = await inbox.post('/api/webhooks/logistics', d.body, d.headers);
    expect(res.status).toBe(200);
    return res.body.data.id as string;
  };

  it('normalises a carrier event to { orderId, status, carrier, trackingNumber, at } with the carrier time', async () => {
    const orderId = uniqueId('order');
    const d = carrierEvent(orderId, 'picked_up', '2026-11-30T08:00:00+05:30');
    const id = await post(d);
    expect(await settled(id)).toMatchObject({ outcome: 'processed' });
    expect(shipments.timelines.get(orderId)).toEqual([
      {
        orderId,
        status: 'in_transit',
        carrierStatus: 'picked_up',
        carrier: 'bluedart',
        trackingNumber: 'BD123456',
        location: 'Pune hub',
        at: '2026-11-30T02:30:00.000Z',
        eventId: d.id,
      },
    ]);
  });

  it('maps every carrier status, failed and returned to exception', async () => {
    const orderId = uniqueId('order');
    const statuses = ['created', 'picked_up', 'in_transit', 'out_for_delivery', 'delivered', 'failed', 'returned'];
    for (const [i, status] of statuses.entries()) await settled(await post(carrierEvent(orderId, status, `2026-11-30T0${i}:00:00Z`)));
    expect(shipments.timelines.get(orderId)?.map((u) => [u.carrierStatus, u.status])).toEqual([
      ['created', 'in_transit'],
      ['picked_up', 'in_transit'],
      ['in_transit', 'in_transit'],
      ['out_for_delivery', 'out_for_delivery'],
      ['delivered', 'delivered'],
      ['failed', 'exception'],
      ['returned', 'exception'],
    ]);
  });

  it('out-of-order deliveries end in the right state: the carrier time orders the timeline, never arrival', async () => {
    const orderId = uniqueId('order');
    // Arrive: delivered, then in_transit, then out_for_delivery.
    await settled(await post(carrierEvent(orderId, 'delivered', '2026-11-30T12:00:00Z')));
    await settled(await post(carrierEvent(orderId, 'in_transit', '2026-11-30T06:00:00Z')));
    await settled(await post(carrierEvent(orderId, 'out_for_delivery', '2026-11-30T09:00:00Z')));
    expect(shipments.timelines.get(orderId)?.map((u) => u.status)).toEqual(['in_transit', 'out_for_delivery', 'delivered']);
    expect(shipments.state.get(orderId)).toBe('delivered');
  });

  it('a body that is not a shipment update is stored and ignored with the reason, never handed to the port', async () => {
    const orderId = uniqueId('order');
    const id = await post(carrierEvent(orderId, 'teleported', '2026-11-30T12:00:00Z'));
    expect(await settled(id)).toMatchObject({ outcome: 'ignored', note: expect.stringMatching(/^Not a shipment update: status must be one of/) });
    const noTime = await post(carrierEvent(orderId, 'delivered', 'soon'));
    expect(await settled(noTime)).toMatchObject({ outcome: 'ignored', note: expect.stringMatching(/occurredAt/) });
    expect(shipments.timelines.has(orderId)).toBe(false);
  });

  it('an order the port does not take is ignored with a note; a port that throws is retried', async () => {
    const ignored = await post(carrierEvent(uniqueId('unknown'), 'delivered', '2026-11-30T12:00:00Z'));
    expect(await settled(ignored)).toMatchObject({ outcome: 'ignored', note: 'The order did not take this update' });
    const orderId = uniqueId('order');
    shipments.fail.add(orderId);
    const id = await post(carrierEvent(orderId, 'delivered', '2026-11-30T12:00:00Z'));
    await until(async () => (await inbox.module.admin.get(id)).attempts >= 2, 'retried');
    shipments.fail.delete(orderId);
    expect(await settled(id)).toMatchObject({ outcome: 'processed' });
    expect(shipments.state.get(orderId)).toBe('delivered');
  });
});

describe('AI callbacks: matched to the task by correlation id through the AI port', () => {
  let inbox: Inbox;
  const tasks = new Map<string, { status: 'running' | 'done'; result?: AiTaskResult }>();
  const ai: AiTasksPort = {
    async applyAiResult(result) {
      const task = tasks.get(result.correlationId);
      if (!task || task.status !== 'running') return 'ignored';
      tasks.set(result.correlationId, { status: 'done', result });
      return 'processed';
    },
  };
  beforeAll(async () => {
    inbox = await startInbox({ ai });
  });
  afterAll(() => inbox.close());

  const callback = (type: string, data: Record<string, unknown>) => standardDelivery({ type, timestamp: '2026-11-30T10:00:00Z', data }, { secret: secrets.ai });
  async function post(d: ReturnType<typeof callback>) {
    const res = await inbox.post('/api/webhooks/ai', d.body, d.headers);
    expect(res.status).toBe(200);
    const id = res.body.data.id as string;
    await until(async () => (await inbox.module.admin.get(id)).outcome !== 'pending', 'settled');
    return inbox.module.admin.get(id);
  }

  it('applies a result to its running task, and ignores (recorded) one for an unknown or finished task', async () => {
    const correlationId = uniqueId('corr');
    tasks.set(correlationId, { status: 'running' });
    const d = callback('ai.task.succeeded', { correlationId, task: 'translate_message', output: { text: 'Namaste' } });
    expect(await post(d)).toMatchObject({ outcome: 'processed' });
    expect(tasks.get(correlationId)?.result).toEqual({
      correlationId,
      task: 'translate_message',
      status: 'succeeded',
      output: { text: 'Namaste' },
      error: null,
      at: '2026-11-30T10:00:00.000Z',
      eventId: d.id,
    });
    // The same task again (a new delivery id): finished, so ignored and recorded.
    expect(await post(callback('ai.task.succeeded', { correlationId, task: 'translate_message', output: {} }))).toMatchObject({
      outcome: 'ignored',
      note: 'No running task has this correlation id',
    });
    expect(await post(callback('ai.task.failed', { correlationId: uniqueId('corr'), task: 'extract_catalogue', error: 'unreadable' }))).toMatchObject({ outcome: 'ignored' });
    expect(await post(callback('ai.task.exploded', { correlationId, task: 'x' }))).toMatchObject({ outcome: 'ignored', note: expect.stringMatching(/^Not an AI task result/) });
  });
});

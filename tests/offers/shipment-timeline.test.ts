import type { OffersModule } from '../../src/modules/offers';
import type { WebhooksModule } from '../../src/modules/webhooks';
import { SHIPMENT_TIMELINE_MAX } from '../../src/modules/offers/orders.model';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { standardDelivery, testSecretsEnv, until } from '../webhooks/harness';
import { OFFERS_TEST_ENV, act, createOffer, cuminOffer, parties, type Parties } from './offers-helpers';

/** Carrier events through the real inbox (signed Standard Webhooks) into the order's shipment timeline. */
describe("an order's shipment timeline", () => {
  let app: TestServer;
  let p: Parties;
  let inbox: WebhooksModule;
  let offers: OffersModule;
  beforeAll(async () => {
    app = await startTestServer({ env: { ...OFFERS_TEST_ENV, ...testSecretsEnv } });
    p = await parties(app);
    inbox = app.server.modules.find((m) => m.name === 'webhooks') as WebhooksModule;
    offers = app.server.modules.find((m) => m.name === 'offers') as OffersModule;
  }, 120_000);
  afterAll(() => app.close());

  async function confirmedOrder(): Promise<string> {
    const offer = await createOffer(app, p.vendor, cuminOffer(p, { payment: { kind: 'prepaid' } }));
    const orderId = (await act(app, p.buyer, offer.id, 'accept', { version: 1 }).expect(200)).body.data.orderId as string;
    await app.api.post(`/api/offers/orders/${orderId}/confirm`).set('Authorization', bearer(p.vendor)).send({ version: 1 }).expect(200);
    return orderId;
  }

  /** Posts one signed carrier event and waits until the inbox has settled it; answers the inbox's outcome. */
  async function deliver(orderId: string, status: string, occurredAt: string, location: string, options: { id?: string; eventId?: string } = {}) {
    const d = standardDelivery(
      {
        type: `shipment.${status}`,
        timestamp: new Date().toISOString(),
        data: { orderId, carrier: 'Delhivery', trackingNumber: 'DL-778', status, location, occurredAt, ...(options.eventId ? { eventId: options.eventId } : {}) },
      },
      { id: options.id },
    );
    const res = await app.api.post('/api/webhooks/logistics').set(d.headers).send(d.body);
    expect(res.status).toBe(200);
    const id = res.body.data.id as string;
    // Generous: the inbox's job runs on a shared, busy machine; the wait ends as soon as it settles.
    await until(async () => (await inbox.admin.get(id)).outcome !== 'pending', 'settled', 60_000);
    return { id, outcome: (await inbox.admin.get(id)).outcome };
  }

  const read = (user: TestUser, orderId: string) => app.api.get(`/api/offers/orders/${orderId}`).set('Authorization', bearer(user));

  it('five events delivered out of order: the timeline is in carrier-time order, the status delivered, the summary from the latest', async () => {
    const orderId = await confirmedOrder();
    const events: Array<[string, string, string]> = [
      ['created', '2026-11-28T06:00:00.000Z', 'Surat'],
      ['picked_up', '2026-11-28T10:00:00.000Z', 'Surat'],
      ['in_transit', '2026-11-29T03:00:00.000Z', 'Nashik hub'],
      ['out_for_delivery', '2026-11-30T05:00:00.000Z', 'Pune'],
      ['delivered', '2026-11-30T09:30:00.000Z', 'Pune'],
    ];
    // Arrival order: delivered first, the label creation last.
    for (const index of [4, 2, 0, 3, 1]) {
      const [status, at, location] = events[index] as [string, string, string];
      expect((await deliver(orderId, status, at, location)).outcome).toBe('processed');
    }
    const res = await read(p.buyer, orderId).expect(200);
    expect(res.body.data.status).toBe('delivered');
    expect(res.body.data.shipment).toMatchObject({ carrier: 'Delhivery', trackingNumber: 'DL-778', lastStatus: 'delivered', lastUpdateAt: '2026-11-30T09:30:00.000Z', lastLocation: 'Pune' });
    expect(res.body.data.shipment.timeline.map((e: { status: string; at: string; location: string }) => [e.status, e.at, e.location])).toEqual(events);
    // The first arrival (delivered) moved the order once; the late ones added to the timeline without moving it back.
    expect(res.body.data.history.map((h: { to: string; source: string }) => [h.to, h.source])).toEqual([
      ['placed', 'party'],
      ['confirmed', 'party'],
      ['delivered', 'logistics'],
    ]);
    // Lists stay small: the summary without the timeline.
    const list = await app.api.get('/api/offers/orders').set('Authorization', bearer(p.buyer)).expect(200);
    const listed = list.body.data.find((o: { id: string }) => o.id === orderId);
    expect(listed.shipment).toMatchObject({ lastStatus: 'delivered' });
    expect(listed.shipment.timeline).toBeUndefined();
  }, 180_000);

  it('a duplicate event (a replay, or the carrier re-sending its event id under a new delivery) is one timeline entry', async () => {
    const orderId = await confirmedOrder();
    const first = await deliver(orderId, 'in_transit', '2026-11-29T03:00:00.000Z', 'Nashik hub', { eventId: 'dl-evt-1' });
    expect(first.outcome).toBe('processed');
    const resent = await deliver(orderId, 'in_transit', '2026-11-29T03:00:00.000Z', 'Nashik hub', { eventId: 'dl-evt-1' });
    expect(resent.outcome).toBe('ignored');
    const replayed = await inbox.admin.replay(first.id);
    expect(replayed.attemptLog.at(-1)).toMatchObject({ by: 'replay', result: 'ignored' });
    const res = await read(p.vendor, orderId).expect(200);
    expect(res.body.data.shipment.timeline).toEqual([
      { status: 'in_transit', carrier: 'Delhivery', trackingNumber: 'DL-778', location: 'Nashik hub', at: '2026-11-29T03:00:00.000Z', receivedAt: expect.any(String) },
    ]);
    expect(res.body.data).toMatchObject({ status: 'shipped', version: 3 });
  }, 180_000);

  it('both parties see the timeline; a stranger gets 404', async () => {
    const orderId = await confirmedOrder();
    await deliver(orderId, 'picked_up', '2026-11-28T10:00:00.000Z', 'Surat');
    const buyer = await read(p.buyer, orderId).expect(200);
    const vendor = await read(p.vendor, orderId).expect(200);
    expect(buyer.body.data.shipment.timeline).toHaveLength(1);
    expect(vendor.body.data.shipment).toEqual(buyer.body.data.shipment);
    const stranger = await read(p.stranger, orderId);
    expect(stranger.status).toBe(404);
    expect(stranger.body.error.code).toBe('NOT_FOUND');
  }, 180_000);

  it('keeps the latest events by carrier time when a carrier sends more than the bound', async () => {
    const orderId = await confirmedOrder();
    const base = Date.parse('2026-11-01T00:00:00.000Z');
    const at = (i: number) => new Date(base + i * 60_000).toISOString();
    for (let i = 1; i <= SHIPMENT_TIMELINE_MAX; i += 1) {
      await offers.applyShipmentUpdate({ orderId, status: 'in_transit', carrierStatus: 'in_transit', carrier: 'Delhivery', trackingNumber: 'DL-778', at: at(i), location: null, eventId: `scan-${i}` });
    }
    // Older than every kept event: nothing to keep. Newer: the oldest one makes room.
    expect(await offers.applyShipmentUpdate({ orderId, status: 'in_transit', carrier: 'Delhivery', trackingNumber: 'DL-778', at: at(0), eventId: 'scan-0' })).toBe('ignored');
    expect(await offers.applyShipmentUpdate({ orderId, status: 'in_transit', carrier: 'Delhivery', trackingNumber: 'DL-778', at: at(101), eventId: 'scan-101' })).toBe('processed');
    const timeline = (await read(p.buyer, orderId).expect(200)).body.data.shipment.timeline as Array<{ at: string }>;
    expect(timeline).toHaveLength(SHIPMENT_TIMELINE_MAX);
    expect([timeline[0]?.at, timeline.at(-1)?.at]).toEqual([at(2), at(101)]);
  }, 120_000);

  it('five different events arriving at once are all kept (no lost update), in carrier-time order', async () => {
    const orderId = await confirmedOrder();
    const statuses = ['created', 'picked_up', 'in_transit', 'out_for_delivery', 'delivered'] as const;
    const normalised = { created: 'in_transit', picked_up: 'in_transit', in_transit: 'in_transit', out_for_delivery: 'out_for_delivery', delivered: 'delivered' } as const;
    const at = (i: number) => new Date(Date.parse('2026-11-28T06:00:00.000Z') + i * 3_600_000).toISOString();
    const results = await Promise.all(
      [3, 0, 4, 1, 2].map((i) => {
        const status = statuses[i] as (typeof statuses)[number];
        return offers.applyShipmentUpdate({ orderId, status: normalised[status], carrierStatus: status, carrier: 'Delhivery', trackingNumber: 'DL-778', at: at(i), location: null, eventId: `burst-${i}` });
      }),
    );
    expect(results).toEqual(['processed', 'processed', 'processed', 'processed', 'processed']);
    const res = await read(p.vendor, orderId).expect(200);
    expect(res.body.data.shipment.timeline.map((e: { status: string }) => e.status)).toEqual([...statuses]);
    expect(res.body.data).toMatchObject({ status: 'delivered', version: 7, shipment: { lastStatus: 'delivered', lastUpdateAt: at(4) } });
  }, 180_000);

  it('concurrent copies of one event store it once and move the order once', async () => {
    const orderId = await confirmedOrder();
    const update = { orderId, status: 'out_for_delivery' as const, carrierStatus: 'out_for_delivery', carrier: 'Delhivery', trackingNumber: 'DL-778', at: '2026-11-30T05:00:00.000Z', location: 'Pune', eventId: 'dl-ofd' };
    const results = await Promise.all(Array.from({ length: 8 }, () => offers.applyShipmentUpdate(update)));
    expect(results.filter((r) => r === 'processed')).toHaveLength(1);
    const res = await read(p.buyer, orderId).expect(200);
    expect(res.body.data).toMatchObject({ status: 'shipped', version: 3 });
    expect(res.body.data.shipment.timeline).toHaveLength(1);
  }, 180_000);
});

import { Types } from 'mongoose';
import type { OffersModule } from '../../src/modules/offers';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { OFFERS_TEST_ENV, act, createOffer, cuminOffer, parties, type Parties } from './offers-helpers';

const prepaid = { payment: { kind: 'prepaid' } };

describe('orders', () => {
  let app: TestServer;
  let p: Parties;
  let offers: OffersModule;
  const changes: Array<{ orderId: string; from: string; to: string; actorId: string | null }> = [];
  beforeAll(async () => {
    app = await startTestServer({ env: OFFERS_TEST_ENV });
    p = await parties(app);
    offers = app.server.modules.find((m) => m.name === 'offers') as OffersModule;
    app.ctx.events.subscribe('order.status_changed', (e) => void changes.push({ orderId: e.orderId, from: e.from, to: e.to, actorId: e.actorId }));
  });
  afterAll(() => app.close());

  async function newOrder(): Promise<string> {
    const offer = await createOffer(app, p.vendor, cuminOffer(p, prepaid));
    const accepted = await act(app, p.buyer, offer.id, 'accept', { version: 1 }).expect(200);
    return accepted.body.data.orderId as string;
  }
  const step = (user: TestUser, orderId: string, name: string, body: Record<string, unknown>) =>
    app.api.post(`/api/offers/orders/${orderId}/${name}`).set('Authorization', bearer(user)).send(body);

  it('placed → confirmed → shipped → delivered → completed, each by the right party, with its history', async () => {
    const orderId = await newOrder();
    const wrong = await step(p.buyer, orderId, 'confirm', { version: 1 });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error).toMatchObject({ code: 'ORDER_WRONG_PARTY', current: { id: orderId, status: 'placed' } });
    expect((await step(p.vendor, orderId, 'confirm', { version: 1 })).body.data).toMatchObject({ status: 'confirmed', version: 2 });
    const shipped = await step(p.vendor, orderId, 'ship', { version: 2, carrier: 'BlueDart', trackingNumber: 'BD123' });
    expect(shipped.body.data).toMatchObject({ status: 'shipped', shipment: { carrier: 'BlueDart', trackingNumber: 'BD123' } });
    const late = await step(p.buyer, orderId, 'cancel', { version: 3, reason: 'Changed my mind' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('ORDER_INVALID_TRANSITION');
    expect((await step(p.buyer, orderId, 'deliver', { version: 3 })).body.error.code).toBe('ORDER_WRONG_PARTY');
    await step(p.vendor, orderId, 'deliver', { version: 3 }).expect(200);
    expect((await step(p.vendor, orderId, 'complete', { version: 4 })).body.error.code).toBe('ORDER_WRONG_PARTY');
    const done = await step(p.buyer, orderId, 'complete', { version: 4 }).expect(200);
    expect(done.body.data.history.map((h: { from: string | null; to: string; actorId: string }) => [h.from, h.to, h.actorId])).toEqual([
      [null, 'placed', p.buyer.id],
      ['placed', 'confirmed', p.vendor.id],
      ['confirmed', 'shipped', p.vendor.id],
      ['shipped', 'delivered', p.vendor.id],
      ['delivered', 'completed', p.buyer.id],
    ]);
    await app.ctx.events.drain();
    expect(changes.filter((c) => c.orderId === orderId).map((c) => c.to)).toEqual(['confirmed', 'shipped', 'delivered', 'completed']);
  });

  it('either party cancels before shipping, with a reason; a stale version is 409 with the current order', async () => {
    const orderId = await newOrder();
    expect((await step(p.buyer, orderId, 'cancel', { version: 1 })).status).toBe(400);
    await step(p.vendor, orderId, 'confirm', { version: 1 }).expect(200);
    const stale = await step(p.buyer, orderId, 'cancel', { version: 1, reason: 'Too slow' });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'CONFLICT', current: { status: 'confirmed', version: 2 } });
    const cancelled = await step(p.buyer, orderId, 'cancel', { version: 2, reason: 'Too slow' }).expect(200);
    expect(cancelled.body.data).toMatchObject({ status: 'cancelled', cancelReason: 'Too slow' });
    expect((await step(p.vendor, orderId, 'ship', { version: 3 })).body.error.code).toBe('ORDER_INVALID_TRANSITION');
  });

  it('a confirm racing a cancel leaves exactly one winner', async () => {
    for (let i = 0; i < 4; i += 1) {
      const orderId = await newOrder();
      const [confirm, cancel] = await Promise.all([step(p.vendor, orderId, 'confirm', { version: 1 }), step(p.buyer, orderId, 'cancel', { version: 1, reason: 'race' })]);
      expect([confirm.status, cancel.status].sort()).toEqual([200, 409]);
      const read = await app.api.get(`/api/offers/orders/${orderId}`).set('Authorization', bearer(p.buyer)).expect(200);
      expect(read.body.data.version).toBe(2);
      expect(read.body.data.history).toHaveLength(2);
    }
  }, 120_000);

  it('carrier updates move an order forward only, idempotently and out of order', async () => {
    const orderId = await newOrder();
    await step(p.vendor, orderId, 'confirm', { version: 1 }).expect(200);
    const update = (status: 'in_transit' | 'out_for_delivery' | 'delivered' | 'exception', at: string) =>
      offers.applyShipmentUpdate({ orderId, status, carrier: 'Delhivery', trackingNumber: 'DL9', at });
    expect(await update('delivered', '2026-11-30T12:00:00.000Z')).toBe('processed');
    // Arriving late, the earlier in-transit event joins the timeline but does not move the order back;
    // a repeat changes nothing; an exception is recorded and moves nothing.
    expect(await update('in_transit', '2026-11-29T08:00:00.000Z')).toBe('processed');
    expect(await update('delivered', '2026-11-30T12:00:00.000Z')).toBe('ignored');
    expect(await update('exception', '2026-11-30T13:00:00.000Z')).toBe('processed');
    const read = await app.api.get(`/api/offers/orders/${orderId}`).set('Authorization', bearer(p.vendor)).expect(200);
    expect(read.body.data).toMatchObject({ status: 'delivered', version: 5, shipment: { carrier: 'Delhivery', trackingNumber: 'DL9', lastStatus: 'exception' } });
    expect(read.body.data.shipment.timeline.map((e: { status: string }) => e.status)).toEqual(['in_transit', 'delivered', 'exception']);
    expect(read.body.data.history).toHaveLength(3);
    expect(read.body.data.history[2]).toMatchObject({ from: 'confirmed', to: 'delivered', actorId: null, source: 'logistics', at: '2026-11-30T12:00:00.000Z' });
    expect(await offers.applyShipmentUpdate({ orderId: new Types.ObjectId().toHexString(), status: 'in_transit', carrier: 'x', trackingNumber: null, at: '2026-11-30T12:00:00.000Z' })).toBe('ignored');

    const concurrent = await newOrder();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => offers.applyShipmentUpdate({ orderId: concurrent, status: 'in_transit', carrier: 'x', trackingNumber: 'T', at: '2026-11-30T12:00:00.000Z' })),
    );
    expect(results.filter((r) => r === 'processed')).toHaveLength(1);
  });

  it('lists mine by role and status; the directory answers parties only; an admin may cancel a shipped order', async () => {
    const orderId = await newOrder();
    const mine = await app.api.get('/api/offers/orders?role=vendor&status=placed').set('Authorization', bearer(p.vendor)).expect(200);
    expect(mine.body.data.map((o: { id: string }) => o.id)).toContain(orderId);
    expect((await app.api.get('/api/offers/orders?role=buyer').set('Authorization', bearer(p.vendor)).expect(200)).body.data).toEqual([]);
    expect((await app.api.get('/api/offers/orders').set('Authorization', bearer(p.stranger)).expect(200)).body.data).toEqual([]);
    expect(await offers.orders.getOrderForParty(orderId, p.stranger.id)).toBeNull();
    expect(await offers.orders.getOrderForParty(orderId, p.buyer.id)).toMatchObject({ id: orderId });
    expect(await offers.orders.getOrder(orderId)).toMatchObject({ id: orderId, status: 'placed' });
    await step(p.vendor, orderId, 'confirm', { version: 1 }).expect(200);
    await step(p.vendor, orderId, 'ship', { version: 2 }).expect(200);
    const cancelled = await offers.admin.cancelOrder(orderId, p.stranger.id, 'Fraud review');
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelReason: 'Fraud review' });
    expect(cancelled.history[3]).toMatchObject({ source: 'admin', actorId: p.stranger.id });
    const listed = await offers.admin.listOrders({ status: 'cancelled', vendorId: p.vendor.id });
    expect(listed.data.map((o) => o.id)).toContain(orderId);
    const offersListed = await offers.admin.listOffers({ status: 'accepted', buyerId: p.buyer.id, limit: 100 });
    expect(offersListed.data.some((o) => o.orderId === orderId)).toBe(true);
  });
});

import { testClock, type TestClock } from '../helpers/clock';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer } from '../helpers/users';
import { nextEvent, openSocket } from '../chat/chat-helpers';
import { OFFERS_TEST_ENV, act, createOffer, cuminOffer, parties, type Parties } from './offers-helpers';

const HOUR = 3_600_000;
const prepaid = { payment: { kind: 'prepaid' } };
const inHours = (clock: TestClock, hours: number) => new Date(clock().getTime() + hours * HOUR).toISOString();

describe('offer expiry', () => {
  let app: TestServer;
  let clock: TestClock;
  let p: Parties;
  const expired: string[] = [];
  beforeAll(async () => {
    clock = testClock();
    app = await startTestServer({ env: { ...OFFERS_TEST_ENV, OFFER_EXPIRY_SWEEP_MS: '200' }, clock });
    p = await parties(app);
    app.ctx.events.subscribe('offer.expired', (payload) => void expired.push(payload.offerId));
  });
  afterAll(() => app.close());

  it('the schedule marks an offer expired soon after expiresAt and tells both parties', async () => {
    const [buyerSocket, vendorSocket] = await Promise.all([openSocket(app.url, p.buyer), openSocket(app.url, p.vendor)]);
    try {
      const offer = await createOffer(app, p.vendor, cuminOffer(p, { ...prepaid, expiresAt: inHours(clock, 1) }));
      const isExpired = (o: { id: string; status: string }) => o.id === offer.id && o.status === 'expired';
      const told = Promise.all([nextEvent(buyerSocket, 'offer:updated', isExpired, 10_000), nextEvent(vendorSocket, 'offer:updated', isExpired, 10_000)]);
      clock.advance(HOUR + 1_000);
      const [forBuyer] = await told;
      expect(forBuyer).toMatchObject({ status: 'expired', turn: null, version: 2 });
      const stored = await app.ctx.mongo.collection('offers').findOne({ _id: new (await import('mongoose')).Types.ObjectId(offer.id) });
      expect(stored).toMatchObject({ status: 'expired', live: false, version: 2 });
      await app.ctx.events.drain();
      expect(expired.filter((id) => id === offer.id)).toHaveLength(1);
    } finally {
      buyerSocket.disconnect();
      vendorSocket.disconnect();
    }
  });

  it('is checked on read: an offer past expiresAt reads as expired, and accepts nothing', async () => {
    const offer = await createOffer(app, p.vendor, cuminOffer(p, { ...prepaid, expiresAt: inHours(clock, 2) }));
    clock.advance(2 * HOUR + 1_000);
    const read = await app.api.get(`/api/offers/${offer.id}`).set('Authorization', bearer(p.buyer)).expect(200);
    expect(read.body.data).toMatchObject({ status: 'expired', turn: null });
    for (const action of ['accept', 'counter', 'reject']) {
      const res = await act(app, p.buyer, offer.id, action, { version: read.body.data.version, items: [{ name: 'x', quantity: 1, unit: 'kg', unitPrice: 1 }] });
      expect([action, res.status, res.body.error.code]).toEqual([action, 409, 'OFFER_EXPIRED']);
      expect(res.body.error.current).toMatchObject({ id: offer.id, status: 'expired' });
    }
    expect(await app.ctx.mongo.collection('offer_orders').countDocuments({ offerId: offer.id })).toBe(0);
  });

  it('is checked on every action before the sweep has run, and never moves backwards', async () => {
    const offer = await createOffer(app, p.vendor, cuminOffer(p, { ...prepaid, expiresAt: inHours(clock, 3) }));
    clock.advance(3 * HOUR + 1_000);
    // Straight to an action: the offer is past its expiry whether or not the sweep got there.
    const res = await act(app, p.buyer, offer.id, 'accept', { version: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('OFFER_EXPIRED');
    // Back before the expiry: the stored expiry stands.
    clock.advance(-2 * HOUR);
    const read = await app.api.get(`/api/offers/${offer.id}`).set('Authorization', bearer(p.buyer)).expect(200);
    expect(read.body.data.status).toBe('expired');
    expect((await act(app, p.buyer, offer.id, 'accept', { version: read.body.data.version })).body.error.code).toBe('OFFER_EXPIRED');
    clock.advance(2 * HOUR);
  });

  it('a counter may set a new expiry within the maximum, and the offer lives until then', async () => {
    const offer = await createOffer(app, p.vendor, cuminOffer(p, { ...prepaid, expiresAt: inHours(clock, 1) }));
    const later = inHours(clock, 5);
    const countered = await act(app, p.buyer, offer.id, 'counter', { version: 1, items: [{ name: 'Cumin seeds', quantity: 500, unit: 'kg', unitPrice: 23_000 }], expiresAt: later });
    expect(countered.status).toBe(200);
    expect(countered.body.data.expiresAt).toBe(later);
    expect(countered.body.data.rounds[1].diff).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'expiresAt', to: later })]));
    clock.advance(2 * HOUR);
    const accepted = await act(app, p.vendor, offer.id, 'accept', { version: 2 });
    expect(accepted.status).toBe(200);
    expect(accepted.body.data.status).toBe('accepted');
  });
});

import { testClock, type TestClock } from '../helpers/clock';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { directConversation } from '../chat/chat-helpers';
import { OFFERS_TEST_ENV, act, createOffer } from './offers-helpers';

const HOUR = 3_600_000;

describe('offer analytics, checked against a known set of offers', () => {
  let app: TestServer;
  let clock: TestClock;
  let vendor: TestUser;
  let buyer1: TestUser;
  let buyer2: TestUser;
  beforeAll(async () => {
    clock = testClock();
    app = await startTestServer({ env: OFFERS_TEST_ENV, clock });
    [vendor, buyer1, buyer2] = await Promise.all([createUser(app, { role: 'vendor' }), createUser(app), createUser(app)]);
    const c1 = await directConversation(app, vendor, buyer1);
    const c2 = await directConversation(app, vendor, buyer2);
    const body = (conversationId: string, buyer: TestUser, quantity: number, unitPrice: number, extra: Record<string, unknown> = {}) => ({
      conversationId, buyerId: buyer.id, vendorId: vendor.id, currency: 'INR',
      items: [{ name: 'Cumin seeds', quantity, unit: 'kg', unitPrice }], delivery: { place: 'Pune', leadTimeDays: 10 }, payment: { kind: 'prepaid' }, ...extra,
    });
    // 1. The vendor offers 12,000,000; the buyer counters 11,250,000; the vendor accepts 2 h after the offer (6.25% off, 2 rounds).
    const o1 = await createOffer(app, vendor, body(c1, buyer1, 500, 24_000));
    await act(app, buyer1, o1.id, 'counter', { version: 1, items: [{ name: 'Cumin seeds', quantity: 500, unit: 'kg', unitPrice: 22_500 }] }).expect(200);
    clock.advance(2 * HOUR);
    await act(app, vendor, o1.id, 'accept', { version: 2 }).expect(200);
    // 2. The buyer offers; the vendor accepts 4 h later as it stands (0% off, 1 round).
    const o2 = await createOffer(app, buyer1, body(c1, buyer1, 100, 1_000));
    clock.advance(4 * HOUR);
    await act(app, vendor, o2.id, 'accept', { version: 1 }).expect(200);
    // 3. Rejected, 4. still open, 5. expired.
    const o3 = await createOffer(app, vendor, body(c2, buyer2, 10, 5_000));
    await act(app, buyer2, o3.id, 'reject', { version: 1 }).expect(200);
    await createOffer(app, vendor, body(c2, buyer2, 10, 6_000));
    await createOffer(app, vendor, body(c2, buyer2, 10, 7_000, { expiresAt: new Date(clock().getTime() + HOUR).toISOString() }));
    clock.advance(HOUR + 1_000);
  }, 120_000);
  afterAll(() => app.close());

  it("gives the vendor's figures: made and received, conversion, median time to accept, average discount, rounds per deal", async () => {
    const res = await app.api.get('/api/offers/analytics').set('Authorization', bearer(vendor)).expect(200);
    const figures = res.body.data;
    expect(figures).toMatchObject({ offersMade: 4, offersReceived: 1, accepted: 2, conversionRate: 0.5, averageDiscount: 0.0313, roundsPerDeal: 1.5 });
    // Median of 2 h and 4 h (plus the real milliseconds between the requests).
    expect(figures.medianTimeToAcceptMs).toBeGreaterThanOrEqual(3 * HOUR);
    expect(figures.medianTimeToAcceptMs).toBeLessThan(3 * HOUR + 60_000);
    expect(figures.byMonth).toHaveLength(1);
    expect(figures.byMonth[0]).toMatchObject({ month: clock().toISOString().slice(0, 7), offersMade: 4, offersReceived: 1, accepted: 2, conversionRate: 0.5 });
  });

  it("gives each buyer their own side of the same offers", async () => {
    const first = (await app.api.get('/api/offers/analytics').set('Authorization', bearer(buyer1)).expect(200)).body.data;
    expect(first).toMatchObject({ offersMade: 1, offersReceived: 1, accepted: 2, conversionRate: 1, averageDiscount: 0.0313, roundsPerDeal: 1.5 });
    const second = (await app.api.get('/api/offers/analytics').set('Authorization', bearer(buyer2)).expect(200)).body.data;
    expect(second).toMatchObject({ offersMade: 0, offersReceived: 3, accepted: 0, conversionRate: 0, medianTimeToAcceptMs: null, averageDiscount: null, roundsPerDeal: null });
  });

  it('limits the figures to a date range, and refuses a malformed one', async () => {
    const from = encodeURIComponent(new Date(clock().getTime() + HOUR).toISOString());
    const none = (await app.api.get(`/api/offers/analytics?from=${from}`).set('Authorization', bearer(vendor)).expect(200)).body.data;
    expect(none).toMatchObject({ offersMade: 0, offersReceived: 0, conversionRate: null, byMonth: [] });
    expect((await app.api.get('/api/offers/analytics?from=yesterday').set('Authorization', bearer(vendor))).status).toBe(400);
  });
});

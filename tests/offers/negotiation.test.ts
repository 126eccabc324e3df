import { Types } from 'mongoose';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer } from '../helpers/users';
import { OFFERS_TEST_ENV, act, createOffer, cuminOffer, parties, type OfferBody, type Parties } from './offers-helpers';

const cumin = (unitPrice: number, quantity = 500) => [{ name: 'Cumin seeds', sku: 'CUM-01', quantity, unit: 'kg', unitPrice }];
const prepaid = { payment: { kind: 'prepaid' } };

describe('a negotiation over REST', () => {
  let app: TestServer;
  let p: Parties;
  beforeAll(async () => {
    app = await startTestServer({ env: OFFERS_TEST_ENV });
    p = await parties(app);
  });
  afterAll(() => app.close());

  it('runs offer → counter → counter → accept with the turn passing, a diff per round and one order', async () => {
    const offer = await createOffer(app, p.vendor, cuminOffer(p, prepaid));
    expect(offer).toMatchObject({ status: 'open', turn: p.buyer.id, proposedBy: p.vendor.id, version: 1, total: { amount: 12_000_000, currency: 'INR' } });

    const r2 = await act(app, p.buyer, offer.id, 'counter', { version: 1, items: cumin(22_500) });
    expect(r2.status).toBe(200);
    expect(r2.body.data).toMatchObject({ status: 'countered', turn: p.vendor.id, proposedBy: p.buyer.id, version: 2, total: { amount: 11_250_000 } });

    const r3 = await act(app, p.vendor, offer.id, 'counter', { version: 2, items: cumin(23_200), delivery: { place: 'Pune', leadTimeDays: 12 }, notes: 'Final' });
    expect(r3.status).toBe(200);
    const rounds = (r3.body.data as OfferBody).rounds;
    expect(rounds.map((r) => [r.version, r.proposedBy, r.total.amount])).toEqual([
      [1, p.vendor.id, 12_000_000],
      [2, p.buyer.id, 11_250_000],
      [3, p.vendor.id, 11_600_000],
    ]);
    expect(rounds[0]?.diff).toEqual([]);
    expect(rounds[1]?.diff).toEqual([
      { field: 'items[0].unitPrice', from: 24_000, to: 22_500 },
      { field: 'total.amount', from: 12_000_000, to: 11_250_000 },
    ]);
    // A nested object replaces the current one whole: the incoterm it did not name is gone.
    expect(rounds[2]?.diff).toEqual(
      expect.arrayContaining([
        { field: 'items[0].unitPrice', from: 22_500, to: 23_200 },
        { field: 'delivery.leadTimeDays', from: 10, to: 12 },
        { field: 'delivery.incoterm', from: 'DAP Pune', to: null },
        { field: 'notes', from: null, to: 'Final' },
        { field: 'total.amount', from: 11_250_000, to: 11_600_000 },
      ]),
    );
    expect(rounds[2]?.diff).toHaveLength(5);

    const accepted = await act(app, p.buyer, offer.id, 'accept', { version: 3 });
    expect(accepted.status).toBe(200);
    expect(accepted.body.data).toMatchObject({ status: 'accepted', turn: null, version: 4, closedBy: p.buyer.id, orderId: expect.any(String) });

    const order = await app.api.get(`/api/offers/orders/${accepted.body.data.orderId}`).set('Authorization', bearer(p.vendor)).expect(200);
    expect(order.body.data).toMatchObject({ offerId: offer.id, status: 'placed', buyerId: p.buyer.id, vendorId: p.vendor.id, total: { amount: 11_600_000, currency: 'INR' } });

    // Every version is a message of type offer in the conversation, in order.
    const messages = await app.api.get(`/api/chat/conversations/${p.conversationId}/messages?limit=100`).set('Authorization', bearer(p.buyer)).expect(200);
    const offerMessages = (messages.body.data as Array<{ type: string; clientMessageId: string; senderId: string; offer?: { version: number; status: string } }>)
      .filter((m) => m.type === 'offer' && m.clientMessageId.startsWith(`offer:${offer.id}:`))
      .reverse();
    expect(offerMessages.map((m) => [m.offer?.version, m.offer?.status, m.senderId])).toEqual([
      [1, 'open', p.vendor.id],
      [2, 'countered', p.buyer.id],
      [3, 'countered', p.vendor.id],
      [4, 'accepted', p.buyer.id],
    ]);

    const read = await app.api.get(`/api/offers/${offer.id}`).set('Authorization', bearer(p.vendor)).expect(200);
    expect(read.body.data.rounds).toHaveLength(3);
    expect(read.body.data.status).toBe('accepted');
  }, 120_000);

  it('answers a retried create with the same Idempotency-Key once, and refuses the key with another body', async () => {
    const body = cuminOffer(p, prepaid);
    const first = await app.api.post('/api/offers').set('Authorization', bearer(p.vendor)).set('Idempotency-Key', 'cumin-1').send(body).expect(201);
    const again = await app.api.post('/api/offers').set('Authorization', bearer(p.vendor)).set('Idempotency-Key', 'cumin-1').send(body).expect(200);
    expect(again.body.data.id).toBe(first.body.data.id);
    const racing = await Promise.all(
      Array.from({ length: 5 }, () => app.api.post('/api/offers').set('Authorization', bearer(p.vendor)).set('Idempotency-Key', 'cumin-2').send(body)),
    );
    expect(new Set(racing.map((r) => r.body.data.id)).size).toBe(1);
    expect(racing.filter((r) => r.status === 201)).toHaveLength(1);
    const other = await app.api.post('/api/offers').set('Authorization', bearer(p.vendor)).set('Idempotency-Key', 'cumin-1').send({ ...body, notes: 'changed' }).expect(409);
    expect(other.body.error.code).toBe('CONFLICT');
    const messages = await app.api.get(`/api/chat/conversations/${p.conversationId}/messages?limit=100`).set('Authorization', bearer(p.buyer));
    expect((messages.body.data as Array<{ clientMessageId: string }>).filter((m) => m.clientMessageId === `offer:${racing[0]?.body.data.id}:1`)).toHaveLength(1);
  });

  describe('refuses bad inputs with VALIDATION_FAILED and stores nothing', () => {
    const cases: Array<[string, (b: Record<string, unknown>) => Record<string, unknown>, string]> = [
      ['a zero quantity', (b) => ({ ...b, items: [{ name: 'x', quantity: 0, unit: 'kg', unitPrice: 1 }] }), 'items[0].quantity'],
      ['a fractional price', (b) => ({ ...b, items: [{ name: 'x', quantity: 1, unit: 'kg', unitPrice: 1.5 }] }), 'items[0].unitPrice'],
      ['a negative price', (b) => ({ ...b, items: [{ name: 'x', quantity: 1, unit: 'kg', unitPrice: -100 }] }), 'items[0].unitPrice'],
      ['a price as a string', (b) => ({ ...b, items: [{ name: 'x', quantity: 1, unit: 'kg', unitPrice: '100' }] }), 'items[0].unitPrice'],
      ['an unsupported currency', (b) => ({ ...b, currency: 'XYZ' }), 'currency'],
      ['51 items', (b) => ({ ...b, items: Array.from({ length: 51 }, (_, i) => ({ name: `i${i}`, quantity: 1, unit: 'kg', unitPrice: 1 })) }), 'items'],
      ['an expiry in the past', (b) => ({ ...b, expiresAt: new Date(Date.now() - 60_000).toISOString() }), 'expiresAt'],
      ['an expiry beyond the maximum', (b) => ({ ...b, expiresAt: new Date(Date.now() + 31 * 86_400_000).toISOString() }), 'expiresAt'],
      ['the same person on both sides', (b) => ({ ...b, vendorId: b.buyerId }), 'vendorId'],
      ['a total that overflows', (b) => ({ ...b, items: [{ name: 'x', quantity: 2 ** 30, unit: 'kg', unitPrice: 2 ** 30 }] }), 'items[0]'],
      ['credit without days', (b) => ({ ...b, payment: { kind: 'credit' } }), 'payment.creditDays'],
      ['no delivery date or lead time', (b) => ({ ...b, delivery: { place: 'Pune' } }), 'delivery'],
      ['a caller who is neither party', (b) => ({ ...b, buyerId: new Types.ObjectId().toHexString() }), 'buyerId'],
    ];
    it.each(cases)('%s', async (_label, mutate, field) => {
      const before = await app.ctx.mongo.collection('offers').countDocuments();
      const res = await app.api.post('/api/offers').set('Authorization', bearer(p.buyer)).send(mutate(cuminOffer(p)));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
      expect(await app.ctx.mongo.collection('offers').countDocuments()).toBe(before);
    });

    it('a counter that changes nothing, or beyond the maximum expiry', async () => {
      const offer = await createOffer(app, p.vendor, cuminOffer(p, prepaid));
      const same = await act(app, p.buyer, offer.id, 'counter', { version: 1, items: cumin(24_000) });
      expect(same.status).toBe(400);
      const far = await act(app, p.buyer, offer.id, 'counter', { version: 1, items: cumin(23_000), expiresAt: new Date(Date.now() + 40 * 86_400_000).toISOString() });
      expect(far.status).toBe(400);
      expect(far.body.error.details[0].field).toBe('expiresAt');
      const incomplete = await act(app, p.buyer, offer.id, 'counter', { version: 1, delivery: { leadTimeDays: 3 } });
      expect(incomplete.status).toBe(400);
      const read = await app.api.get(`/api/offers/${offer.id}`).set('Authorization', bearer(p.buyer)).expect(200);
      expect(read.body.data.version).toBe(1);
    });
  });

  it('refuses an offer in a conversation one party is not in (404)', async () => {
    const res = await app.api.post('/api/offers').set('Authorization', bearer(p.stranger)).send({ ...cuminOffer(p), buyerId: p.stranger.id });
    expect(res.status).toBe(404);
  });

  describe('every illegal transition answers its code and changes nothing', () => {
    let offer: OfferBody;
    beforeEach(async () => {
      offer = await createOffer(app, p.vendor, cuminOffer(p, prepaid));
    });

    it('wrong party: the proposer may not accept, reject or counter their own round', async () => {
      for (const action of ['accept', 'reject', 'counter']) {
        const res = await act(app, p.vendor, offer.id, action, { version: 1, items: cumin(1) });
        expect([action, res.status, res.body.error.code]).toEqual([action, 403, 'OFFER_NOT_YOUR_TURN']);
        expect(res.body.error.current).toMatchObject({ id: offer.id, version: 1, turn: p.buyer.id });
      }
    });

    it('wrong party: only the proposer of the current round may withdraw it', async () => {
      const res = await act(app, p.buyer, offer.id, 'withdraw', { version: 1 });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('OFFER_NOT_YOUR_TURN');
      const countered = await act(app, p.buyer, offer.id, 'counter', { version: 1, items: cumin(20_000) });
      expect(countered.status).toBe(200);
      // The turn moved: now the vendor may not withdraw the buyer's round.
      expect((await act(app, p.vendor, offer.id, 'withdraw', { version: 2 })).body.error.code).toBe('OFFER_NOT_YOUR_TURN');
      const withdrawn = await act(app, p.buyer, offer.id, 'withdraw', { version: 2, reason: 'Found another supplier' });
      expect(withdrawn.body.data).toMatchObject({ status: 'withdrawn', closeReason: 'Found another supplier', version: 3 });
    });

    it('stale version: 409 CONFLICT carrying the current state', async () => {
      await act(app, p.buyer, offer.id, 'counter', { version: 1, items: cumin(20_000) }).expect(200);
      const res = await act(app, p.vendor, offer.id, 'accept', { version: 1 });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('CONFLICT');
      expect(res.body.error.current).toMatchObject({ id: offer.id, version: 2, status: 'countered', total: { amount: 10_000_000 } });
    });

    it('closed: nothing is accepted, rejected or countered after a rejection', async () => {
      const rejected = await act(app, p.buyer, offer.id, 'reject', { version: 1, reason: 'Too expensive' });
      expect(rejected.body.data).toMatchObject({ status: 'rejected', version: 2 });
      for (const action of ['accept', 'reject', 'counter', 'withdraw']) {
        const res = await act(app, p.buyer, offer.id, action, { version: 2, items: cumin(1) });
        expect([action, res.status, res.body.error.code]).toEqual([action, 409, 'OFFER_CLOSED']);
      }
      expect(await app.ctx.mongo.collection('offer_orders').countDocuments({ offerId: offer.id })).toBe(0);
    });

    it('a stranger reading or acting on an offer or its order gets 404', async () => {
      expect((await app.api.get(`/api/offers/${offer.id}`).set('Authorization', bearer(p.stranger))).status).toBe(404);
      for (const action of ['accept', 'reject', 'counter', 'withdraw']) {
        expect((await act(app, p.stranger, offer.id, action, { version: 1, items: cumin(1) })).status).toBe(404);
      }
      const accepted = await act(app, p.buyer, offer.id, 'accept', { version: 1 });
      const orderId = accepted.body.data.orderId as string;
      expect((await app.api.get(`/api/offers/orders/${orderId}`).set('Authorization', bearer(p.stranger))).status).toBe(404);
      for (const step of ['confirm', 'ship', 'deliver', 'complete', 'cancel']) {
        const res = await app.api.post(`/api/offers/orders/${orderId}/${step}`).set('Authorization', bearer(p.stranger)).send({ version: 1, reason: 'x' });
        expect([step, res.status]).toEqual([step, 404]);
      }
      const mine = await app.api.get('/api/offers').set('Authorization', bearer(p.stranger)).expect(200);
      expect(mine.body.data).toEqual([]);
      expect((await app.api.get(`/api/offers/${new Types.ObjectId().toHexString()}`).set('Authorization', bearer(p.buyer))).status).toBe(404);
    });
  });

  it("a credit acceptance without a credit line is refused by finance's hold and changes nothing", async () => {
    const offer = await createOffer(app, p.vendor, cuminOffer(p));
    const res = await act(app, p.buyer, offer.id, 'accept', { version: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toMatch(/^CREDIT_/);
    const read = await app.api.get(`/api/offers/${offer.id}`).set('Authorization', bearer(p.buyer)).expect(200);
    expect(read.body.data).toMatchObject({ status: 'open', version: 1, orderId: null });
  });

  it('lists mine with filters and cursor pages', async () => {
    const fresh = await parties(app);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await createOffer(app, fresh.vendor, cuminOffer(fresh, { ...prepaid, notes: `n${i}` }))).id);
    await act(app, fresh.buyer, ids[0] as string, 'reject', { version: 1 }).expect(200);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { data: Array<{ id: string; rounds?: unknown }>; page: { nextCursor: string | null } } } = await app.api.get(`/api/offers?limit=2${cursor ? `&cursor=${cursor}` : ''}`).set('Authorization', bearer(fresh.buyer)).expect(200);
      seen.push(...res.body.data.map((o) => o.id));
      expect(res.body.data[0]?.rounds).toBeUndefined();
      cursor = res.body.page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const rejected = await app.api.get('/api/offers?status=rejected').set('Authorization', bearer(fresh.buyer)).expect(200);
    expect(rejected.body.data.map((o: { id: string }) => o.id)).toEqual([ids[0]]);
    const asVendor = await app.api.get('/api/offers?role=vendor').set('Authorization', bearer(fresh.buyer)).expect(200);
    expect(asVendor.body.data).toEqual([]);
    const withVendor = await app.api.get(`/api/offers?counterpartyId=${fresh.vendor.id}&conversationId=${fresh.conversationId}`).set('Authorization', bearer(fresh.buyer)).expect(200);
    expect(withVendor.body.data).toHaveLength(5);
    const later = await app.api.get(`/api/offers?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`).set('Authorization', bearer(fresh.buyer)).expect(200);
    expect(later.body.data).toEqual([]);
    expect((await app.api.get('/api/offers?cursor=nonsense').set('Authorization', bearer(fresh.buyer))).status).toBe(400);
    expect((await app.api.get('/api/offers?status=pending').set('Authorization', bearer(fresh.buyer))).status).toBe(400);
  }, 120_000);
});

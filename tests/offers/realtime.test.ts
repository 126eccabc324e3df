import type { Socket } from 'socket.io-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer } from '../helpers/users';
import { emit, nextEvent, openSocket, record } from '../chat/chat-helpers';
import { OFFERS_TEST_ENV, cuminOffer, parties, type OfferBody, type Parties } from './offers-helpers';

type Ack = { ok: boolean; data?: OfferBody; error?: { code: string; message: string; requestId: string; current?: OfferBody } };
const cumin = (unitPrice: number) => [{ name: 'Cumin seeds', sku: 'CUM-01', quantity: 500, unit: 'kg', unitPrice }];

describe('a negotiation over sockets', () => {
  let app: TestServer;
  let p: Parties;
  let devices: { buyerPhone: Socket; buyerTablet: Socket; vendorPhone: Socket; vendorTablet: Socket; stranger: Socket };
  beforeAll(async () => {
    app = await startTestServer({ env: OFFERS_TEST_ENV });
    p = await parties(app);
    const [buyerPhone, buyerTablet, vendorPhone, vendorTablet, stranger] = await Promise.all([
      openSocket(app.url, p.buyer), openSocket(app.url, p.buyer), openSocket(app.url, p.vendor), openSocket(app.url, p.vendor), openSocket(app.url, p.stranger),
    ]);
    devices = { buyerPhone, buyerTablet, vendorPhone, vendorTablet, stranger };
  });
  afterAll(async () => {
    for (const socket of Object.values(devices)) socket.disconnect();
    await app.close();
  });

  /** Every device of both parties receives offer:updated for this step, with the same terms. */
  async function allSee(match: (o: OfferBody) => boolean, step: () => Promise<Ack>): Promise<{ ack: Ack; seen: OfferBody[] }> {
    const waits = [devices.buyerPhone, devices.buyerTablet, devices.vendorPhone, devices.vendorTablet].map((s) => nextEvent<OfferBody>(s, 'offer:updated', match));
    const ack = await step();
    return { ack, seen: await Promise.all(waits) };
  }

  it('offer:create, offer:respond (counter, counter, accept): every device of both parties follows, and each round is a message in the conversation', async () => {
    const strangerSaw = record(devices.stranger, 'offer:updated');
    const chatMessages = record<{ type: string; clientMessageId: string; offer?: { version: number } }>(devices.buyerTablet, 'chat:message');

    const tag = `socket-${Date.now()}`;
    const created = await allSee((o) => o.notes === tag && o.version === 1, () => emit(devices.vendorPhone, 'offer:create', { ...cuminOffer(p, { payment: { kind: 'prepaid' }, notes: tag }), idempotencyKey: tag }) as Promise<Ack>);
    expect(created.ack.ok).toBe(true);
    const offer = created.ack.data as OfferBody;
    expect(created.seen.map((o) => [o.id, o.status, o.turn])).toEqual(Array(4).fill([offer.id, 'open', p.buyer.id]));

    // A retried create (same key), from another device, answers the same offer.
    const retried = (await emit(devices.vendorTablet, 'offer:create', { ...cuminOffer(p, { payment: { kind: 'prepaid' }, notes: tag }), idempotencyKey: tag })) as Ack;
    expect(retried.data?.id).toBe(offer.id);

    const at = (version: number) => (o: OfferBody) => o.id === offer.id && o.version === version;
    const r2 = await allSee(at(2), () => emit(devices.buyerPhone, 'offer:respond', { offerId: offer.id, action: 'counter', version: 1, items: cumin(22_500) }) as Promise<Ack>);
    expect(r2.ack).toMatchObject({ ok: true, data: { status: 'countered', turn: p.vendor.id } });
    expect(r2.seen.every((o) => o.total.amount === 11_250_000 && o.turn === p.vendor.id && o.rounds.length === 2)).toBe(true);

    // Out of turn over the socket: the REST error body in the ack, with the current state.
    const outOfTurn = (await emit(devices.buyerTablet, 'offer:respond', { offerId: offer.id, action: 'accept', version: 2 })) as Ack;
    expect(outOfTurn).toMatchObject({ ok: false, error: { code: 'OFFER_NOT_YOUR_TURN', requestId: expect.any(String), current: { version: 2 } } });

    const r3 = await allSee(at(3), () => emit(devices.vendorTablet, 'offer:respond', { offerId: offer.id, action: 'counter', version: 2, items: cumin(23_200) }) as Promise<Ack>);
    expect(r3.seen.every((o) => o.total.amount === 11_600_000 && o.turn === p.buyer.id)).toBe(true);

    const r4 = await allSee(at(4), () => emit(devices.buyerTablet, 'offer:respond', { offerId: offer.id, action: 'accept', version: 3 }) as Promise<Ack>);
    expect(r4.ack).toMatchObject({ ok: true, data: { status: 'accepted', orderId: expect.any(String) } });
    expect(r4.seen.every((o) => o.status === 'accepted' && o.orderId === r4.ack.data?.orderId)).toBe(true);

    // The same messages any client lists: one per version, in order, live on every device.
    const listed = await app.api.get(`/api/chat/conversations/${p.conversationId}/messages?limit=100`).set('Authorization', bearer(p.vendor)).expect(200);
    const versions = (listed.body.data as Array<{ type: string; clientMessageId: string; offer: { version: number } }>)
      .filter((m) => m.type === 'offer' && m.clientMessageId.startsWith(`offer:${offer.id}:`))
      .map((m) => m.offer.version)
      .reverse();
    expect(versions).toEqual([1, 2, 3, 4]);
    const live = chatMessages.seen.filter((m) => m.type === 'offer' && m.clientMessageId.startsWith(`offer:${offer.id}:`)).map((m) => m.offer?.version);
    expect(live).toEqual([1, 2, 3, 4]);
    chatMessages.stop();

    // Someone else's devices heard nothing, and a stranger acting on it gets NOT_FOUND.
    const strangerAck = (await emit(devices.stranger, 'offer:respond', { offerId: offer.id, action: 'reject', version: 4 })) as Ack;
    expect(strangerAck).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(strangerSaw.seen).toEqual([]);
    strangerSaw.stop();
  });

  it('refuses bad payloads with VALIDATION_FAILED acks', async () => {
    const noAction = (await emit(devices.buyerPhone, 'offer:respond', { offerId: '0'.repeat(24), version: 1 })) as Ack;
    expect(noAction).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    const badAction = (await emit(devices.buyerPhone, 'offer:respond', { offerId: '0'.repeat(24), action: 'haggle', version: 1 })) as Ack;
    expect(badAction.error?.code).toBe('VALIDATION_FAILED');
    const badPrice = (await emit(devices.buyerPhone, 'offer:create', cuminOffer(p, { items: [{ name: 'x', quantity: 1, unit: 'kg', unitPrice: 0.5 }] }))) as Ack;
    expect(badPrice.error?.code).toBe('VALIDATION_FAILED');
  });
});

import { AppError } from '../../src/platform/errors';
import type { UserDirectory } from '../../src/modules/users';
import type { ChatModule } from '../../src/modules/chat';
import type { CreditHolds } from '../../src/modules/offers';
import { createOffersServices, type OffersServices } from '../../src/modules/offers/offers.services';
import { startTestServer, type TestServer } from '../helpers/server';
import { OFFERS_TEST_ENV, act, createOffer, cuminOffer, parties, type Parties } from './offers-helpers';

const prepaid = { payment: { kind: 'prepaid' } };

/**
 * A test double of finance's port (another module's): holds per buyer against a limit, keyed by
 * offer (the same offer twice holds once), with a log of calls and, optionally, a gate that keeps
 * a hold waiting so a race can be staged.
 */
function creditDouble(app: TestServer, limit: number) {
  const holds = new Map<string, { buyerId: string; amount: number }>();
  const log: string[] = [];
  let gate: Promise<void> | null = null;
  const double: CreditHolds & { holds: typeof holds; log: string[]; hold: CreditHolds['hold']; gateNext(): () => void } = {
    holds,
    log,
    async hold(request) {
      // The acceptance must not be stored yet when the hold is asked for.
      const offer = await app.ctx.mongo.collection('offers').findOne({ _id: new (await import('mongoose')).Types.ObjectId(request.offerId) });
      log.push(`hold:${String(offer?.status)}`);
      if (gate) await gate;
      if (holds.has(request.offerId)) return;
      const used = [...holds.values()].filter((h) => h.buyerId === request.buyerId).reduce((sum, h) => sum + h.amount, 0);
      if (used + request.amount.amount > limit) throw new AppError('CREDIT_LIMIT_EXCEEDED', 'Not enough credit', 409);
      holds.set(request.offerId, { buyerId: request.buyerId, amount: request.amount.amount });
    },
    async release(offerId) {
      log.push('release');
      holds.delete(offerId);
    },
    gateNext() {
      let open!: () => void;
      gate = new Promise<void>((resolve) => (open = resolve));
      return () => {
        gate = null;
        open();
      };
    },
  };
  return double;
}

describe('offers under concurrency', () => {
  let app: TestServer;
  let p: Parties;
  const accepted: string[] = [];
  beforeAll(async () => {
    app = await startTestServer({ env: OFFERS_TEST_ENV });
    p = await parties(app);
    app.ctx.events.subscribe('offer.accepted', (payload) => void accepted.push(payload.offerId));
  });
  afterAll(() => app.close());

  it('20 concurrent accepts make one order; the 19 others get 409 CONFLICT carrying the accepted offer', async () => {
    const offer = await createOffer(app, p.vendor, cuminOffer(p, prepaid));
    const answers = await Promise.all(Array.from({ length: 20 }, () => act(app, p.buyer, offer.id, 'accept', { version: 1 })));
    const won = answers.filter((r) => r.status === 200);
    const lost = answers.filter((r) => r.status === 409);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const r of lost) {
      expect(r.body.error.code).toBe('CONFLICT');
      expect(r.body.error.current).toMatchObject({ id: offer.id, status: 'accepted', version: 2, orderId: won[0]?.body.data.orderId });
    }
    expect(await app.ctx.mongo.collection('offer_orders').countDocuments({ offerId: offer.id })).toBe(1);
    await app.ctx.events.drain();
    expect(accepted.filter((id) => id === offer.id)).toHaveLength(1);
  });

  it('an accept racing a withdraw leaves exactly one winner, every time', async () => {
    for (let i = 0; i < 6; i += 1) {
      const offer = await createOffer(app, p.vendor, cuminOffer(p, prepaid));
      const [accept, withdraw] = await Promise.all([
        act(app, p.buyer, offer.id, 'accept', { version: 1 }),
        act(app, p.vendor, offer.id, 'withdraw', { version: 1 }),
      ]);
      expect([accept.status, withdraw.status].sort()).toEqual([200, 409]);
      const loser = accept.status === 409 ? accept : withdraw;
      expect(loser.body.error.code).toBe('CONFLICT');
      const status = accept.status === 200 ? 'accepted' : 'withdrawn';
      expect(loser.body.error.current).toMatchObject({ status, version: 2 });
      const orders = await app.ctx.mongo.collection('offer_orders').countDocuments({ offerId: offer.id });
      expect(orders).toBe(status === 'accepted' ? 1 : 0);
    }
  }, 120_000);

  describe("with a credit port (a double of finance's CreditHolds)", () => {
    let credit: ReturnType<typeof creditDouble>;
    let services: OffersServices;
    beforeEach(() => {
      credit = creditDouble(app, 30_000_000);
      const users = app.server.modules.find((m) => m.name === 'users') as unknown as { directory: UserDirectory };
      const chat = app.server.modules.find((m) => m.name === 'chat') as ChatModule;
      services = createOffersServices({ ctx: app.ctx, io: app.server.io, config: app.ctx.config.offers, users: users.directory, chat, credit });
    });
    const accept = (offerId: string, version: number) => services.actions.respond(p.buyer.id, offerId, 'accept', { version });

    it('holds before the acceptance is written', async () => {
      const offer = await createOffer(app, p.vendor, cuminOffer(p));
      const view = await accept(offer.id, 1);
      expect(view.status).toBe('accepted');
      expect(credit.log).toEqual(['hold:open']);
      expect(credit.holds.get(offer.id)).toEqual({ buyerId: p.buyer.id, amount: 12_000_000 });
    });

    it('releases the hold when the accept loses the race to a withdraw', async () => {
      const offer = await createOffer(app, p.vendor, cuminOffer(p));
      const open = credit.gateNext();
      const accepting = accept(offer.id, 1).then(() => null, (err: AppError) => err);
      // The hold is asked for; while it waits, the vendor withdraws.
      while (credit.log.length === 0) await new Promise((resolve) => setImmediate(resolve));
      await act(app, p.vendor, offer.id, 'withdraw', { version: 1 }).expect(200);
      open();
      const err = await accepting;
      expect(err?.code).toBe('CONFLICT');
      expect(err?.current).toMatchObject({ status: 'withdrawn' });
      expect(credit.log).toEqual(['hold:open', 'release']);
      expect(credit.holds.has(offer.id)).toBe(false);
      expect(await app.ctx.mongo.collection('offer_orders').countDocuments({ offerId: offer.id })).toBe(0);
    });

    it('20 concurrent credit accepts hold once, make one order and release nothing', async () => {
      const offer = await createOffer(app, p.vendor, cuminOffer(p));
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => accept(offer.id, 1)));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'rejected' && (o.reason as AppError).code === 'CONFLICT')).toHaveLength(19);
      expect(credit.log.filter((l) => l === 'release')).toEqual([]);
      expect([...credit.holds.keys()]).toEqual([offer.id]);
      expect(await app.ctx.mongo.collection('offer_orders').countDocuments({ offerId: offer.id })).toBe(1);
    });

    it('a hold refused for the limit leaves the offer open', async () => {
      const big = await createOffer(app, p.vendor, cuminOffer(p, { items: [{ name: 'Saffron', quantity: 100, unit: 'g', unitPrice: 400_000 }] }));
      await expect(accept(big.id, 1)).rejects.toMatchObject({ code: 'CREDIT_LIMIT_EXCEEDED', status: 409 });
      const read = await services.core.get(p.buyer.id, big.id);
      expect(read).toMatchObject({ status: 'open', version: 1, orderId: null });
    });
  });
});

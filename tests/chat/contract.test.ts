import type { ChatModule } from '../../src/modules/chat';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer } from '../helpers/users';
import { CHAT_TEST_ENV, directConversation, nextEvent, openSocket, users } from './chat-helpers';

/** Chat's contract for other modules: offer messages (offers) and the audience (notifications). */
describe('chat contract: OfferMessages and ChatAudience', () => {
  let app: TestServer;
  const chat = () => app.server.modules.find((m) => m.name === 'chat') as ChatModule;

  beforeAll(async () => {
    app = await startTestServer({ env: CHAT_TEST_ENV });
  });
  afterAll(async () => app.close());

  it('posts an offer message that is numbered, emitted, listed and idempotent', async () => {
    const [vendor, buyer] = await users(app, 2);
    const conversationId = await directConversation(app, vendor!, buyer!);
    const socket = await openSocket(app.url, buyer!);
    try {
      const offer = { offerId: 'o-1', version: 1, status: 'open', total: { amount: 120_000_00, currency: 'INR' } };
      const received = nextEvent<{ type: string; offer: unknown }>(socket, 'chat:message', (m) => m.type === 'offer');
      const [first, again] = await Promise.all([
        chat().postOfferMessage(vendor!.id, conversationId, { clientMessageId: 'offer:o-1:1', offer }),
        chat().postOfferMessage(vendor!.id, conversationId, { clientMessageId: 'offer:o-1:1', offer }),
      ]);
      expect(again.id).toBe(first.id);
      expect(first).toMatchObject({ type: 'offer', seq: 1, offer, senderId: vendor!.id });
      expect((await received).offer).toEqual(offer);
      const page = await app.api.get(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(buyer!));
      expect(page.status).toBe(200);
      expect(page.body.data).toHaveLength(1);
      expect(page.body.data[0]).toMatchObject({ type: 'offer', offer });
      const list = await app.api.get('/api/chat/conversations').set('Authorization', bearer(buyer!));
      expect(list.body.data[0]).toMatchObject({ id: conversationId, unreadCount: 1 });
    } finally {
      socket.disconnect();
    }
  });

  it('refuses an offer message from someone outside the conversation, and a client sending type offer', async () => {
    const [a, b, stranger] = await users(app, 3);
    const conversationId = await directConversation(app, a!, b!);
    await expect(chat().postOfferMessage(stranger!.id, conversationId, { clientMessageId: 'offer:x:1', offer: { offerId: 'x' } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const res = await app.api
      .post(`/api/chat/conversations/${conversationId}/messages`)
      .set('Authorization', bearer(a!))
      .send({ clientMessageId: 'c-1', type: 'offer', text: 'fake offer' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('names a conversation’s participants and who is online', async () => {
    const [a, b] = await users(app, 2);
    const conversationId = await directConversation(app, a!, b!);
    expect((await chat().participantIds(conversationId)).sort()).toEqual([a!.id, b!.id].sort());
    expect(await chat().participantIds('not-an-id')).toEqual([]);
    expect(await chat().isOnline(b!.id)).toBe(false);
    const socket = await openSocket(app.url, b!);
    try {
      // Presence is recorded by the connection handler, just after the client sees `connect`.
      let online = false;
      for (let i = 0; i < 50 && !online; i += 1) {
        online = await chat().isOnline(b!.id);
        if (!online) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(online).toBe(true);
    } finally {
      socket.disconnect();
    }
  });
});

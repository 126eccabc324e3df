import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, users } from './chat-helpers';

describe('chat under concurrent writers', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let conversationId: string;

  beforeAll(async () => {
    app = await startTestServer({ env: CHAT_TEST_ENV });
    [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    conversationId = await directConversation(app, alice, bob);
  });
  afterAll(() => app.close());

  it('gives every message of many sent at once its own sequence number, with no gap and none lost', async () => {
    const count = 24;
    const sent = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        app.api
          .post(`/api/chat/conversations/${conversationId}/messages`)
          .set('Authorization', bearer(i % 2 ? alice : bob))
          .send({ clientMessageId: clientId(`c${i}`), text: `concurrent ${i}` }),
      ),
    );
    for (const res of sent) expect(res.status).toBe(201);
    const seqs = sent.map((res) => res.body.data.seq as number).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i + 1));

    const listed = await app.api
      .get(`/api/chat/conversations/${conversationId}/messages?limit=100&direction=forward`)
      .set('Authorization', bearer(bob))
      .expect(200);
    expect(listed.body.data.map((m: { seq: number }) => m.seq)).toEqual(seqs);
    const conversation = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(bob)).expect(200);
    expect(conversation.body.data.lastMessage.seq).toBe(count);
  });

  it('hands /sync every change of a concurrent burst exactly once', async () => {
    const before = await app.api.get('/api/chat/sync').set('Authorization', bearer(bob)).expect(200);
    const cursor: string = before.body.data.nextCursor;
    const count = 16;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        app.api
          .post(`/api/chat/conversations/${conversationId}/messages`)
          .set('Authorization', bearer(alice))
          .send({ clientMessageId: clientId(`s${i}`), text: `burst ${i}` })
          .expect(201),
      ),
    );
    const texts: string[] = [];
    let next = cursor;
    for (let page = 0; page < 20; page += 1) {
      const res = await app.api.get(`/api/chat/sync?since=${encodeURIComponent(next)}&limit=5`).set('Authorization', bearer(bob)).expect(200);
      for (const message of res.body.data.messages as { text: string }[]) {
        if (message.text.startsWith('burst')) texts.push(message.text);
      }
      next = res.body.data.nextCursor;
      if (!res.body.data.hasMore) break;
    }
    expect(texts.sort()).toEqual(Array.from({ length: count }, (_, i) => `burst ${i}`).sort());
  });

  it('keeps every reaction when both participants react to one message at the same moment', async () => {
    const sent = await app.api
      .post(`/api/chat/conversations/${conversationId}/messages`)
      .set('Authorization', bearer(alice))
      .send({ clientMessageId: clientId('react'), text: 'react to me' })
      .expect(201);
    const id = sent.body.data.id as string;
    const emojis = ['👍', '🎉', '❤️', '🔥'];
    const results = await Promise.all(
      [alice, bob].flatMap((user) =>
        emojis.map((emoji) => app.api.post(`/api/chat/messages/${id}/reactions`).set('Authorization', bearer(user)).send({ emoji })),
      ),
    );
    for (const res of results) expect(res.status).toBe(200);
    const listed = await app.api
      .get(`/api/chat/conversations/${conversationId}/messages?limit=1`)
      .set('Authorization', bearer(bob))
      .expect(200);
    const reactions = listed.body.data[0].reactions as { userId: string; emoji: string }[];
    const expected = [alice, bob].flatMap((user) => emojis.map((emoji) => ({ userId: user.id, emoji })));
    expect(reactions).toHaveLength(expected.length);
    expect(reactions).toEqual(expect.arrayContaining(expected));
  });

  it('ends on the highest read position when one user sends many read receipts at once', async () => {
    const [carol] = (await users(app, 1)) as [TestUser];
    const fresh = await directConversation(app, bob, carol);
    for (let i = 0; i < 12; i += 1) {
      await app.api
        .post(`/api/chat/conversations/${fresh}/messages`)
        .set('Authorization', bearer(bob))
        .send({ clientMessageId: clientId(`r${i}`), text: `to read ${i}` })
        .expect(201);
    }
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        app.api.post(`/api/chat/conversations/${fresh}/read`).set('Authorization', bearer(carol)).send({ seq: i + 1 }).expect(200),
      ),
    );
    const after = await app.api.get(`/api/chat/conversations/${fresh}`).set('Authorization', bearer(carol)).expect(200);
    expect(after.body.data.unreadCount).toBe(0);
  });
});

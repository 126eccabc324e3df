import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, users } from './chat-helpers';

/**
 * Unread counts are not counted on read: each is the conversation's `lastSeq` minus the member's
 * `lastReadSeq`, both moved forward only under their locks (the sender's own message counts as
 * read). Under a burst of concurrent sends and reads on one conversation, every member's count
 * must come out exact, in the list and in the conversation view.
 */
describe('chat unread counts under concurrent sends and reads', () => {
  let app: TestServer;
  let members: TestUser[];

  beforeAll(async () => {
    app = await startTestServer({ env: CHAT_TEST_ENV });
    members = await users(app, 4);
  });
  afterAll(() => app.close());

  it('leaves every member with exactly lastSeq minus what they read or sent after 50 concurrent sends and reads', async () => {
    const [admin, ...rest] = members as [TestUser, ...TestUser[]];
    const created = await app.api
      .post('/api/chat/conversations')
      .set('Authorization', bearer(admin))
      .send({ type: 'group', title: 'Unread', participantIds: rest.map((u) => u.id) })
      .expect(201);
    const conversationId = created.body.data.id as string;
    const send = (user: TestUser, i: number) =>
      app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(user)).send({ clientMessageId: clientId(), text: `burst ${i}` });
    // A few messages first, so the early reads have something to read.
    for (let i = 0; i < 4; i += 1) expect((await send(members[i % members.length] as TestUser, i)).status).toBe(201);

    // 30 sends and 20 reads at once, spread over the members. A read asks for "everything"
    // (a number beyond any message) and is capped at the conversation's lastSeq at that moment.
    const sentBy = new Map<string, number[]>();
    const readTo = new Map<string, number[]>();
    const operations = Array.from({ length: 50 }, (_, i) => {
      const user = members[i % members.length] as TestUser;
      if (i % 5 < 3) {
        return send(user, 100 + i).then((res) => {
          expect(res.status).toBe(201);
          sentBy.set(user.id, [...(sentBy.get(user.id) ?? []), res.body.data.seq as number]);
        });
      }
      return app.api
        .post(`/api/chat/conversations/${conversationId}/read`)
        .set('Authorization', bearer(user))
        .send({ seq: 1_000_000 })
        .then((res) => {
          expect(res.status).toBe(200);
          readTo.set(user.id, [...(readTo.get(user.id) ?? []), res.body.data.lastReadSeq as number]);
        });
    });
    await Promise.all(operations);

    const total = 4 + 30;
    const early = new Map<string, number>();
    for (let i = 0; i < 4; i += 1) early.set((members[i % members.length] as TestUser).id, i + 1);
    for (const user of members) {
      // What the member has read: the highest of what a read answered and their own messages.
      const read = Math.max(0, early.get(user.id) ?? 0, ...(sentBy.get(user.id) ?? []), ...(readTo.get(user.id) ?? []));
      const expected = total - read;
      const list = await app.api.get('/api/chat/conversations').set('Authorization', bearer(user)).expect(200);
      const listed = (list.body.data as { id: string; lastSeq: number; unreadCount: number }[]).find((c) => c.id === conversationId);
      expect({ user: user.id, lastSeq: listed?.lastSeq, unread: listed?.unreadCount }).toEqual({ user: user.id, lastSeq: total, unread: expected });
      const view = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(user)).expect(200);
      expect({ user: user.id, unread: view.body.data.unreadCount }).toEqual({ user: user.id, unread: expected });
      const self = (view.body.data.participants as { userId: string; lastReadSeq: number }[]).find((p) => p.userId === user.id);
      expect(self?.lastReadSeq).toBe(read);
    }
    // The numbers are dense: 1…total, each once.
    const page = await app.api.get(`/api/chat/conversations/${conversationId}/messages?limit=100&direction=forward`).set('Authorization', bearer(admin)).expect(200);
    expect(page.body.data.map((m: { seq: number }) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('counts a message as unread for everyone but its sender, and reading it clears only the reader', async () => {
    const [a, b, c] = members as [TestUser, TestUser, TestUser];
    const group = await app.api.post('/api/chat/conversations').set('Authorization', bearer(a)).send({ type: 'group', title: 'One', participantIds: [b.id, c.id] }).expect(201);
    const id = group.body.data.id as string;
    await app.api.post(`/api/chat/conversations/${id}/messages`).set('Authorization', bearer(a)).send({ clientMessageId: clientId(), text: 'hello' }).expect(201);
    const unread = async (user: TestUser) => {
      const list = await app.api.get('/api/chat/conversations').set('Authorization', bearer(user)).expect(200);
      return (list.body.data as { id: string; unreadCount: number }[]).find((x) => x.id === id)?.unreadCount;
    };
    expect([await unread(a), await unread(b), await unread(c)]).toEqual([0, 1, 1]);
    await app.api.post(`/api/chat/conversations/${id}/read`).set('Authorization', bearer(b)).send({ seq: 1 }).expect(200);
    expect([await unread(a), await unread(b), await unread(c)]).toEqual([0, 0, 1]);
  });
});

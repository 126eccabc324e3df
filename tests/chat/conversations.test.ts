import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, users } from './chat-helpers';

describe('chat conversations over REST', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;

  beforeAll(async () => {
    app = await startTestServer({ env: CHAT_TEST_ENV });
    [alice, bob, carol, dave] = (await users(app, 4)) as [TestUser, TestUser, TestUser, TestUser];
  });
  afterAll(() => app.close());

  it('returns the same direct conversation to both people, even when they create it at the same moment', async () => {
    const [first, second] = await Promise.all([
      app.api.post('/api/chat/conversations').set('Authorization', bearer(alice)).send({ type: 'direct', participantIds: [bob.id] }),
      app.api.post('/api/chat/conversations').set('Authorization', bearer(bob)).send({ type: 'direct', participantIds: [alice.id] }),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 201]);
    expect(first.body.data.id).toBe(second.body.data.id);
    expect(first.body.data.participants.map((p: { userId: string }) => p.userId).sort()).toEqual([alice.id, bob.id].sort());
    const again = await app.api.post('/api/chat/conversations').set('Authorization', bearer(alice)).send({ type: 'direct', participantIds: [bob.id] });
    expect(again.status).toBe(200);
    expect(again.body.data.id).toBe(first.body.data.id);
  });

  it('refuses a direct conversation with oneself, an unknown user or malformed input, creating nothing', async () => {
    const self = await app.api.post('/api/chat/conversations').set('Authorization', bearer(carol)).send({ type: 'direct', participantIds: [carol.id] });
    expect(self.status).toBe(400);
    const unknown = await app.api.post('/api/chat/conversations').set('Authorization', bearer(carol)).send({ type: 'direct', participantIds: ['0123456789abcdef01234567'] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    for (const body of [{}, { type: 'x', participantIds: [bob.id] }, { type: 'direct', participantIds: 'abc' }, { type: 'direct', participantIds: [{ $gt: '' }] }, { type: 'group', participantIds: [bob.id] }]) {
      const res = await app.api.post('/api/chat/conversations').set('Authorization', bearer(carol)).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    const list = await app.api.get('/api/chat/conversations').set('Authorization', bearer(carol));
    expect(list.body.data).toEqual([]);
  });

  it('requires authentication', async () => {
    const res = await app.api.get('/api/chat/conversations');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('lists conversations by last activity with unread counts, in cursor pages', async () => {
    const withCarol = await directConversation(app, dave, carol);
    const withBob = await directConversation(app, dave, bob);
    const withAlice = await directConversation(app, dave, alice);
    await app.api.post(`/api/chat/conversations/${withCarol}/messages`).set('Authorization', bearer(carol)).send({ clientMessageId: clientId(), text: 'one' }).expect(201);
    await app.api.post(`/api/chat/conversations/${withCarol}/messages`).set('Authorization', bearer(carol)).send({ clientMessageId: clientId(), text: 'two' }).expect(201);
    const first = await app.api.get('/api/chat/conversations?limit=2').set('Authorization', bearer(dave)).expect(200);
    expect(first.body.data.map((c: { id: string }) => c.id)).toEqual([withCarol, withAlice]);
    expect(first.body.data[0].unreadCount).toBe(2);
    expect(first.body.data[0].lastMessage.preview).toBe('two');
    expect(first.body.page).toEqual({ nextCursor: expect.any(String), limit: 2 });
    const second = await app.api.get(`/api/chat/conversations?limit=2&cursor=${first.body.page.nextCursor}`).set('Authorization', bearer(dave)).expect(200);
    expect(second.body.data.map((c: { id: string }) => c.id)).toEqual([withBob]);
    expect(second.body.page.nextCursor).toBeNull();
    const carolsView = await app.api.get('/api/chat/conversations').set('Authorization', bearer(carol)).expect(200);
    expect(carolsView.body.data.find((c: { id: string }) => c.id === withCarol).unreadCount).toBe(0);
    const bad = await app.api.get('/api/chat/conversations?limit=101').set('Authorization', bearer(dave));
    expect(bad.status).toBe(400);
    const badCursor = await app.api.get('/api/chat/conversations?cursor=nonsense').set('Authorization', bearer(dave));
    expect(badCursor.status).toBe(400);
  });

  it("answers 404 for another pair's conversation, on every route", async () => {
    const id = await directConversation(app, alice, bob);
    const as = bearer(carol);
    const responses = await Promise.all([
      app.api.get(`/api/chat/conversations/${id}`).set('Authorization', as),
      app.api.get(`/api/chat/conversations/${id}/messages`).set('Authorization', as),
      app.api.post(`/api/chat/conversations/${id}/messages`).set('Authorization', as).send({ clientMessageId: clientId(), text: 'intrude' }),
      app.api.post(`/api/chat/conversations/${id}/read`).set('Authorization', as).send({ seq: 1 }),
      app.api.patch(`/api/chat/conversations/${id}/settings`).set('Authorization', as).send({ muted: true }),
    ]);
    for (const res of responses) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const messages = await app.api.get(`/api/chat/conversations/${id}/messages`).set('Authorization', bearer(alice)).expect(200);
    expect(messages.body.data.some((m: { text: string }) => m.text === 'intrude')).toBe(false);
  });

  it('lets group admins change membership, and nobody else', async () => {
    const created = await app.api
      .post('/api/chat/conversations')
      .set('Authorization', bearer(alice))
      .send({ type: 'group', title: 'Steel order', participantIds: [bob.id] })
      .expect(201);
    const id = created.body.data.id as string;
    expect(created.body.data.participants).toEqual(
      expect.arrayContaining([expect.objectContaining({ userId: alice.id, role: 'admin' }), expect.objectContaining({ userId: bob.id, role: 'member' })]),
    );
    const byMember = await app.api.post(`/api/chat/conversations/${id}/members`).set('Authorization', bearer(bob)).send({ userIds: [carol.id] });
    expect(byMember.status).toBe(403);
    const byOutsider = await app.api.post(`/api/chat/conversations/${id}/members`).set('Authorization', bearer(dave)).send({ userIds: [dave.id] });
    expect(byOutsider.status).toBe(404);
    const added = await app.api.post(`/api/chat/conversations/${id}/members`).set('Authorization', bearer(alice)).send({ userIds: [carol.id] }).expect(200);
    expect(added.body.data.participants.map((p: { userId: string }) => p.userId).sort()).toEqual([alice.id, bob.id, carol.id].sort());
    await app.api.get(`/api/chat/conversations/${id}`).set('Authorization', bearer(carol)).expect(200);
    await app.api.patch(`/api/chat/conversations/${id}/members/${carol.id}`).set('Authorization', bearer(alice)).send({ role: 'admin' }).expect(200);
    const removeByMember = await app.api.delete(`/api/chat/conversations/${id}/members/${alice.id}`).set('Authorization', bearer(bob));
    expect(removeByMember.status).toBe(403);
    await app.api.delete(`/api/chat/conversations/${id}/members/${bob.id}`).set('Authorization', bearer(carol)).expect(204);
    const gone = await app.api.get(`/api/chat/conversations/${id}`).set('Authorization', bearer(bob));
    expect(gone.status).toBe(404);
    const left = await app.api.get(`/api/chat/conversations/${id}`).set('Authorization', bearer(alice)).expect(200);
    expect(left.body.data.participants.map((p: { userId: string }) => p.userId).sort()).toEqual([alice.id, carol.id].sort());
  });

  it('keeps the mute flag per participant', async () => {
    const id = await directConversation(app, bob, carol);
    const muted = await app.api.patch(`/api/chat/conversations/${id}/settings`).set('Authorization', bearer(bob)).send({ muted: true }).expect(200);
    expect(muted.body.data.muted).toBe(true);
    const other = await app.api.get(`/api/chat/conversations/${id}`).set('Authorization', bearer(carol)).expect(200);
    expect(other.body.data.muted).toBe(false);
    const bad = await app.api.patch(`/api/chat/conversations/${id}/settings`).set('Authorization', bearer(bob)).send({ muted: 'yes' });
    expect(bad.status).toBe(400);
  });
});

import { startTestServer, type TestServer } from '../helpers/server';
import { testClock } from '../helpers/clock';
import { bearer, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, users } from './chat-helpers';

describe('chat messages over REST', () => {
  let app: TestServer;
  // The edit window is a time rule: the app's clock is moved past it, nobody sleeps.
  const clock = testClock();
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let conversationId: string;

  beforeAll(async () => {
    app = await startTestServer({ env: { ...CHAT_TEST_ENV, CHAT_EDIT_WINDOW_SECONDS: '2' }, clock });
    [alice, bob, carol] = (await users(app, 3)) as [TestUser, TestUser, TestUser];
    conversationId = await directConversation(app, alice, bob);
  });
  afterAll(() => app.close());

  const send = (user: TestUser, body: Record<string, unknown>, id = conversationId) =>
    app.api.post(`/api/chat/conversations/${id}/messages`).set('Authorization', bearer(user)).send(body);
  const list = (user: TestUser, query = '', id = conversationId) =>
    app.api.get(`/api/chat/conversations/${id}/messages${query}`).set('Authorization', bearer(user));

  it('stores one message when the same clientMessageId is sent twice concurrently, and answers both with it', async () => {
    const key = clientId('dup');
    const responses = await Promise.all(Array.from({ length: 5 }, () => send(alice, { clientMessageId: key, text: 'only once' })));
    for (const res of responses) expect(res.status).toBe(201);
    const ids = new Set(responses.map((res) => res.body.data.id));
    expect(ids.size).toBe(1);
    expect(responses[0]?.body.data).toMatchObject({ text: 'only once', clientMessageId: key, senderId: alice.id, type: 'text' });
    const stored = await list(bob, '?search=only%20once').expect(200);
    expect(stored.body.data).toHaveLength(1);
    const retry = await send(alice, { clientMessageId: key, text: 'different text' }).expect(201);
    expect(retry.body.data.id).toBe(responses[0]?.body.data.id);
    expect(retry.body.data.text).toBe('only once');
  });

  it('refuses a clientMessageId the sender already used in another conversation', async () => {
    const key = clientId('reuse');
    await send(alice, { clientMessageId: key, text: 'to bob' }).expect(201);
    const other = await directConversation(app, alice, carol);
    const reused = await send(alice, { clientMessageId: key, text: 'to carol' }, other);
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('CONFLICT');
    const carolSees = await list(carol, '', other).expect(200);
    expect(carolSees.body.data).toEqual([]);
  });

  it('gives messages increasing sequence numbers and pages through them in both directions', async () => {
    const other = await directConversation(app, alice, carol);
    for (let i = 1; i <= 5; i += 1) await send(i % 2 ? alice : carol, { clientMessageId: clientId(), text: `n${i}` }, other).expect(201);
    const newest = await list(alice, '?limit=2', other).expect(200);
    expect(newest.body.data.map((m: { text: string }) => m.text)).toEqual(['n5', 'n4']);
    expect(newest.body.data.map((m: { seq: number }) => m.seq)).toEqual([5, 4]);
    const older = await list(alice, `?limit=2&cursor=${newest.body.page.nextCursor}`, other).expect(200);
    expect(older.body.data.map((m: { text: string }) => m.text)).toEqual(['n3', 'n2']);
    const oldest = await list(alice, `?limit=2&cursor=${older.body.page.nextCursor}`, other).expect(200);
    expect(oldest.body.data.map((m: { text: string }) => m.text)).toEqual(['n1']);
    expect(oldest.body.page.nextCursor).toBeNull();
    const forward = await list(carol, '?limit=3&direction=forward', other).expect(200);
    expect(forward.body.data.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3]);
    const rest = await list(carol, `?limit=3&cursor=${forward.body.page.nextCursor}`, other).expect(200);
    expect(rest.body.data.map((m: { seq: number }) => m.seq)).toEqual([4, 5]);
  });

  it('searches case-insensitively and treats the search text literally', async () => {
    await send(bob, { clientMessageId: clientId(), text: 'Price is 12.50 (FOB)' }).expect(201);
    await send(bob, { clientMessageId: clientId(), text: 'price is 12350 FOB' }).expect(201);
    const found = await list(alice, `?search=${encodeURIComponent('12.50 (fob')}`).expect(200);
    expect(found.body.data.map((m: { text: string }) => m.text)).toEqual(['Price is 12.50 (FOB)']);
    const regexLike = await list(alice, `?search=${encodeURIComponent('.*')}`).expect(200);
    expect(regexLike.body.data).toEqual([]);
  });

  it('refuses malformed, oversized and operator-laden messages without storing anything', async () => {
    const before = await list(alice, '?limit=100').expect(200);
    const bodies = [
      {},
      { clientMessageId: clientId() },
      { clientMessageId: clientId(), text: '   ' },
      { clientMessageId: 'has spaces', text: 'x' },
      { clientMessageId: clientId(), text: 'x'.repeat(4001) },
      { clientMessageId: clientId(), text: { $gt: '' } },
      { clientMessageId: clientId(), text: 'x', $set: { senderId: carol.id } },
      { clientMessageId: clientId(), type: 'system', text: 'I am the system' },
      { clientMessageId: clientId(), type: 'image', text: 'no file' },
      { clientMessageId: clientId(), text: 'reply', replyToId: '0123456789abcdef01234567' },
      { clientMessageId: clientId(), text: 'x', limit: 3, seq: 99 },
    ];
    const statuses: number[] = [];
    for (const body of bodies) {
      const res = await send(alice, body);
      statuses.push(res.status);
      if (res.status !== 201) expect(res.body.error.code).toBe('VALIDATION_FAILED');
      else expect(res.body.data.seq).not.toBe(99);
    }
    expect(statuses).toEqual([400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 201]);
    const after = await list(alice, '?limit=100').expect(200);
    expect(after.body.data.length).toBe(before.body.data.length + 1);
    const badId = await app.api.get('/api/chat/conversations/not-an-id/messages').set('Authorization', bearer(alice));
    expect(badId.status).toBe(400);
  });

  it('lets only the sender edit, and only within the edit window', async () => {
    const sent = await send(alice, { clientMessageId: clientId(), text: 'origin' }).expect(201);
    const id = sent.body.data.id as string;
    const byOther = await app.api.patch(`/api/chat/messages/${id}`).set('Authorization', bearer(bob)).send({ text: 'hijack' });
    expect(byOther.status).toBe(403);
    const byOutsider = await app.api.patch(`/api/chat/messages/${id}`).set('Authorization', bearer(carol)).send({ text: 'hijack' });
    expect(byOutsider.status).toBe(404);
    const empty = await app.api.patch(`/api/chat/messages/${id}`).set('Authorization', bearer(alice)).send({ text: '' });
    expect(empty.status).toBe(400);
    const edited = await app.api.patch(`/api/chat/messages/${id}`).set('Authorization', bearer(alice)).send({ text: 'origin, corrected' }).expect(200);
    expect(edited.body.data).toMatchObject({ text: 'origin, corrected', edited: true });
    expect(edited.body.data.changeSeq).toBeGreaterThan(sent.body.data.changeSeq);
    clock.advance(2_100);
    const late = await app.api.patch(`/api/chat/messages/${id}`).set('Authorization', bearer(alice)).send({ text: 'too late' });
    expect(late.status).toBe(403);
    expect(late.body.error.code).toBe('EDIT_WINDOW_CLOSED');
    const seen = await list(bob, '?limit=1').expect(200);
    expect(seen.body.data[0].text).toBe('origin, corrected');
  });

  it('soft-deletes: the others see that a message was deleted, not its text', async () => {
    const sent = await send(bob, { clientMessageId: clientId(), text: 'secret price 900' }).expect(201);
    const id = sent.body.data.id as string;
    const byOther = await app.api.delete(`/api/chat/messages/${id}`).set('Authorization', bearer(alice));
    expect(byOther.status).toBe(403);
    const byOutsider = await app.api.delete(`/api/chat/messages/${id}`).set('Authorization', bearer(carol));
    expect(byOutsider.status).toBe(404);
    const deleted = await app.api.delete(`/api/chat/messages/${id}`).set('Authorization', bearer(bob)).expect(200);
    expect(deleted.body.data).toMatchObject({ id, deleted: true, text: null, attachments: [] });
    const again = await app.api.delete(`/api/chat/messages/${id}`).set('Authorization', bearer(bob)).expect(200);
    expect(again.body.data.changeSeq).toBe(deleted.body.data.changeSeq);
    const seen = await list(alice, '?limit=1').expect(200);
    expect(seen.body.data[0]).toMatchObject({ id, deleted: true, text: null, seq: sent.body.data.seq });
    const search = await list(alice, '?search=secret').expect(200);
    expect(search.body.data).toEqual([]);
    const edit = await app.api.patch(`/api/chat/messages/${id}`).set('Authorization', bearer(bob)).send({ text: 'back' });
    expect(edit.status).toBe(409);
    const conversation = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(alice)).expect(200);
    expect(conversation.body.data.lastMessage.preview).toBe('');
  });

  it('adds and removes reactions once per user and emoji', async () => {
    const sent = await send(alice, { clientMessageId: clientId(), text: 'deal?' }).expect(201);
    const id = sent.body.data.id as string;
    await Promise.all([
      app.api.post(`/api/chat/messages/${id}/reactions`).set('Authorization', bearer(bob)).send({ emoji: '👍' }),
      app.api.post(`/api/chat/messages/${id}/reactions`).set('Authorization', bearer(bob)).send({ emoji: '👍' }),
    ]);
    const both = await app.api.post(`/api/chat/messages/${id}/reactions`).set('Authorization', bearer(alice)).send({ emoji: '👍' }).expect(200);
    expect(both.body.data.reactions).toEqual(expect.arrayContaining([{ userId: bob.id, emoji: '👍' }, { userId: alice.id, emoji: '👍' }]));
    expect(both.body.data.reactions).toHaveLength(2);
    const outsider = await app.api.post(`/api/chat/messages/${id}/reactions`).set('Authorization', bearer(carol)).send({ emoji: '👍' });
    expect(outsider.status).toBe(404);
    const bad = await app.api.post(`/api/chat/messages/${id}/reactions`).set('Authorization', bearer(bob)).send({ emoji: 'x'.repeat(40) });
    expect(bad.status).toBe(400);
    const removed = await app.api.delete(`/api/chat/messages/${id}/reactions?emoji=${encodeURIComponent('👍')}`).set('Authorization', bearer(bob)).expect(200);
    expect(removed.body.data.reactions).toEqual([{ userId: alice.id, emoji: '👍' }]);
  });
});

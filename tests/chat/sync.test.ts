import type { Socket } from 'socket.io-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, emit, nextEvent, openSocket, users } from './chat-helpers';

type SyncMessage = { id: string; seq: number; changeSeq: number; text: string | null; deleted: boolean; edited: boolean; reactions: unknown[] };

describe('offline catch-up through /sync', () => {
  let app: TestServer;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    app = await startTestServer({ env: CHAT_TEST_ENV });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await app.close();
  });

  const sync = (user: TestUser, since?: string, limit?: number) => {
    const query = new URLSearchParams();
    if (since) query.set('since', since);
    if (limit) query.set('limit', String(limit));
    return app.api.get(`/api/chat/sync?${query.toString()}`).set('Authorization', bearer(user));
  };

  it('gives a client that was offline every missed message and change exactly once, in order, and tells the sender they were delivered', async () => {
    const [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    const a = await openSocket(app.url, alice);
    sockets.push(a);
    let b = await openSocket(app.url, bob);
    await emit(a, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'before' });
    const start = await sync(bob).expect(200);
    const cursor = start.body.data.nextCursor as string;
    b.close();

    const sent: { id: string; seq: number }[] = [];
    for (let i = 1; i <= 6; i += 1) {
      const ack = await emit(a, 'chat:send', { conversationId, clientMessageId: clientId(), text: `missed ${i}` });
      sent.push(ack.data);
    }
    await app.api.patch(`/api/chat/messages/${sent[1]?.id}`).set('Authorization', bearer(alice)).send({ text: 'missed 2, edited' }).expect(200);
    await app.api.delete(`/api/chat/messages/${sent[2]?.id}`).set('Authorization', bearer(alice)).expect(200);
    await app.api.post(`/api/chat/messages/${sent[3]?.id}/reactions`).set('Authorization', bearer(alice)).send({ emoji: '🔥' }).expect(200);

    b = await openSocket(app.url, bob);
    sockets.push(b);
    const delivered = nextEvent<{ type: string; seq: number; userId: string }>(a, 'chat:receipt', (r) => r.type === 'delivered' && r.seq === sent[5]?.seq);
    const caught = await sync(bob, cursor).expect(200);
    const messages = caught.body.data.messages as SyncMessage[];
    expect(messages.map((m) => m.id).sort()).toEqual(sent.map((m) => m.id).sort());
    expect(new Set(messages.map((m) => m.changeSeq)).size).toBe(messages.length);
    expect(messages.map((m) => m.changeSeq)).toEqual([...messages.map((m) => m.changeSeq)].sort((x, y) => x - y));
    const bySeq = new Map(messages.map((m) => [m.seq, m]));
    expect([...bySeq.keys()].sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(bySeq.get(3)).toMatchObject({ text: 'missed 2, edited', edited: true });
    expect(bySeq.get(4)).toMatchObject({ text: null, deleted: true });
    expect(bySeq.get(5)?.reactions).toEqual([{ userId: alice.id, emoji: '🔥' }]);
    expect(caught.body.data.conversations).toEqual([expect.objectContaining({ id: conversationId, lastSeq: 7 })]);
    expect(caught.body.data.hasMore).toBe(false);
    expect(await delivered).toMatchObject({ userId: bob.id, seq: 7 });

    const nothingNew = await sync(bob, caught.body.data.nextCursor).expect(200);
    expect(nothingNew.body.data.messages).toEqual([]);
  });

  it('pages a long backlog without gaps or duplicates', async () => {
    const [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    const start = await sync(bob).expect(200);
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      const res = await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: clientId(), text: `p${i}` }).expect(201);
      ids.push(res.body.data.id);
    }
    const own = await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(bob)).send({ clientMessageId: clientId(), text: 'mine' }).expect(201);
    ids.push(own.body.data.id);
    await app.api.post(`/api/chat/conversations/${conversationId}/read`).set('Authorization', bearer(alice)).send({ seq: 8 }).expect(200);
    const seen: string[] = [];
    const receipts: { userId: string; lastReadSeq: number }[] = [];
    let cursor = start.body.data.nextCursor as string;
    for (let page = 0; page < 10; page += 1) {
      const res = await sync(bob, cursor, 3).expect(200);
      seen.push(...res.body.data.messages.map((m: SyncMessage) => m.id));
      receipts.push(...res.body.data.participants);
      cursor = res.body.data.nextCursor;
      if (!res.body.data.hasMore) break;
    }
    expect(seen).toEqual(ids);
    expect(receipts).toContainEqual(expect.objectContaining({ userId: alice.id, lastReadSeq: 8 }));
  });

  it('carries membership changes, and stops carrying a group the caller was removed from', async () => {
    const [alice, bob, carol] = (await users(app, 3)) as [TestUser, TestUser, TestUser];
    const group = await app.api.post('/api/chat/conversations').set('Authorization', bearer(alice)).send({ type: 'group', title: 'Bulk rice', participantIds: [bob.id] }).expect(201);
    const id = group.body.data.id as string;
    const start = await sync(bob).expect(200);
    await app.api.post(`/api/chat/conversations/${id}/members`).set('Authorization', bearer(alice)).send({ userIds: [carol.id] }).expect(200);
    const added = await sync(bob, start.body.data.nextCursor).expect(200);
    expect(added.body.data.participants).toEqual([expect.objectContaining({ conversationId: id, userId: carol.id, role: 'member', leftAt: null })]);
    await app.api.delete(`/api/chat/conversations/${id}/members/${bob.id}`).set('Authorization', bearer(alice)).expect(204);
    await app.api.post(`/api/chat/conversations/${id}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: clientId(), text: 'after bob left' }).expect(201);
    const removed = await sync(bob, added.body.data.nextCursor).expect(200);
    expect(removed.body.data.removedConversationIds).toEqual([id]);
    expect(removed.body.data.messages).toEqual([]);
  });

  it('refuses a malformed cursor and limit', async () => {
    const [alice] = (await users(app, 1)) as [TestUser];
    for (const query of ['since=%24gt', 'since=eyJjIjotMX0', 'limit=0', 'limit=501', 'limit=abc']) {
      const res = await app.api.get(`/api/chat/sync?${query}`).set('Authorization', bearer(alice));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('replays events missed during a short network drop through connection state recovery', async () => {
    const [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    const a = await openSocket(app.url, alice);
    const b = await openSocket(app.url, bob, { reconnection: true });
    sockets.push(a, b);
    // Recovery resumes from the offset of the last event the client received, so it needs one first.
    const first = nextEvent(b, 'chat:message');
    await emit(a, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'hello' });
    await first;
    const dropped = new Promise((resolve) => b.once('disconnect', resolve));
    b.io.engine.close();
    await dropped;
    const whileAway = await emit(a, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'while you were away' });
    const replayed = await nextEvent<{ id: string }>(b, 'chat:message', undefined, 10_000).catch((err) => {
      throw new Error(`${String(err)}; connected=${b.connected} recovered=${b.recovered}`);
    });
    expect(replayed.id).toBe(whileAway.data.id);
    expect(b.recovered).toBe(true);
  });
});

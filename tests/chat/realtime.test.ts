import type { Socket } from 'socket.io-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { testClock } from '../helpers/clock';
import { CHAT_TEST_ENV, clientId, directConversation, emit, nextEvent, openSocket, record, users } from './chat-helpers';

type Message = { id: string; seq: number; text: string; clientMessageId: string; conversationId: string };
type Receipt = { conversationId: string; userId: string; type: string; seq: number };

describe('chat over sockets', () => {
  let app: TestServer;
  const sockets: Socket[] = [];
  const open = async (user: TestUser) => {
    const socket = await openSocket(app.url, user);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    app = await startTestServer({ env: { ...CHAT_TEST_ENV, CHAT_TYPING_TIMEOUT_MS: '400' } });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await app.close();
  });

  it('carries a conversation end to end: send, stored ack, delivery to the other, delivered and read receipts', async () => {
    const [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    const [a, b] = await Promise.all([open(alice), open(bob)]);
    const joined = await emit(b, 'chat:join', { conversationId });
    expect(joined).toEqual({ ok: true, data: expect.objectContaining({ id: conversationId }) });

    const incoming = nextEvent<Message>(b, 'chat:message');
    const ack = await emit(a, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'Can you do 500 units?' });
    expect(ack).toEqual({ ok: true, data: expect.objectContaining({ conversationId, seq: 1, text: 'Can you do 500 units?', senderId: alice.id }) });
    const received = await incoming;
    expect(received.id).toBe(ack.data.id);

    const delivered = nextEvent<Receipt>(a, 'chat:receipt', (r) => r.type === 'delivered');
    const deliveredAck = await emit(b, 'chat:delivered', { conversationId, seq: received.seq });
    expect(deliveredAck).toEqual({ ok: true, data: { conversationId, userId: bob.id, lastReadSeq: 0, lastDeliveredSeq: 1 } });
    expect(await delivered).toMatchObject({ conversationId, userId: bob.id, type: 'delivered', seq: 1 });

    const read = nextEvent<Receipt>(a, 'chat:receipt', (r) => r.type === 'read');
    const readAck = await emit(b, 'chat:read', { conversationId, seq: 1 });
    expect(readAck.data).toMatchObject({ lastReadSeq: 1, lastDeliveredSeq: 1 });
    expect(await read).toMatchObject({ userId: bob.id, type: 'read', seq: 1 });

    const replyToA = nextEvent<Message>(a, 'chat:message');
    const reply = await emit(b, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'Yes, at 120 each', replyToId: received.id });
    expect(reply.data.replyTo).toEqual({ messageId: received.id, seq: 1 });
    expect((await replyToA).text).toBe('Yes, at 120 each');
    const list = await app.api.get('/api/chat/conversations').set('Authorization', bearer(alice)).expect(200);
    expect(list.body.data[0]).toMatchObject({ id: conversationId, unreadCount: 1, lastSeq: 2 });
  });

  it('emits the same events for a message sent over REST, and for edits and deletes', async () => {
    const [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    const [a, b] = await Promise.all([open(alice), open(bob)]);
    const incoming = nextEvent<Message>(b, 'chat:message');
    const echoed = nextEvent<Message>(a, 'chat:message');
    const sent = await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: clientId(), text: 'via REST' }).expect(201);
    expect((await incoming).id).toBe(sent.body.data.id);
    expect((await echoed).id).toBe(sent.body.data.id);
    const updated = nextEvent<Message & { edited: boolean }>(b, 'chat:message_updated');
    await app.api.patch(`/api/chat/messages/${sent.body.data.id}`).set('Authorization', bearer(alice)).send({ text: 'via REST, edited' }).expect(200);
    expect(await updated).toMatchObject({ id: sent.body.data.id, text: 'via REST, edited', edited: true });
    const deleted = nextEvent<Message & { deleted: boolean }>(b, 'chat:message_updated', (m) => m.deleted);
    await app.api.delete(`/api/chat/messages/${sent.body.data.id}`).set('Authorization', bearer(alice)).expect(200);
    expect(await deleted).toMatchObject({ id: sent.body.data.id, text: null });
  });

  it('relays typing to the other participant, never back to the sender, and clears it after a quiet spell or a disconnect', async () => {
    const [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    const [a1, a2, b] = await Promise.all([open(alice), open(alice), open(bob)]);
    const echo1 = record(a1, 'typing:start');
    const echo2 = record(a2, 'typing:start');
    const started = nextEvent(b, 'typing:start');
    expect(await emit(a1, 'typing:start', { conversationId })).toEqual({ ok: true, data: { conversationId } });
    expect(await started).toEqual({ conversationId, userId: alice.id });
    // No explicit stop: the server ends the indicator on its own.
    expect(await nextEvent(b, 'typing:stop')).toEqual({ conversationId, userId: alice.id });

    const startedAgain = nextEvent(b, 'typing:start');
    await emit(a1, 'typing:start', { conversationId });
    await startedAgain;
    const stoppedByDisconnect = nextEvent(b, 'typing:stop');
    a1.close();
    expect(await stoppedByDisconnect).toEqual({ conversationId, userId: alice.id });
    // Barrier: a message from alice reaches her second device after anything emitted before it.
    const barrier = nextEvent(a2, 'chat:message');
    await emit(a2, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'barrier' });
    await barrier;
    expect(echo1.seen).toEqual([]);
    expect(echo2.seen).toEqual([]);
  });

  it('shows a user online while any of their devices is connected, and offline with last seen after the last one leaves', async () => {
    const [watcher, carol] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, watcher, carol);
    const w = await open(watcher);
    const changes = record<{ userId: string; status: string; lastSeenAt: string | null }>(w, 'user:status_change');
    const online = nextEvent(w, 'user:status_change', (e) => e.status === 'online');
    const c1 = await open(carol);
    expect(await online).toEqual({ userId: carol.id, status: 'online', lastSeenAt: null });
    const c2 = await open(carol);
    c1.close();
    // Once the server has dropped c1, carol must still be online through c2.
    const presenceOf = async () => {
      const res = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(watcher)).expect(200);
      return res.body.data.participants.find((p: { userId: string }) => p.userId === carol.id);
    };
    while ((await app.server.io.in(`user:${carol.id}`).fetchSockets()).length > 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await presenceOf()).toMatchObject({ online: true, lastSeenAt: null });
    const offline = nextEvent<{ status: string; lastSeenAt: string }>(w, 'user:status_change', (e) => e.status === 'offline');
    c2.close();
    const event = await offline;
    expect(event).toMatchObject({ userId: carol.id, status: 'offline' });
    expect(Number.isNaN(Date.parse(event.lastSeenAt))).toBe(false);
    expect(changes.seen.map((e) => e.status)).toEqual(['online', 'offline']);
    expect(await presenceOf()).toMatchObject({ online: false, lastSeenAt: event.lastSeenAt });
  });

  it('refuses a non-participant joining, sending, reading or typing, and leaks nothing to the participants', async () => {
    const [alice, bob, mallory] = (await users(app, 3)) as [TestUser, TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    const [a, b, m] = await Promise.all([open(alice), open(bob), open(mallory)]);
    const aliceMessages = record<Message>(a, 'chat:message');
    const bobTyping = record(b, 'typing:start');
    const malloryMessages = record<Message>(m, 'chat:message');
    const attempts = await Promise.all([
      emit(m, 'chat:join', { conversationId }),
      emit(m, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'let me in' }),
      emit(m, 'chat:read', { conversationId, seq: 1 }),
      emit(m, 'chat:delivered', { conversationId, seq: 1 }),
      emit(m, 'typing:start', { conversationId }),
    ]);
    for (const ack of attempts) expect(ack).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'Conversation not found', requestId: expect.any(String) } });
    const barrier = nextEvent<Message>(a, 'chat:message');
    await emit(b, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'private' });
    await barrier;
    expect(aliceMessages.seen.map((x) => x.text)).toEqual(['private']);
    expect(bobTyping.seen).toEqual([]);
    expect(malloryMessages.seen).toEqual([]);
  });

  it('answers malformed, oversized and $-key payloads in the error envelope and stores nothing', async () => {
    const [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    const a = await open(alice);
    const bad = [
      'just text',
      [conversationId],
      {},
      { conversationId: 'nope', clientMessageId: clientId(), text: 'x' },
      { conversationId, clientMessageId: clientId(), text: 'x'.repeat(4_001) },
      { conversationId, clientMessageId: clientId(), text: 'x', $where: 'sleep(1000)' },
      { conversationId, clientMessageId: clientId(), text: { $ne: null } },
      { conversationId: { $gt: '' }, clientMessageId: clientId(), text: 'x' },
    ];
    for (const payload of bad) {
      const ack = await emit(a, 'chat:send', payload);
      expect(ack.ok).toBe(false);
      expect(ack.error.code).toBe('VALIDATION_FAILED');
      expect(ack.error.details.length).toBeGreaterThan(0);
    }
    for (const event of ['chat:read', 'chat:join', 'typing:start', 'chat:delivered']) {
      const ack = await emit(a, event, { conversationId, seq: 'all', 'a.b': 1 });
      expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    }
    // A frame above the 64 KiB limit closes the connection rather than reaching a handler.
    const closed = new Promise<string>((resolve) => a.once('disconnect', (reason) => resolve(reason)));
    a.emit('chat:send', { conversationId, clientMessageId: clientId(), text: 'y'.repeat(70_000) });
    expect(await closed).toBe('transport close');
    const stored = await app.api.get(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).expect(200);
    expect(stored.body.data).toEqual([]);
  });

  it('stores one message when one clientMessageId arrives twice at once over the socket', async () => {
    const [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    const [a1, a2] = await Promise.all([open(alice), open(alice)]);
    const key = clientId('twice');
    const acks = await Promise.all([
      emit(a1, 'chat:send', { conversationId, clientMessageId: key, text: 'once' }),
      emit(a2, 'chat:send', { conversationId, clientMessageId: key, text: 'once' }),
      emit(a1, 'chat:send', { conversationId, clientMessageId: key, text: 'once' }),
    ]);
    expect(acks.every((ack) => ack.ok)).toBe(true);
    expect(new Set(acks.map((ack) => ack.data.id)).size).toBe(1);
    const stored = await app.api.get(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(bob)).expect(200);
    expect(stored.body.data).toHaveLength(1);
    expect(stored.body.data[0].seq).toBe(1);
  });
});

describe('chat:send rate limit', () => {
  let app: TestServer;
  let socket: Socket | undefined;
  const clock = testClock();
  beforeAll(async () => {
    app = await startTestServer({ env: { ...CHAT_TEST_ENV, CHAT_SEND_RATE_MAX: '3', CHAT_SEND_RATE_WINDOW_MS: '60000' }, clock });
  });
  afterAll(async () => {
    socket?.close();
    await app.close();
  });

  it('refuses sends beyond the per-user budget with RATE_LIMITED, over the socket and REST alike', async () => {
    const [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    socket = await openSocket(app.url, alice);
    // The budget is per fixed window of the app's clock: start at the beginning of one, so the
    // sends below cannot straddle two windows (which once let the fourth through).
    clock.advance(60_000 - (clock().getTime() % 60_000));
    const acks = [];
    for (let i = 0; i < 3; i += 1) acks.push(await emit(socket, 'chat:send', { conversationId, clientMessageId: clientId(), text: `m${i}` }));
    expect(acks.every((ack) => ack.ok)).toBe(true);
    const limited = await emit(socket, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'one too many' });
    expect(limited).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    // The window's counter in Redis expires on its own (set by the send that opened the window).
    const window = Math.floor(clock().getTime() / 60_000);
    const ttl = await app.ctx.redis!.pttl(`${app.ctx.config.redis.keyPrefix}chat:send:${alice.id}:${window}`);
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    // The refusal says when to come back (the end of the window), so the app need not guess.
    const hint = (limited.error.details as { field: string; message: string }[]).find((d) => d.field === 'retryAfterMs');
    expect(Number(hint?.message)).toBeGreaterThan(0);
    const rest = await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: clientId(), text: 'rest' });
    expect(rest.status).toBe(429);
    expect(rest.headers['retry-after']).toEqual(expect.any(String));
    // A retry of an already stored message is not a new send and is still answered.
    const retry = await emit(socket, 'chat:send', { conversationId, clientMessageId: acks[0].data.clientMessageId, text: 'm0' });
    expect(retry).toMatchObject({ ok: true, data: { id: acks[0].data.id } });
  });
});

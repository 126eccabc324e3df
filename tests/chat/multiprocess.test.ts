import type { Socket } from 'socket.io-client';
import type { ChatModule } from '../../src/modules/chat';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, emit, nextEvent, openSocket, record, users } from './chat-helpers';

type Status = { userId: string; status: 'online' | 'offline'; lastSeenAt: string | null };
const ENV = { ...CHAT_TEST_ENV, CHAT_PRESENCE_HEARTBEAT_MS: '200' };

/** Two server processes' worth of app sharing one MongoDB database and one Redis prefix. */
describe('two server processes sharing MongoDB and Redis', () => {
  let one: TestServer;
  let two: TestServer;
  let three: TestServer | undefined;
  const sockets: Socket[] = [];
  let alice: TestUser;
  let bob: TestUser;
  let conversationId: string;

  beforeAll(async () => {
    one = await startTestServer({ env: ENV });
    two = await startTestServer({ env: ENV, names: one.names, ownsDatabases: false });
    [alice, bob] = (await users(one, 2)) as [TestUser, TestUser];
    conversationId = await directConversation(one, alice, bob);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await three?.close();
    await two.close();
    await one.close();
  });

  const presenceOf = async (app: TestServer, viewer: TestUser, userId: string) => {
    const res = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(viewer)).expect(200);
    return res.body.data.participants.find((p: { userId: string }) => p.userId === userId);
  };

  it('carries messages, receipts, typing and presence between users on different processes, and survives one restarting', async () => {
    const a = await openSocket(one.url, alice);
    sockets.push(a);
    const bobOnline = nextEvent<Status>(a, 'user:status_change', (e) => e.userId === bob.id && e.status === 'online');
    let b = await openSocket(two.url, bob);
    sockets.push(b);
    await bobOnline;

    const incoming = nextEvent<{ id: string; text: string }>(b, 'chat:message');
    const sent = await emit(a, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'from process one' });
    expect(sent.ok).toBe(true);
    expect(await incoming).toMatchObject({ id: sent.data.id, text: 'from process one' });

    const receipt = nextEvent<{ type: string; userId: string }>(a, 'chat:receipt', (r) => r.type === 'read');
    await emit(b, 'chat:read', { conversationId, messageId: sent.data.id });
    expect(await receipt).toMatchObject({ userId: bob.id, seq: 1 });

    const typing = nextEvent(a, 'typing:start');
    const echo = record(b, 'typing:start');
    await emit(b, 'typing:start', { conversationId });
    expect(await typing).toEqual({ conversationId, userId: bob.id });
    const replyAtA = nextEvent<{ text: string }>(a, 'chat:message');
    const stopAtA = nextEvent(a, 'typing:stop');
    const replyAtB = nextEvent<{ text: string }>(b, 'chat:message');
    await emit(b, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'from process two' });
    expect((await replyAtA).text).toBe('from process two');
    expect(await stopAtA).toEqual({ conversationId, userId: bob.id });
    await replyAtB;
    expect(echo.seen).toEqual([]);

    expect(await presenceOf(one, alice, bob.id)).toMatchObject({ online: true });
    expect(await presenceOf(two, bob, alice.id)).toMatchObject({ online: true });
    // Chat's contract (what notifications asks): online here (a local socket) and there (through Redis).
    const contractOf = (server: TestServer) => server.server.modules.find((m) => m.name === 'chat') as ChatModule;
    expect(await contractOf(one).isOnline(alice.id)).toBe(true);
    expect(await contractOf(one).isOnline(bob.id)).toBe(true);
    expect(await contractOf(two).isOnline(alice.id)).toBe(true);

    // Process two goes away: bob goes offline, alice (on process one) stays online.
    const bobOffline = nextEvent<Status>(a, 'user:status_change', (e) => e.userId === bob.id && e.status === 'offline');
    await two.close();
    expect((await bobOffline).lastSeenAt).toEqual(expect.any(String));
    expect(await presenceOf(one, bob, alice.id)).toMatchObject({ online: true });
    expect(await presenceOf(one, alice, bob.id)).toMatchObject({ online: false });
    expect(await contractOf(one).isOnline(bob.id)).toBe(false);

    // A fresh process takes its place; bob comes back through it and the conversation carries on.
    three = await startTestServer({ env: ENV, names: one.names, ownsDatabases: false });
    const back = nextEvent<Status>(a, 'user:status_change', (e) => e.userId === bob.id && e.status === 'online');
    b = await openSocket(three.url, bob);
    sockets.push(b);
    await back;
    const again = nextEvent<{ text: string }>(b, 'chat:message');
    await emit(a, 'chat:send', { conversationId, clientMessageId: clientId(), text: 'welcome back' });
    expect((await again).text).toBe('welcome back');
  });

  it("announces the users of a process that died without cleaning up, once its heartbeat lapses, and nobody else's", async () => {
    const [carol, dave] = (await users(one, 2)) as [TestUser, TestUser];
    await directConversation(one, carol, dave);
    const c = await openSocket(one.url, carol);
    sockets.push(c);
    const redis = one.ctx.redis;
    if (!redis) throw new Error('These tests need Redis');
    // What a crashed process leaves behind: dave's socket registered under a process with no heartbeat.
    const prefix = `${one.names.redisPrefix}chat:presence:`;
    await redis
      .multi()
      .hset(`${prefix}u:${dave.id}`, 'deadbeef0000|sock1', '1')
      .sadd(`${prefix}pu:deadbeef0000`, dave.id)
      .sadd(`${prefix}procs`, 'deadbeef0000')
      .exec();
    const changes = record<Status>(c, 'user:status_change');
    const offline = await nextEvent<Status>(c, 'user:status_change', (e) => e.userId === dave.id && e.status === 'offline');
    expect(offline.lastSeenAt).toEqual(expect.any(String));
    expect(await redis.hkeys(`${prefix}u:${dave.id}`)).toEqual([]);
    expect(await redis.sismember(`${prefix}procs`, 'deadbeef0000')).toBe(0);
    expect(changes.seen.filter((e) => e.userId === carol.id)).toEqual([]);
  });
});

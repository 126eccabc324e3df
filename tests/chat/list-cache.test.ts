import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { CommandStartedEvent } from 'mongodb';
import { currentRequestId } from '../../src/platform/request-context';
import type { Socket } from 'socket.io-client';
import { createLocks } from '../../src/platform/locks';
import { createDerivedState } from '../../src/modules/chat/derived-state';
import { getChatModels } from '../../src/modules/chat/chat.model';
import type { ViewsInvalidation } from '../../src/modules/chat/views-channel';
import { startTestServer, type TestServer } from '../helpers/server';
import { until } from '../helpers/until';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, nextEvent, openSocket, servicesOf, users } from './chat-helpers';

type Row = { id: string; unreadCount: number; muted: boolean; lastSeq: number; lastMessage: { preview: string } | null; participants: { userId: string }[] };
type List = { data: Row[]; page: { nextCursor: string | null; limit: number } };



/**
 * The conversation list from the in-process list cache (issue 18): zero store round trips for a
 * list read again, and every write that changes a list (a message and the summary it moves, a
 * read receipt, mute, a new conversation, joining and leaving, an edit of the last message, a
 * repair) seen by the next list on every process. Two app instances share MongoDB and Redis.
 */
describe('the conversation list cache across two processes sharing Redis', () => {
  let a: TestServer;
  let b: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  let withBob: string;
  let withCarol: string;
  const commands = new Map<string, CommandStartedEvent[]>();
  const sockets: Socket[] = [];
  let onCommand: ((event: CommandStartedEvent) => void) | null = null;

  const monitor = (app: TestServer) =>
    app.ctx.mongo.getClient().on('commandStarted', (event: CommandStartedEvent) => {
      const id = currentRequestId();
      if (!id?.startsWith('lc-')) return;
      commands.set(id, [...(commands.get(id) ?? []), event]);
      onCommand?.(event);
    });

  async function list(app: TestServer, user: TestUser, query = 'limit=20'): Promise<{ body: List; commands: string[] }> {
    const requestId = `lc-${randomUUID()}`;
    const res = await app.api.get(`/api/chat/conversations?${query}`).set('Authorization', bearer(user)).set('X-Request-Id', requestId).expect(200);
    return { body: res.body as List, commands: (commands.get(requestId) ?? []).map((c) => `${c.commandName}:${String(c.command[c.commandName])}`) };
  }

  /** Reads the list until it comes from the cache (the first read stores it). */
  async function warm(app: TestServer, user: TestUser, query = 'limit=20'): Promise<List> {
    await list(app, user, query);
    const again = await list(app, user, query);
    expect({ query, commands: again.commands }).toEqual({ query, commands: [] });
    return again.body;
  }

  const row = (body: List, id: string) => body.data.find((r) => r.id === id);

  const send = async (app: TestServer, user: TestUser, conversationId: string, text: string) =>
    (await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(user)).send({ clientMessageId: clientId('lc'), text }).expect(201)).body.data as { id: string; seq: number };

  beforeAll(async () => {
    a = await startTestServer({ env: CHAT_TEST_ENV, monitorCommands: true });
    b = await startTestServer({ names: a.names, ownsDatabases: false, monitorCommands: true, env: CHAT_TEST_ENV });
    monitor(a);
    monitor(b);
    await until(() => [a, b].every((app) => servicesOf(app).views.channel.live()), 'the views channels of both instances');
    [alice, bob, carol, dave] = (await users(a, 4)) as [TestUser, TestUser, TestUser, TestUser];
    withBob = await directConversation(a, alice, bob);
    withCarol = await directConversation(a, alice, carol);
    await send(a, bob, withBob, 'hello from bob');
    await send(a, carol, withCarol, 'hello from carol');
  }, 120_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await b.close();
    await a.close();
  });

  it('serves a list read again with zero store commands, the same list as the store gives', async () => {
    const cold = await list(b, alice);
    expect(cold.commands.filter((c) => c.startsWith('find:chat_')).sort()).toEqual(['find:chat_conversations', 'find:chat_members']);
    const again = await list(b, alice);
    expect(again.commands).toEqual([]);
    expect(again.body).toEqual(cold.body);
    expect(again.body.data.map((r) => r.id)).toEqual([withCarol, withBob]);
    // A second page shape (after a cursor) is its own entry.
    const first = await list(b, alice, 'limit=1');
    const query = `limit=1&cursor=${first.body.page.nextCursor}`;
    expect((await list(b, alice, query)).body.data.map((r) => r.id)).toEqual([withBob]);
    expect((await list(b, alice, query)).commands).toEqual([]);
  });

  it('a message sent through A moves its conversation to the top and changes unread counts on B', async () => {
    await warm(b, alice);
    await warm(b, bob);
    expect(row(await warm(b, alice), withBob)?.unreadCount).toBe(1);
    await send(a, bob, withBob, 'bob again');
    const onB = (await list(b, alice)).body;
    expect(onB.data[0]).toMatchObject({ id: withBob, unreadCount: 2, lastSeq: 2, lastMessage: { preview: 'bob again' } });
    // The sender's own list, after the ack, shows the new summary and nothing unread.
    expect((await list(b, bob)).body.data[0]).toMatchObject({ id: withBob, unreadCount: 0, lastSeq: 2, lastMessage: { preview: 'bob again' } });
    // And the cursor page of the old order is not served stale either.
    const first = await list(b, alice, 'limit=1');
    expect(first.body.data.map((r) => r.id)).toEqual([withBob]);
    expect((await list(b, alice, `limit=1&cursor=${first.body.page.nextCursor}`)).body.data.map((r) => r.id)).toEqual([withCarol]);
  });

  it('a conversation further down the list that becomes active moves to the top of a cached first page', async () => {
    const first = await warm(b, alice, 'limit=1');
    expect(first.data.map((r) => r.id)).toEqual([withBob]);
    await send(a, carol, withCarol, 'carol is back');
    expect((await list(b, alice, 'limit=1')).body.data.map((r) => r.id)).toEqual([withCarol]);
  });

  it('a list read on B between the emit and the summary write is dropped by that write: after the ack B lists the new summary', async () => {
    const socket = await openSocket(b.url, alice);
    sockets.push(socket);
    const before = row(await warm(b, alice), withBob);
    const locks = createLocks(b.ctx.mongo, { leaseMs: 10_000 });
    let sent: Promise<{ id: string; seq: number }> | undefined;
    // The conversation's lock held elsewhere: the send's summary write waits for it (derived-state.ts, its slow path).
    await locks.withLock(`chat:conversation:${withBob}`, async () => {
      const told = nextEvent<{ text: string }>(socket, 'chat:message', (m) => m.text === 'held summary');
      sent = send(a, bob, withBob, 'held summary');
      await told;
      // Emitted, summary not written yet: the list (read from the store, the message's publish has
      // dropped the cached one) still shows the old summary, and is cached.
      expect(row((await list(b, alice)).body, withBob)?.lastSeq).toBe(before?.lastSeq);
      expect(row((await list(b, alice)).body, withBob)?.lastSeq).toBe(before?.lastSeq);
    });
    const message = await sent!;
    expect(row((await list(b, alice)).body, withBob)).toMatchObject({ lastSeq: message.seq, lastMessage: { preview: 'held summary' } });
  });

  it('one derived-state write publishes its conversations once, before the senders are answered, and carries each sender\'s number', async () => {
    const [x, y, z] = (await users(a, 3)) as [TestUser, TestUser, TestUser];
    const first = await directConversation(a, x, y);
    const second = await directConversation(a, x, z);
    const published: ViewsInvalidation[] = [];
    const derived = createDerivedState({
      models: getChatModels(a.ctx.mongo), mongo: a.ctx.mongo, locks: createLocks(a.ctx.mongo), leaseMs: 3_000,
      publishViews: async (invalidation) => void published.push(invalidation),
    });
    const answered: number[] = [];
    const summary = { lastMessage: null, lastActivityAt: new Date() };
    await Promise.all([
      derived.advanceSummary(first, 1, summary, x.id).then(() => answered.push(published.length)),
      derived.advanceSummary(first, 2, summary, y.id).then(() => answered.push(published.length)),
      derived.advanceSummary(second, 1, summary, z.id).then(() => answered.push(published.length)),
    ]);
    expect(published).toEqual([{ c: [first, second], u: [] }]);
    expect(answered).toEqual([1, 1, 1]);
    const { Conversation } = getChatModels(a.ctx.mongo);
    expect(await Conversation.findById(first).lean()).toMatchObject({ lastSeq: 2, sentSeq: { [x.id]: 1, [y.id]: 2 } });
    expect(await Conversation.findById(second).lean()).toMatchObject({ lastSeq: 1, sentSeq: { [z.id]: 1 } });
  });

  it('a sender\'s number is raised even when the summary is already past it (a later message written by another process)', async () => {
    const [x, y] = (await users(a, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(a, x, y);
    const derived = createDerivedState({ models: getChatModels(a.ctx.mongo), mongo: a.ctx.mongo, locks: createLocks(a.ctx.mongo), leaseMs: 3_000 });
    const { Conversation } = getChatModels(a.ctx.mongo);
    await derived.advanceSummary(conversationId, 7, { lastMessage: null, lastActivityAt: new Date('2026-01-02T00:00:00Z') }, y.id);
    await derived.advanceSummary(conversationId, 5, { lastMessage: null, lastActivityAt: new Date('2026-01-01T00:00:00Z') }, x.id);
    expect(await Conversation.findById(conversationId).lean()).toMatchObject({
      lastSeq: 7, lastActivityAt: new Date('2026-01-02T00:00:00Z'), sentSeq: { [x.id]: 5, [y.id]: 7 },
    });
    // Never lowered: an older number of the same sender changes nothing.
    await derived.advanceSummary(conversationId, 3, { lastMessage: null, lastActivityAt: new Date() }, x.id);
    expect((await Conversation.findById(conversationId).lean())?.sentSeq).toEqual({ [x.id]: 5, [y.id]: 7 });
  });

  it('a read receipt through A changes the unread count on B', async () => {
    const before = row(await warm(b, alice), withBob);
    expect(before?.unreadCount).toBeGreaterThan(0);
    await a.api.post(`/api/chat/conversations/${withBob}/read`).set('Authorization', bearer(alice)).send({ seq: before?.lastSeq }).expect(200);
    expect(row((await list(b, alice)).body, withBob)?.unreadCount).toBe(0);
  });

  it('muting through A is in the list on B', async () => {
    expect(row(await warm(b, alice), withCarol)?.muted).toBe(false);
    await a.api.patch(`/api/chat/conversations/${withCarol}/settings`).set('Authorization', bearer(alice)).send({ muted: true }).expect(200);
    expect(row((await list(b, alice)).body, withCarol)?.muted).toBe(true);
  });

  it('an edit of the last message through A changes its preview in the list on B', async () => {
    const sent = await send(a, alice, withBob, 'typo');
    await warm(b, bob);
    await a.api.patch(`/api/chat/messages/${sent.id}`).set('Authorization', bearer(alice)).send({ text: 'fixed' }).expect(200);
    expect(row((await list(b, bob)).body, withBob)?.lastMessage?.preview).toBe('fixed');
  });

  it('a new conversation made through A appears in both lists on B', async () => {
    await warm(b, dave);
    await warm(b, bob);
    const created = await directConversation(a, dave, bob);
    expect((await list(b, dave)).body.data.map((r) => r.id)).toContain(created);
    expect((await list(b, bob)).body.data.map((r) => r.id)).toContain(created);
  });

  it('joining and leaving a group through A is in the lists on B at once; a stranger never lists it', async () => {
    const group = await a.api.post('/api/chat/conversations').set('Authorization', bearer(alice)).send({ type: 'group', title: 'Listed', participantIds: [bob.id] }).expect(201);
    const groupId = group.body.data.id as string;
    expect(row(await warm(b, alice), groupId)?.participants.map((p) => p.userId).sort()).toEqual([alice.id, bob.id].sort());
    expect(row(await warm(b, carol), groupId)).toBeUndefined();
    await a.api.post(`/api/chat/conversations/${groupId}/members`).set('Authorization', bearer(alice)).send({ userIds: [carol.id] }).expect(200);
    expect(row((await list(b, carol)).body, groupId)).toBeDefined();
    expect(row((await list(b, alice)).body, groupId)?.participants.map((p) => p.userId).sort()).toEqual([alice.id, bob.id, carol.id].sort());

    await warm(b, carol);
    await warm(b, alice);
    await a.api.delete(`/api/chat/conversations/${groupId}/members/${carol.id}`).set('Authorization', bearer(carol)).expect(204);
    expect(row((await list(b, carol)).body, groupId)).toBeUndefined();
    expect(row((await list(b, alice)).body, groupId)?.participants.map((p) => p.userId).sort()).toEqual([alice.id, bob.id].sort());
    expect(row((await list(b, dave)).body, groupId)).toBeUndefined();
  });

  it('a repair through the admin route on A reaches the cached lists on B', async () => {
    const admin = await createUser(a, { role: 'admin' });
    const conversationId = await directConversation(a, dave, carol);
    for (const text of ['one', 'two', 'three']) await send(a, carol, conversationId, text);
    await a.ctx.mongo.collection('chat_conversations').updateOne({ _id: new Types.ObjectId(conversationId) }, { $set: { lastSeq: 1 } });
    // Written behind the app's back, so dave's list on B is dropped by hand (as any announced write would) and cached drifted.
    await servicesOf(b).views.publish({ c: [], u: [dave.id] });
    expect(row(await warm(b, dave), conversationId)?.unreadCount).toBe(1);
    await a.api.post(`/api/admin/chat/conversations/${conversationId}/repair`).set('Authorization', bearer(admin)).send({ reason: 'Unread badge wrong' }).expect(200);
    expect(row((await list(b, dave)).body, conversationId)?.unreadCount).toBe(3);
  });

  it('does not store a list read from the store while an invalidation arrived', async () => {
    const lists = servicesOf(b).views.lists;
    await list(b, alice, 'limit=3');
    await servicesOf(b).views.publish({ c: [], u: [alice.id] });
    const before = lists.stats();
    onCommand = (event) => {
      if (event.commandName !== 'find' || event.command.find !== 'chat_members') return;
      onCommand = null;
      // Someone else's invalidation (B's own publish: delivered here at once) during alice's load.
      void servicesOf(b).views.publish({ c: [], u: [dave.id] });
    };
    const read = await list(b, alice, 'limit=3');
    expect(onCommand).toBeNull();
    expect(read.commands.length).toBeGreaterThan(0);
    expect(lists.stats().notStored).toBe(before.notStored + 1);
    expect((await list(b, alice, 'limit=3')).commands.length).toBeGreaterThan(0);
    expect((await list(b, alice, 'limit=3')).commands).toEqual([]);
  });

  it('with the channel down, every list read on B goes to the store and is current', async () => {
    await warm(b, alice);
    await servicesOf(b).views.close();
    expect(servicesOf(b).views.channel.live()).toBe(false);
    for (let i = 0; i < 2; i += 1) expect((await list(b, alice)).commands.filter((c) => c.startsWith('find:chat_')).sort()).toEqual(['find:chat_conversations', 'find:chat_members']);
    await send(a, bob, withBob, 'while B cannot hear');
    expect((await list(b, alice)).body.data[0]).toMatchObject({ id: withBob, lastMessage: { preview: 'while B cannot hear' } });
  });
});

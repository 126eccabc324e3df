import { randomUUID } from 'node:crypto';
import type { CommandStartedEvent } from 'mongodb';
import type { Socket } from 'socket.io-client';
import { currentRequestId } from '../../src/platform/request-context';
import { encodeCursor } from '../../src/platform/pagination';
import { parseViewsInvalidation, viewsChannelName } from '../../src/modules/chat/views-channel';
import type { ChatModule } from '../../src/modules/chat';
import { startTestServer, type TestServer } from '../helpers/server';
import { until } from '../helpers/until';
import { bearer, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, nextEvent, openSocket, servicesOf, users } from './chat-helpers';

type Message = { id: string; seq: number; text: string | null; edited: boolean; deletedAt: string | null; reactions: { userId: string; emoji: string }[]; type: string };
type Page = { data: Message[]; page: { nextCursor: string | null; limit: number } };



/**
 * Message pages from the in-process page cache (issue 18): zero store round trips for a page read
 * again, and every write that changes a page (a send, an offer message, an edit, a delete, a
 * reaction) seen by the next read on every process, because it is published on the views channel
 * before it is emitted or answered. Two app instances share MongoDB and Redis; commands are
 * counted per request with the driver's command monitoring.
 */
describe('the message page cache across two processes sharing Redis', () => {
  let a: TestServer;
  let b: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let stranger: TestUser;
  let conversationId: string;
  const sockets: Socket[] = [];
  const commands = new Map<string, CommandStartedEvent[]>();
  /** Called for each store command of an attributed request (a test may act in the middle of a load). */
  let onCommand: ((event: CommandStartedEvent) => void) | null = null;

  const monitor = (app: TestServer) =>
    app.ctx.mongo.getClient().on('commandStarted', (event: CommandStartedEvent) => {
      const id = currentRequestId();
      if (!id?.startsWith('pc-')) return;
      commands.set(id, [...(commands.get(id) ?? []), event]);
      onCommand?.(event);
    });

  async function page(app: TestServer, user: TestUser, query = 'limit=50', status = 200, id = conversationId): Promise<{ body: Page; commands: string[] }> {
    const requestId = `pc-${randomUUID()}`;
    const res = await app.api.get(`/api/chat/conversations/${id}/messages?${query}`).set('Authorization', bearer(user)).set('X-Request-Id', requestId);
    expect(res.status).toBe(status);
    return { body: res.body as Page, commands: (commands.get(requestId) ?? []).map((c) => `${c.commandName}:${String(c.command[c.commandName])}`) };
  }

  const send = async (app: TestServer, user: TestUser, text: string, id = conversationId) =>
    (await app.api.post(`/api/chat/conversations/${id}/messages`).set('Authorization', bearer(user)).send({ clientMessageId: clientId('pc'), text }).expect(201)).body.data as Message;

  /**
   * Reads the page until it is served from the cache: the first read stores it; the first hit
   * reads the participant list once if the membership cache does not have it yet; then nothing.
   */
  async function warm(app: TestServer, user: TestUser, query = 'limit=50', id = conversationId): Promise<Page> {
    await page(app, user, query, 200, id);
    const firstHit = await page(app, user, query, 200, id);
    expect(['', 'find:chat_conversations']).toContain(firstHit.commands.join());
    const warmRead = await page(app, user, query, 200, id);
    expect({ query, commands: warmRead.commands }).toEqual({ query, commands: [] });
    expect(warmRead.body).toEqual(firstHit.body);
    return warmRead.body;
  }

  beforeAll(async () => {
    a = await startTestServer({ env: CHAT_TEST_ENV, monitorCommands: true });
    b = await startTestServer({ names: a.names, ownsDatabases: false, monitorCommands: true, env: CHAT_TEST_ENV });
    monitor(a);
    monitor(b);
    await until(
      () => [a, b].every((app) => servicesOf(app).views.channel.live() && servicesOf(app).membership.stats().live),
      'the views and membership channels of both instances',
    );
    [alice, bob, carol, stranger] = (await users(a, 4)) as [TestUser, TestUser, TestUser, TestUser];
    conversationId = await directConversation(a, alice, bob);
    for (let i = 1; i <= 60; i += 1) await send(i % 2 ? a : b, i % 2 ? alice : bob, `history ${i}`);
  }, 120_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await b.close();
    await a.close();
  });

  it('serves a page read again with zero store commands, the same page as the store gives', async () => {
    // Authentication and the participant list in their caches (a different request shape).
    await page(b, alice, 'limit=1');
    await page(b, alice, 'limit=1');
    const cold = await page(b, alice);
    expect(cold.commands.length).toBeGreaterThan(0);
    expect(cold.commands.length).toBeLessThanOrEqual(2);
    const warmRead = await page(b, alice);
    expect(warmRead.commands).toEqual([]);
    expect(warmRead.body).toEqual(cold.body);
    expect(warmRead.body.data.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 60 - i));
    // Each request shape is its own entry: a cursor page and a forward page, cold then warm.
    for (const query of [`limit=20&cursor=${encodeCursor({ s: 30, d: 'backward' })}`, 'limit=10&direction=forward']) {
      const first = await page(b, bob, query);
      expect({ query, cold: first.commands.length > 0 }).toEqual({ query, cold: true });
      const again = await page(b, bob, query);
      expect({ query, commands: again.commands }).toEqual({ query, commands: [] });
      expect(again.body).toEqual(first.body);
    }
    // Search is never cached.
    await page(b, alice, 'search=history&limit=5');
    expect((await page(b, alice, 'search=history&limit=5')).commands.length).toBeGreaterThan(0);
  });

  it('a message sent through A is in the next page read on B and on A', async () => {
    await warm(b, alice);
    await warm(a, bob);
    const sent = await send(a, alice, 'new through A');
    const onB = await page(b, alice);
    expect(onB.body.data[0]).toMatchObject({ id: sent.id, text: 'new through A' });
    expect(onB.commands.length).toBeGreaterThan(0);
    expect((await page(a, bob)).body.data[0]?.id).toBe(sent.id);
  });

  it('a receiver told of a message on B (sent on A) finds it in the page it reads on B at once', async () => {
    await warm(b, bob);
    const socket = await openSocket(b.url, bob);
    sockets.push(socket);
    for (let i = 0; i < 3; i += 1) {
      const text = `live ${i}`;
      const told = nextEvent<Message>(socket, 'chat:message', (m) => m.text === text);
      void send(a, alice, text);
      const message = await told;
      const onB = await page(b, bob);
      expect(onB.body.data[0]).toMatchObject({ id: message.id, text });
    }
  });

  it('an offer message posted through chat\'s contract on A is in the next page on B', async () => {
    await warm(b, bob);
    const chat = a.server.modules.find((m) => m.name === 'chat') as ChatModule;
    const offer = await chat.postOfferMessage(alice.id, conversationId, { clientMessageId: clientId('offer'), offer: { offerId: 'o-1', version: 1 } });
    expect((await page(b, bob)).body.data[0]).toMatchObject({ id: offer.id, type: 'offer' });
  });

  it('an edit, a delete, a reaction and its removal through A are in the next page on B', async () => {
    const message = await send(a, alice, 'to be edited');
    await warm(b, bob);
    await a.api.patch(`/api/chat/messages/${message.id}`).set('Authorization', bearer(alice)).send({ text: 'edited through A' }).expect(200);
    expect((await page(b, bob)).body.data.find((m) => m.id === message.id)).toMatchObject({ text: 'edited through A', edited: true });

    await warm(b, bob);
    await a.api.post(`/api/chat/messages/${message.id}/reactions`).set('Authorization', bearer(bob)).send({ emoji: '👍' }).expect(200);
    expect((await page(b, bob)).body.data.find((m) => m.id === message.id)?.reactions).toEqual([{ userId: bob.id, emoji: '👍' }]);

    await warm(b, bob);
    await a.api.delete(`/api/chat/messages/${message.id}/reactions?emoji=${encodeURIComponent('👍')}`).set('Authorization', bearer(bob)).expect(200);
    expect((await page(b, bob)).body.data.find((m) => m.id === message.id)?.reactions).toEqual([]);

    await warm(b, bob);
    await a.api.delete(`/api/chat/messages/${message.id}`).set('Authorization', bearer(alice)).expect(200);
    const deleted = (await page(b, bob)).body.data.find((m) => m.id === message.id);
    expect(deleted).toMatchObject({ text: null, deletedAt: expect.any(String) });
  });

  it('a member removed through A gets 404 on B at once, with the page still cached for the others', async () => {
    const group = await a.api.post('/api/chat/conversations').set('Authorization', bearer(alice)).send({ type: 'group', title: 'Cached', participantIds: [bob.id, carol.id] }).expect(201);
    const groupId = group.body.data.id as string;
    await send(a, carol, 'carol was here', groupId);
    await warm(b, carol, 'limit=50', groupId);
    await warm(b, bob, 'limit=50', groupId);
    await a.api.delete(`/api/chat/conversations/${groupId}/members/${carol.id}`).set('Authorization', bearer(alice)).expect(204);
    const refused = await page(b, carol, 'limit=50', 404, groupId);
    expect(refused.body).not.toHaveProperty('data');
    expect((await page(b, bob, 'limit=50', 200, groupId)).body.data.map((m) => m.text)).toEqual(['carol was here']);
  });

  it('a stranger gets 404 on the process that has the page cached, and is never served it', async () => {
    await warm(b, alice);
    for (const query of ['limit=50', `limit=20&cursor=${encodeCursor({ s: 30, d: 'backward' })}`]) {
      const refused = await page(b, stranger, query, 404);
      expect(refused.body).not.toHaveProperty('data');
    }
  });

  it('does not store a page read from the store while an invalidation arrived', async () => {
    const pages = servicesOf(b).views.pages;
    // Another conversation's invalidation arrives (B's own publish: delivered here at once) while
    // B reads this page from the store.
    const other = await directConversation(a, alice, carol);
    await send(a, alice, 'uncached shape first');
    const query = 'limit=7';
    const before = pages.stats();
    onCommand = (event) => {
      if (event.commandName !== 'find' || event.command.find !== 'chat_messages') return;
      onCommand = null;
      void servicesOf(b).views.publish({ c: [other], u: [] });
    };
    const first = await page(b, alice, query);
    expect(onCommand).toBeNull();
    expect(first.commands.length).toBeGreaterThan(0);
    expect(pages.stats().notStored).toBe(before.notStored + 1);
    // So the next read goes to the store again, and then is stored.
    expect((await page(b, alice, query)).commands.length).toBeGreaterThan(0);
    expect((await page(b, alice, query)).commands).toEqual([]);

    // The same through Redis: an invalidation published on A arriving on B during B's load.
    const token = pages.begin();
    const seen = pages.stats().invalidations;
    await servicesOf(a).views.publish({ c: [other], u: [] });
    await until(() => pages.stats().invalidations > seen, 'the invalidation on B');
    pages.store(conversationId, 'backward:top:3', [], token);
    expect(pages.peek(conversationId, 'backward:top:3')).toBeNull();
  });

  it('ignores a malformed message on the channel', async () => {
    expect(parseViewsInvalidation('{"c":["x"],"u":[]}')).toEqual({ c: ['x'], u: [] });
    for (const raw of ['nope', 'null', '[]', '{"c":["x"]}', '{"c":"x","u":[]}', '{"c":[1],"u":[]}', '{"c":[],"u":[null]}']) {
      expect({ raw, parsed: parseViewsInvalidation(raw) }).toEqual({ raw, parsed: null });
    }
    await warm(b, alice);
    const seen = servicesOf(b).views.pages.stats().invalidations;
    const redis = a.ctx.redis;
    if (!redis) throw new Error('the test needs Redis');
    await redis.publish(viewsChannelName(a.ctx.config.redis.keyPrefix), JSON.stringify({ c: conversationId }));
    // A well-formed message after it: once it has arrived, the malformed one has been handled (ignored).
    await servicesOf(a).views.publish({ c: [], u: [] });
    await until(() => servicesOf(b).views.pages.stats().invalidations > seen, 'the well-formed message on B');
    expect(servicesOf(b).views.pages.stats().invalidations).toBe(seen + 1);
    expect(servicesOf(b).views.channel.live()).toBe(true);
    expect((await page(b, alice)).commands).toEqual([]);
  });

  it('with the channel down, every page read on B goes to the store and is current', async () => {
    await warm(b, alice);
    await servicesOf(b).views.close();
    expect(servicesOf(b).views.channel.live()).toBe(false);
    for (let i = 0; i < 2; i += 1) {
      const read = await page(b, alice);
      expect(read.commands.length).toBeGreaterThan(0);
      expect(read.commands.length).toBeLessThanOrEqual(2);
    }
    // A's publish cannot reach B's closed subscriber: B is still current because it reads the store.
    const sent = await send(a, bob, 'while B cannot hear');
    expect((await page(b, alice)).body.data[0]?.id).toBe(sent.id);
    // And B's own edits are visible on B too.
    await b.api.patch(`/api/chat/messages/${sent.id}`).set('Authorization', bearer(bob)).send({ text: 'edited on B' }).expect(200);
    expect((await page(b, alice)).body.data[0]?.text).toBe('edited on B');
  });
});

describe('the message page cache turned off', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    app = await startTestServer({ env: { ...CHAT_TEST_ENV, CHAT_PAGE_CACHE_MAX_CONVERSATIONS: '0' } });
    [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
  });
  afterAll(() => app.close());

  it('reads every page from the store and stores nothing', async () => {
    const id = await directConversation(app, alice, bob);
    await app.api.post(`/api/chat/conversations/${id}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: clientId(), text: 'hi' }).expect(201);
    for (let i = 0; i < 3; i += 1) {
      const res = await app.api.get(`/api/chat/conversations/${id}/messages`).set('Authorization', bearer(bob)).expect(200);
      expect(res.body.data.map((m: Message) => m.text)).toEqual(['hi']);
    }
    expect(servicesOf(app).views.pages.stats()).toMatchObject({ hits: 0, stored: 0, conversations: 0 });
  });
});

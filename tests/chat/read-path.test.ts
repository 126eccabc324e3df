import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { CommandStartedEvent } from 'mongodb';
import { currentRequestId } from '../../src/platform/request-context';
import { encodeCursor } from '../../src/platform/pagination';
import { messagePageKeys } from '../../src/modules/chat/message-pages';
import { chatServicesOf } from '../../src/modules/chat/chat.services';
import { profileChanges } from '../../src/modules/users/profile-summaries';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, users } from './chat-helpers';

/**
 * The two reads a mobile app repeats all day (issue 18): the message page and the conversation
 * list. The store round trips of one request are counted with the driver's command monitoring,
 * attributed to the request by its async context, so a regression in the COUNT fails here.
 */
describe('chat read path: store round trips and pages deep in a long history', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let long: string;
  const commands = new Map<string, CommandStartedEvent[]>();
  const HISTORY = 600;
  const SENT = 5;
  const TOTAL = HISTORY + SENT;

  type Message = { seq: number; text: string };
  type Page = { data: Message[]; page: { nextCursor: string | null; limit: number } };

  /** A GET with its own request id; answers the body and the store commands the request issued. */
  async function get(user: TestUser, path: string, status = 200): Promise<{ body: Page; commands: CommandStartedEvent[] }> {
    const id = `rp-${randomUUID()}`;
    const res = await app.api.get(path).set('Authorization', bearer(user)).set('X-Request-Id', id);
    expect(res.status).toBe(status);
    return { body: res.body as Page, commands: commands.get(id) ?? [] };
  }

  /** Stores `count` messages numbered from `from` as the send path shapes them, without or with page keys. */
  async function storeHistory(conversationId: string, senders: string[], from: number, count: number, withKeys: boolean) {
    const now = Date.now();
    const docs = Array.from({ length: count }, (_, i) => {
      const seq = from + i;
      const at = new Date(now - (count - i) * 1_000);
      return {
        _id: new Types.ObjectId(), conversationId: new Types.ObjectId(conversationId), seq, senderId: new Types.ObjectId(senders[seq % senders.length]),
        clientMessageId: `history-${conversationId}-${seq}`, type: 'text', text: `history ${seq}`, attachments: [], offer: null, replyTo: null,
        reactions: [], editedAt: null, deletedAt: null, changeSeq: seq, ...(withKeys ? { pageKeys: messagePageKeys(conversationId, seq) } : {}),
        createdAt: at, updatedAt: at,
      };
    });
    for (let i = 0; i < docs.length; i += 200) await app.ctx.mongo.collection('chat_messages').insertMany(docs.slice(i, i + 200));
    await app.ctx.mongo.collection('chat_conversations').updateOne({ _id: new Types.ObjectId(conversationId) }, { $set: { lastSeq: from + count - 1 } });
  }

  const send = (user: TestUser, conversationId: string, text: string) =>
    app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(user)).send({ clientMessageId: clientId(), text }).expect(201);

  /** Every page from the first, following nextCursor: the numbers in the order they came. */
  async function walk(user: TestUser, conversationId: string, query: string): Promise<{ seqs: number[]; maxCommands: number }> {
    const seqs: number[] = [];
    let maxCommands = 0;
    let cursor: string | null = null;
    do {
      const suffix: string = cursor ? `&cursor=${cursor}` : '';
      const { body, commands: issued } = await get(user, `/api/chat/conversations/${conversationId}/messages?${query}${suffix}`);
      seqs.push(...body.data.map((m) => m.seq));
      maxCommands = Math.max(maxCommands, issued.length);
      cursor = body.page.nextCursor;
    } while (cursor);
    return { seqs, maxCommands };
  }

  const range = (from: number, to: number) => Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (from <= to ? from + i : from - i));

  beforeAll(async () => {
    app = await startTestServer({ monitorCommands: true, env: CHAT_TEST_ENV });
    app.ctx.mongo.getClient().on('commandStarted', (event: CommandStartedEvent) => {
      const id = currentRequestId();
      if (id?.startsWith('rp-')) commands.set(id, [...(commands.get(id) ?? []), event]);
    });
    [alice, bob, carol] = (await users(app, 3)) as [TestUser, TestUser, TestUser];
    long = await directConversation(app, alice, bob);
    await storeHistory(long, [alice.id, bob.id], 1, HISTORY, true);
    for (let i = 1; i <= SENT; i += 1) await send(i % 2 ? bob : alice, long, `sent ${HISTORY + i}`);
  }, 60_000);
  afterAll(() => app.close());

  it('answers a message page with at most two store round trips, the newest and one deep in the history alike, the messages read by one page-key equality', async () => {
    // Warm the access cache: authentication costs nothing in the steady state.
    await get(alice, `/api/chat/conversations/${long}/messages?limit=1`);
    const cases: { query: string; expected: number[] }[] = [
      { query: 'limit=50', expected: range(TOTAL, TOTAL - 49) },
      { query: `limit=50&cursor=${encodeCursor({ s: 101, d: 'backward' })}`, expected: range(100, 51) },
      { query: `limit=20&cursor=${encodeCursor({ s: 3, d: 'backward' })}`, expected: [2, 1] },
      { query: 'limit=50&direction=forward', expected: range(1, 50) },
      { query: `limit=100&cursor=${encodeCursor({ s: 450, d: 'forward' })}`, expected: range(451, 550) },
      { query: `limit=30&cursor=${encodeCursor({ s: TOTAL - 2, d: 'forward' })}`, expected: [TOTAL - 1, TOTAL] },
    ];
    for (const { query, expected } of cases) {
      const { body, commands: issued } = await get(alice, `/api/chat/conversations/${long}/messages?${query}`);
      expect({ query, seqs: body.data.map((m) => m.seq) }).toEqual({ query, seqs: expected });
      expect({ query, roundTrips: issued.length }).toEqual({ query, roundTrips: 2 });
      const finds = issued.filter((c) => c.commandName === 'find').map((c) => ({ collection: c.command.find, filter: c.command.filter as Record<string, unknown> }));
      expect(finds.map((f) => f.collection).sort()).toEqual(['chat_conversations', 'chat_messages']);
      const messageFilter = finds.find((f) => f.collection === 'chat_messages')?.filter ?? {};
      // One equality on a single indexed field (what the local store serves from an index), no range on the conversation.
      expect(typeof messageFilter.pageKeys).toBe('string');
      expect(messageFilter.conversationId).toBeUndefined();
      // That read was cold (the shape was new): read again, it comes from the page cache with the
      // participant list from the membership cache, no store round trip, and the same answer.
      const again = await get(alice, `/api/chat/conversations/${long}/messages?${query}`);
      expect({ query, roundTrips: again.commands.length }).toEqual({ query, roundTrips: 0 });
      expect(again.body).toEqual(body);
    }
  });

  it('walks the whole history in both directions, every message exactly once and in order', async () => {
    const backward = await walk(alice, long, 'limit=50');
    expect(backward.seqs).toEqual(range(TOTAL, 1));
    expect(backward.maxCommands).toBeLessThanOrEqual(2);
    const forward = await walk(bob, long, 'limit=64&direction=forward');
    expect(forward.seqs).toEqual(range(1, TOTAL));
    expect(forward.maxCommands).toBeLessThanOrEqual(2);
  });

  it('finds the newest messages when the conversation summary lags behind them', async () => {
    const conversations = app.ctx.mongo.collection('chat_conversations');
    try {
      for (const lagging of [TOTAL - 3, TOTAL - 40, 0]) {
        await conversations.updateOne({ _id: new Types.ObjectId(long) }, { $set: { lastSeq: lagging } });
        const { body } = await get(alice, `/api/chat/conversations/${long}/messages?limit=10`);
        expect({ lagging, seqs: body.data.map((m) => m.seq) }).toEqual({ lagging, seqs: range(TOTAL, TOTAL - 9) });
      }
    } finally {
      await conversations.updateOne({ _id: new Types.ObjectId(long) }, { $set: { lastSeq: TOTAL } });
    }
  });

  it('pages messages stored before page keys existed, and searches, through the range query', async () => {
    const legacy = await directConversation(app, alice, carol);
    await storeHistory(legacy, [alice.id, carol.id], 1, 130, false);
    await send(carol, legacy, 'after the upgrade 131');
    await send(alice, legacy, 'after the upgrade 132');
    expect((await walk(alice, legacy, 'limit=25')).seqs).toEqual(range(132, 1));
    expect((await walk(carol, legacy, 'limit=40&direction=forward')).seqs).toEqual(range(1, 132));
    const found = await get(alice, `/api/chat/conversations/${legacy}/messages?search=${encodeURIComponent('history 12')}&limit=100`);
    expect(found.body.data.map((m) => m.seq).sort((a, b) => a - b)).toEqual([12, ...range(120, 129)]);
  });

  it('answers 404 to someone outside the conversation and to a member who left, with or without a cursor', async () => {
    for (const query of ['limit=10', `limit=10&cursor=${encodeCursor({ s: 50, d: 'backward' })}`, 'direction=forward']) {
      await get(carol, `/api/chat/conversations/${long}/messages?${query}`, 404);
      await get(carol, `/api/chat/conversations/${new Types.ObjectId().toHexString()}/messages?${query}`, 404);
    }
    const group = await app.api.post('/api/chat/conversations').set('Authorization', bearer(alice)).send({ type: 'group', title: 'Leavers', participantIds: [bob.id, carol.id] }).expect(201);
    const groupId = group.body.data.id as string;
    await send(carol, groupId, 'hello before leaving');
    await get(carol, `/api/chat/conversations/${groupId}/messages`);
    await app.api.delete(`/api/chat/conversations/${groupId}/members/${carol.id}`).set('Authorization', bearer(carol)).expect(204);
    await get(carol, `/api/chat/conversations/${groupId}/messages`, 404);
    await get(carol, `/api/chat/conversations/${groupId}/messages?cursor=${encodeCursor({ s: 2, d: 'backward' })}`, 404);
  });

  it('answers the conversation list with at most two store round trips, whatever the number of conversations, with exact unread counts', async () => {
    const [dave, ...others] = await users(app, 7);
    const ids: string[] = [];
    for (const other of others) ids.push(await directConversation(app, dave!, other));
    for (const [k, id] of ids.entries()) for (let n = 0; n <= k; n += 1) await send(others[k]!, id, `for dave ${n}`);
    // Profiles: a list reads each person users' cache does not hold once, by _id, and nobody once
    // they are held. The others' documents are dropped first, as a write to them would drop them
    // (registering cached them already).
    await profileChanges(app.ctx.mongo).changed(others.map((o) => o.id));
    const cold = await get(dave!, '/api/chat/conversations?limit=20');
    expect(cold.commands.filter((c) => c.command.find === 'users')).toHaveLength(others.length);
    expect(cold.commands.filter((c) => c.command.find === 'users').map((c) => Object.keys(c.command.filter as object))).toEqual(others.map(() => ['_id']));
    // The cold path: dave's cached list pages dropped as a write of his member row drops them.
    const dropDavesLists = () => chatServicesOf.get(app.ctx)!.views.publish({ c: [], u: [dave!.id] });
    for (const limit of [2, 20]) {
      await dropDavesLists();
      const { body, commands: issued } = await get(dave!, `/api/chat/conversations?limit=${limit}`);
      expect({ limit, roundTrips: issued.length }).toEqual({ limit, roundTrips: 2 });
      expect(issued.map((c) => `${c.commandName} ${String(c.command[c.commandName])}`).sort()).toEqual(['find chat_conversations', 'find chat_members']);
      // Warm: the same page from the list cache, no round trip.
      const again = await get(dave!, `/api/chat/conversations?limit=${limit}`);
      expect({ limit, roundTrips: again.commands.length }).toEqual({ limit, roundTrips: 0 });
      expect(again.body).toEqual(body);
      const rows = body.data as unknown as { id: string; unreadCount: number; participants: { userId: string; lastReadSeq?: number }[] }[];
      expect(rows.map((r) => r.id)).toEqual([...ids].reverse().slice(0, limit));
      for (const row of rows) {
        const k = ids.indexOf(row.id);
        expect(row.unreadCount).toBe(k + 1);
        expect(row.participants.map((p) => p.userId).sort()).toEqual([dave!.id, others[k]!.id].sort());
        expect(row.participants.find((p) => p.userId === dave!.id)?.lastReadSeq).toBe(0);
      }
    }
    await dropDavesLists();
    const second = await get(dave!, `/api/chat/conversations?limit=4&cursor=${(await get(dave!, '/api/chat/conversations?limit=4')).body.page.nextCursor}`);
    expect(second.commands).toHaveLength(2);
    expect((second.body.data as unknown as { id: string }[]).map((r) => r.id)).toEqual([...ids].reverse().slice(4));
  }, 120_000);
});

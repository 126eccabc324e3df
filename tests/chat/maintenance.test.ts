import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { CommandStartedEvent } from 'mongodb';
import { Types } from 'mongoose';
import { currentRequestId } from '../../src/platform/request-context';
import { createLocks } from '../../src/platform/locks';
import { getChatModels } from '../../src/modules/chat/chat.model';
import { createChatMaintenance, type ChatMaintenance, type MaintenanceDoc } from '../../src/modules/chat/chat-maintenance';
import { messagePageKeys } from '../../src/modules/chat/message-pages';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, users } from './chat-helpers';

type Page = { data: { seq: number; text: string }[]; page: { nextCursor: string | null } };
type Row = { id: string; lastSeq: number; unreadCount: number; participants: { userId: string }[] };

/**
 * Chat's upkeep (issue 18): messages stored before page keys get them from the backfill and are
 * then served by the one-window page query; and the state every view reads (lastSeq, positions,
 * the participant list) is recomputed from the source rows after being corrupted on purpose.
 */
describe('chat maintenance: the page-key backfill and the repair of derived state', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let maintenance: ChatMaintenance;
  const commands = new Map<string, CommandStartedEvent[]>();

  async function page(user: TestUser, path: string): Promise<{ body: Page; commands: CommandStartedEvent[] }> {
    const id = `mt-${randomUUID()}`;
    const res = await app.api.get(path).set('Authorization', bearer(user)).set('X-Request-Id', id).expect(200);
    return { body: res.body as Page, commands: commands.get(id) ?? [] };
  }

  /** Messages as the send path stored them before page keys existed: no `pageKeys`. */
  async function storeOldHistory(conversationId: string, from: number, count: number, withKeys = false) {
    const now = Date.now();
    const docs = Array.from({ length: count }, (_, i) => {
      const seq = from + i;
      const at = new Date(now - (count - i) * 1_000);
      return {
        _id: new Types.ObjectId(), conversationId: new Types.ObjectId(conversationId), seq, senderId: new Types.ObjectId(seq % 2 ? alice.id : bob.id),
        clientMessageId: `old-${conversationId}-${seq}`, type: 'text', text: `old ${seq}`, attachments: [], offer: null, replyTo: null,
        reactions: [], editedAt: null, deletedAt: null, changeSeq: seq, ...(withKeys ? { pageKeys: messagePageKeys(conversationId, seq) } : {}),
        createdAt: at, updatedAt: at,
      };
    });
    await app.ctx.mongo.collection('chat_messages').insertMany(docs);
    await app.ctx.mongo.collection('chat_conversations').updateOne({ _id: new Types.ObjectId(conversationId) }, { $set: { lastSeq: from + count - 1 } });
  }

  beforeAll(async () => {
    // The view caches off: these tests count the store path of a page (the backfill changes no view,
    // so it invalidates none) and corrupt documents behind the app's back (page-cache.test.ts and
    // list-cache.test.ts show a repair reaching cached lists).
    app = await startTestServer({ monitorCommands: true, env: { ...CHAT_TEST_ENV, CHAT_PAGE_CACHE_MAX_CONVERSATIONS: '0', CHAT_LIST_CACHE_MAX_USERS: '0' } });
    app.ctx.mongo.getClient().on('commandStarted', (event: CommandStartedEvent) => {
      const id = currentRequestId();
      if (id?.startsWith('mt-')) commands.set(id, [...(commands.get(id) ?? []), event]);
    });
    const marker: Collection<MaintenanceDoc> = app.ctx.mongo.collection('chat_maintenance');
    maintenance = createChatMaintenance({ models: getChatModels(app.ctx.mongo), locks: createLocks(app.ctx.mongo), marker });
    // The app's scheduled backfill then skips (its tick may fall inside this file): the tests run it themselves.
    await marker.updateOne({ _id: 'page-keys-backfill' }, { $set: { doneAt: new Date(), updated: 0 } }, { upsert: true });
    [alice, bob, carol] = (await users(app, 3)) as [TestUser, TestUser, TestUser];
  }, 120_000);
  afterAll(() => app.close());

  it('an old message without page keys appears in one-window pages after the backfill', async () => {
    const conversationId = await directConversation(app, alice, bob);
    await storeOldHistory(conversationId, 1, 120);
    const path = `/api/chat/conversations/${conversationId}/messages?limit=50`;

    // Before: the window has none of them, so the page falls back to the range query (more trips).
    const before = await page(alice, path);
    expect(before.body.data.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 120 - i));

    const result = await maintenance.backfillPageKeys({ force: true, batchSize: 32 });
    expect(result).toMatchObject({ done: true, skipped: false });
    expect(result.updated).toBeGreaterThanOrEqual(120);
    const stored = await app.ctx.mongo.collection('chat_messages').findOne({ conversationId: new Types.ObjectId(conversationId), seq: 7 });
    expect(stored?.pageKeys).toEqual(messagePageKeys(conversationId, 7));

    // After: the newest page and a page after a cursor are each two round trips, the messages
    // query an equality on pageKeys, and every old message is reached.
    const after = await page(alice, path);
    expect(after.body.data).toEqual(before.body.data);
    expect(after.commands).toHaveLength(2);
    const find = after.commands.find((c) => c.command.find === 'chat_messages');
    expect(typeof (find?.command.filter as Record<string, unknown>).pageKeys).toBe('string');
    const seqs: number[] = after.body.data.map((m) => m.seq);
    let cursor = after.body.page.nextCursor;
    while (cursor) {
      const next = await page(alice, `${path}&cursor=${cursor}`);
      expect(next.commands).toHaveLength(2);
      seqs.push(...next.body.data.map((m) => m.seq));
      cursor = next.body.page.nextCursor;
    }
    expect(seqs).toEqual(Array.from({ length: 120 }, (_, i) => 120 - i));
    expect(before.commands.length).toBeGreaterThan(after.commands.length);
  });

  it('is idempotent and resumable: a second run changes nothing, a half-done history is finished', async () => {
    expect((await maintenance.backfillPageKeys()).skipped).toBe(true);
    expect((await maintenance.backfillPageKeys({ force: true })).updated).toBe(0);
    const conversationId = await directConversation(app, bob, carol);
    // As if a run had stopped half-way: the first 40 have keys, the next 40 do not.
    await storeOldHistory(conversationId, 1, 40, true);
    await app.ctx.mongo.collection('chat_conversations').updateOne({ _id: new Types.ObjectId(conversationId) }, { $set: { lastSeq: 0 } });
    await storeOldHistory(conversationId, 41, 40);
    const result = await maintenance.backfillPageKeys({ force: true });
    expect(result.updated).toBe(40);
    const walked = await page(bob, `/api/chat/conversations/${conversationId}/messages?limit=50`);
    expect(walked.commands).toHaveLength(2);
    expect(walked.body.data.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 80 - i));
  });

  it('a stranger still gets 404 for the backfilled conversation', async () => {
    const conversationId = await directConversation(app, alice, bob);
    const res = await app.api.get(`/api/chat/conversations/${conversationId}/messages?limit=50`).set('Authorization', bearer(carol)).expect(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('the repair restores lastSeq, unread counts, positions and the participant list corrupted on purpose', async () => {
    const created = await app.api.post('/api/chat/conversations').set('Authorization', bearer(alice)).send({ type: 'group', title: 'Repair', participantIds: [bob.id] }).expect(201);
    const conversationId = created.body.data.id as string;
    for (let i = 0; i < 5; i += 1) {
      await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: clientId(), text: `m${i}` }).expect(201);
    }
    await app.api.post(`/api/chat/conversations/${conversationId}/read`).set('Authorization', bearer(bob)).send({ seq: 3 }).expect(200);
    const listOf = async (user: TestUser) =>
      ((await app.api.get('/api/chat/conversations?limit=100').set('Authorization', bearer(user)).expect(200)).body.data as Row[]).find((r) => r.id === conversationId);
    const healthy = { alice: await listOf(alice), bob: await listOf(bob) };
    expect(healthy.alice).toMatchObject({ lastSeq: 5, unreadCount: 0 });
    expect(healthy.bob).toMatchObject({ lastSeq: 5, unreadCount: 2 });

    // Corrupt: the summary lags and with it the senders' numbers written by the same update (a
    // crash before it moved), so alice's own messages count as unread; bob's delivered position is
    // behind his read one, and a stranger id sits in the participant list with no member row.
    const oid = new Types.ObjectId(conversationId);
    await app.ctx.mongo
      .collection('chat_conversations')
      .updateOne({ _id: oid }, { $set: { lastSeq: 2 }, $unset: { sentSeq: '' }, $push: { participantIds: new Types.ObjectId(carol.id) } } as never);
    await app.ctx.mongo.collection('chat_members').updateOne({ _id: `${conversationId}:${alice.id}` } as never, { $set: { lastReadSeq: 0, lastDeliveredSeq: 0 } });
    await app.ctx.mongo.collection('chat_members').updateOne({ _id: `${conversationId}:${bob.id}` } as never, { $set: { lastDeliveredSeq: 1 } });
    expect(await listOf(alice)).toMatchObject({ lastSeq: 2, unreadCount: 2 });

    const repaired = await maintenance.repairConversation(conversationId);
    expect(repaired?.fixed.length).toBeGreaterThanOrEqual(3);
    expect(await listOf(alice)).toMatchObject({ lastSeq: 5, unreadCount: 0 });
    expect(await listOf(bob)).toMatchObject({ lastSeq: 5, unreadCount: 2 });
    const conversation = await app.ctx.mongo.collection('chat_conversations').findOne({ _id: oid });
    expect((conversation?.participantIds as Types.ObjectId[]).map(String).sort()).toEqual([alice.id, bob.id].sort());
    expect((conversation?.lastMessage as { preview: string }).preview).toBe('m4');
    const bobRow = await app.ctx.mongo.collection('chat_members').findOne({ _id: `${conversationId}:${bob.id}` } as never);
    expect(bobRow).toMatchObject({ lastReadSeq: 3, lastDeliveredSeq: 3 });
    // The stranger put in the list by the corruption never became a participant.
    await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(carol)).expect(404);

    // A second repair finds nothing; repairAll passes every conversation.
    expect((await maintenance.repairConversation(conversationId))?.fixed).toEqual([]);
    const all = await maintenance.repairAll();
    // alice–bob, bob–carol and the group. The two histories stored by hand above had their
    // senders' positions at 0 (a sender has read what they sent): those are fixed, then nothing is.
    expect(all.checked).toBe(3);
    expect(all.repaired.map((r) => r.conversationId)).not.toContain(conversationId);
    expect(all.repaired).toHaveLength(2);
    expect(await maintenance.repairAll()).toEqual({ checked: 3, repaired: [] });
    expect(await maintenance.repairConversation('not-an-id')).toBeNull();
  });

  it("a repair that pulls a participant ends their access at once: the send path's cached participant list is dropped", async () => {
    const admin = await createUser(app, { role: 'admin' });
    const conversationId = await directConversation(app, alice, carol);
    const send = (who: TestUser) =>
      app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(who)).send({ clientMessageId: clientId(), text: 'hello' });
    // Carol's send caches the participant list (what every send is checked against).
    expect((await send(carol)).status).toBe(201);
    // A crash between the two writes of her removal: her member row is closed, the list still names her.
    await app.ctx.mongo.collection('chat_members').updateOne({ _id: `${conversationId}:${carol.id}` as never }, { $set: { leftAt: new Date() } });
    const repaired = await app.api.post(`/api/admin/chat/conversations/${conversationId}/repair`).set('Authorization', bearer(admin)).send({ reason: 'A removal was interrupted' }).expect(200);
    expect(JSON.stringify(repaired.body.data)).toContain(carol.id);
    const refused = await send(carol);
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('NOT_FOUND');
    expect((await send(alice)).status).toBe(201);
  });
});

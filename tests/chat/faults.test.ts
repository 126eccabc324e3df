import { Types } from 'mongoose';
import type { Socket } from 'socket.io-client';
import type { CommandStartedEvent } from 'mongodb';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { Server } from 'socket.io';
import { sendHooks } from '../../src/modules/chat/chat.services';
import { getChatModels } from '../../src/modules/chat/chat.model';
import { createChatStore, createNotifier } from '../../src/modules/chat/chat.store';
import { createMessagesService } from '../../src/modules/chat/messages.service';
import { createEmitClaims } from '../../src/modules/chat/emit-claims';
import { createChangeNumbers } from '../../src/modules/chat/change-numbers';
import { createLocks } from '../../src/platform/locks';
import type { AppError } from '../../src/platform/errors';
import { syncIndexes } from '../../src/platform/mongo';
import { CHAT_TEST_ENV, clientId, directConversation, emit, nextEvent, openSocket, record, users } from './chat-helpers';

// A small lease, so that what a dead instance leaves behind lapses quickly (CHAT_LOCK_LEASE_MS).
const LEASE_MS = 400;
const ENV = { ...CHAT_TEST_ENV, CHAT_LOCK_LEASE_MS: String(LEASE_MS) };

type Ack = { ok: boolean; data?: { id: string; seq: number; clientMessageId: string }; error?: { code: string; details?: { field: string; message: string }[] } };
type Message = { id: string; seq: number; clientMessageId: string; text: string };

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Counts the MongoDB commands an instance sends, by name, while `during` runs. */
/** Every collection the send path may read: messages, emit claims, members, conversations, and authentication's. */
const SEND_PATH_COLLECTIONS = ['chat_messages', 'chat_message_emits', 'chat_members', 'chat_conversations', 'users', 'auth_sessions'];

async function countCommands(app: TestServer, during: () => Promise<unknown>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const listener = (event: CommandStartedEvent) => {
    counts[event.commandName] = (counts[event.commandName] ?? 0) + 1;
    // Also by collection, so an assertion can be about chat's reads and not the app's background work.
    const collection = (event.command as Record<string, unknown>)[event.commandName];
    const key = `${event.commandName} ${typeof collection === 'string' ? collection : '?'}`;
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const client = app.ctx.mongo.getClient();
  client.on('commandStarted', listener);
  try {
    await during();
  } finally {
    client.off('commandStarted', listener);
  }
  return counts;
}

describe('chat when an instance dies or retries pile up', () => {
  // `survivor` owns the databases; the others share them and may go away mid-test.
  let survivor: TestServer;
  let doomed: TestServer | undefined;
  const sockets: Socket[] = [];
  let alice: TestUser;
  let bob: TestUser;
  let conversationId: string;

  beforeAll(async () => {
    survivor = await startTestServer({ env: ENV, monitorCommands: true });
    [alice, bob] = (await users(survivor, 2)) as [TestUser, TestUser];
    conversationId = await directConversation(survivor, alice, bob);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await doomed?.close();
    await survivor.close();
  });

  const seqsOf = async () => {
    const res = await survivor.api.get(`/api/chat/conversations/${conversationId}/messages?limit=100&direction=forward`).set('Authorization', bearer(bob)).expect(200);
    return (res.body.data as Message[]).map((m) => m.seq);
  };
  const dense = (seqs: number[]) => seqs.every((seq, i) => seq === i + 1);

  it('delivers a message live exactly once when its sender instance stops between the write and the ack, once the sender retries elsewhere', async () => {
    doomed = await startTestServer({ env: ENV, names: survivor.names, ownsDatabases: false });
    const receiver = await openSocket(survivor.url, bob);
    sockets.push(receiver);
    const received = record<Message>(receiver, 'chat:message');

    const stored = deferred();
    // The doomed instance stores the message and then never gets further (as if it died there).
    sendHooks.set(doomed.ctx, { afterStore: () => (stored.resolve(), new Promise<void>(() => undefined)) });
    const first = await openSocket(doomed.url, alice);
    const clientMessageId = clientId('dies');
    void emit(first, 'chat:send', { conversationId, clientMessageId, text: 'stored, then the process died' }).catch(() => undefined);
    await stored.promise;
    first.close();
    await doomed.close();
    doomed = undefined;

    // The app reconnects to the surviving instance and resends its outbox with the same id.
    const second = await openSocket(survivor.url, alice);
    sockets.push(second);
    const ack = (await emit(second, 'chat:send', { conversationId, clientMessageId, text: 'stored, then the process died' })) as Ack;
    expect(ack).toMatchObject({ ok: true, data: { clientMessageId, seq: 1 } });
    const again = (await emit(second, 'chat:send', { conversationId, clientMessageId, text: 'stored, then the process died' })) as Ack;
    expect(again.data?.id).toBe(ack.data?.id);

    // A barrier: the next message arrives after any duplicate of the first would have.
    const next = nextEvent<Message>(receiver, 'chat:message', (m) => m.seq === 2);
    const after = (await emit(second, 'chat:send', { conversationId, clientMessageId: clientId('next'), text: 'and the next one' })) as Ack;
    expect(after).toMatchObject({ ok: true, data: { seq: 2 } });
    await next;
    expect(received.seen.filter((m) => m.clientMessageId === clientMessageId)).toHaveLength(1);
    expect(received.seen.map((m) => m.seq)).toEqual([1, 2]);
    expect(dense(await seqsOf())).toBe(true);
  });

  it("lets the next send through once the lease of locks left by a dead instance lapses, and keeps the sequence dense", async () => {
    const locks = survivor.ctx.mongo.collection<{ _id: string; owner: string; expiresAt: Date }>('locks');
    // What a process that died in the middle of a send leaves behind: the conversation's lock (the
    // only one a send takes: the sender's positions are written with the summary), renewed for the
    // last time just now.
    const expiresAt = new Date(Date.now() + LEASE_MS);
    await locks.insertOne({ _id: `chat:conversation:${conversationId}`, owner: 'dead-instance', expiresAt });
    const before = await seqsOf();
    const res = await survivor.api
      .post(`/api/chat/conversations/${conversationId}/messages`)
      .set('Authorization', bearer(alice))
      .send({ clientMessageId: clientId('after-dead-lock'), text: 'after the dead lock' })
      .expect(201);
    expect(res.body.data.seq).toBe(before.length + 1);
    // The summary and the sender's position moved too: the dead locks were taken over, not waited out.
    const conversation = await survivor.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(alice)).expect(200);
    expect(conversation.body.data.lastMessage).toMatchObject({ seq: res.body.data.seq });
    expect(conversation.body.data.unreadCount).toBe(0);
    expect(await locks.countDocuments({ owner: 'dead-instance' })).toBe(0);
    expect(dense(await seqsOf())).toBe(true);
  });

  it('answers 50 concurrent retries of an in-flight clientMessageId with one stored message and a bounded number of store reads, and emits it once', async () => {
    const other = await startTestServer({ env: ENV, names: survivor.names, ownsDatabases: false, monitorCommands: true });
    doomed = other;
    const receiver = await openSocket(survivor.url, bob);
    sockets.push(receiver);
    const received = record<Message>(receiver, 'chat:message');
    const clientMessageId = clientId('inflight');
    const payload = { conversationId, clientMessageId, text: 'retried while in flight' };

    // The first attempt is stored on `other` and held there before it is emitted or acked.
    const stored = deferred();
    const release = deferred();
    sendHooks.set(other.ctx, { afterStore: () => (stored.resolve(), release.promise) });
    const onOther = await openSocket(other.url, alice);
    sockets.push(onOther);
    const firstAck = emit(onOther, 'chat:send', payload) as Promise<Ack>;
    await stored.promise;

    // 50 retries on the same instance: they wait for the first attempt without reading the store,
    // then are told when to retry.
    let sameInstance: Ack[] = [];
    const sameCounts = await countCommands(other, async () => {
      sameInstance = (await Promise.all(Array.from({ length: 50 }, () => emit(onOther, 'chat:send', payload)))) as Ack[];
    });
    // Reads of what a send reads (the app's schedules, e.g. offers' expiry sweep, may run meanwhile).
    expect(SEND_PATH_COLLECTIONS.map((collection) => sameCounts[`find ${collection}`] ?? 0)).toEqual(SEND_PATH_COLLECTIONS.map(() => 0));
    for (const ack of sameInstance) {
      expect(ack).toMatchObject({ ok: false, error: { code: 'SERVICE_UNAVAILABLE' } });
      const hint = ack.error?.details?.find((d) => d.field === 'retryAfterMs');
      expect(Number(hint?.message)).toBeGreaterThan(0);
    }

    // 50 retries on another instance (the app reconnected there): they find the message stored and
    // answer it; one of them emits it, since the first attempt has not.
    const onSurvivor = await openSocket(survivor.url, alice);
    sockets.push(onSurvivor);
    let elsewhere: Ack[] = [];
    const elsewhereCounts = await countCommands(survivor, async () => {
      elsewhere = (await Promise.all(Array.from({ length: 50 }, () => emit(onSurvivor, 'chat:send', payload)))) as Ack[];
    });
    const ids = new Set(elsewhere.map((ack) => ack.data?.id));
    expect(elsewhere.every((ack) => ack.ok)).toBe(true);
    expect(ids.size).toBe(1);
    expect(elsewhereCounts.find ?? 0).toBeLessThanOrEqual(10);

    // The first attempt resumes: it answers the same message and does not emit it again.
    release.resolve();
    expect(await firstAck).toMatchObject({ ok: true, data: { id: [...ids][0] } });
    const barrier = nextEvent<Message>(receiver, 'chat:message', (m) => m.text === 'barrier');
    await emit(onSurvivor, 'chat:send', { conversationId, clientMessageId: clientId('barrier'), text: 'barrier' });
    await barrier;
    expect(received.seen.filter((m) => m.clientMessageId === clientMessageId)).toHaveLength(1);
    const seqs = await seqsOf();
    expect(dense(seqs)).toBe(true);
    const listed = await survivor.api.get(`/api/chat/conversations/${conversationId}/messages?limit=100`).set('Authorization', bearer(bob)).expect(200);
    expect((listed.body.data as Message[]).filter((m) => m.clientMessageId === clientMessageId)).toHaveLength(1);
  });
});

describe('chat send under overload', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let conversationId: string;

  beforeAll(async () => {
    app = await startTestServer({ env: ENV });
    [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    conversationId = await directConversation(app, alice, bob);
  });
  afterAll(() => app.close());

  it('refuses sends beyond the in-flight limit at once with SERVICE_UNAVAILABLE and a retry hint, and takes them once there is room', async () => {
    const models = getChatModels(app.ctx.mongo);
    const store = createChatStore(models, createChangeNumbers(app.ctx.mongo, { syncSettleMs: 0 }), createLocks(app.ctx.mongo, { leaseMs: LEASE_MS }));
    const release = deferred();
    let held = 0;
    // Not attached to an HTTP server: it only gives the notifier rooms to emit to.
    const io = new Server();
    const messages = createMessagesService({
      models,
      store,
      notifier: createNotifier(io),
      emitClaims: createEmitClaims({ models, redis: app.ctx.redis, keyPrefix: app.ctx.config.redis.keyPrefix, retentionMs: 60_000, clock: () => new Date() }),
      consumeSendBudget: async () => undefined,
      maxInFlightSends: 2,
      hooks: { afterStore: () => ((held += 1), release.promise) },
    });
    const send = (id: string) => messages.send(alice.id, conversationId, { clientMessageId: id, text: id });
    const first = [send(clientId('load')), send(clientId('load'))];
    const refusedId = clientId('load');
    const refused = await send(refusedId).then(() => null, (err: AppError) => err);
    expect(refused).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(Number(refused?.details?.find((d) => d.field === 'retryAfterMs')?.message)).toBeGreaterThan(0);
    expect(refused?.headers?.['Retry-After']).toEqual(expect.any(String));
    release.resolve();
    const done = await Promise.all(first);
    expect(done.map((m) => m.seq).sort()).toEqual([1, 2]);
    // The refused send took nothing: retried with the same id, it is stored with the next number.
    expect(await send(refusedId)).toMatchObject({ clientMessageId: refusedId, seq: 3 });
    expect(held).toBe(3);
  });

  it('removes the unnumbered claims an older version left behind when it first builds the unique number index', async () => {
    const { Message } = getChatModels(app.ctx.mongo);
    await Message.collection.dropIndex('conversationId_1_seq_1');
    const other = new Types.ObjectId();
    await Message.collection.insertMany([
      { conversationId: other, senderId: other, clientMessageId: 'old-claim-1', seq: 0, type: 'text' },
      { conversationId: other, senderId: other, clientMessageId: 'old-claim-2', seq: 0, type: 'text' },
    ]);
    await syncIndexes(app.ctx.mongo);
    expect(await Message.countDocuments({ conversationId: other })).toBe(0);
    expect((await Message.collection.indexes()).find((index) => index.name === 'conversationId_1_seq_1')).toMatchObject({ unique: true });
    // Numbered messages are untouched.
    expect(await Message.countDocuments({ conversationId })).toBe(3);
  });
});

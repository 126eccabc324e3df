import { randomUUID } from 'node:crypto';
import type { CommandStartedEvent } from 'mongodb';
import { currentRequestId } from '../../src/platform/request-context';
import { chatServicesOf } from '../../src/modules/chat/chat.services';
import { getChatModels } from '../../src/modules/chat/chat.model';
import { testClock, type TestClock } from '../helpers/clock';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, users } from './chat-helpers';
import { hostAndPort, startTcpProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy';

const membershipOf = (app: TestServer) => {
  const services = chatServicesOf.get(app.ctx);
  if (!services) throw new Error('no chat services on this app');
  return services.membership;
};

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const send = (app: TestServer, user: TestUser, conversationId: string, text = 'hello', requestId = `sp-${randomUUID()}`) =>
  app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(user)).set('X-Request-Id', requestId).send({ clientMessageId: clientId(), text });
const readPage = (app: TestServer, user: TestUser, conversationId: string) =>
  app.api.get(`/api/chat/conversations/${conversationId}/messages?limit=10`).set('Authorization', bearer(user));

async function group(app: TestServer, admin: TestUser, others: TestUser[]): Promise<string> {
  const res = await app.api.post('/api/chat/conversations').set('Authorization', bearer(admin)).send({ type: 'group', title: 'Steel desk', participantIds: others.map((u) => u.id) }).expect(201);
  return res.body.data.id as string;
}

/**
 * The send path's store commands are counted with the driver's command monitoring, attributed to
 * the request by its async context: a count is deterministic, so a regression in it fails here.
 */
describe('chat send: store commands in the steady state', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let conversationId: string;
  const commands = new Map<string, string[]>();

  beforeAll(async () => {
    // A sync settle time as in production (not the tests' 0), so change numbers come in blocks
    // (change-numbers.ts: a block serves a quarter of it, 15 s here, longer than these sends take).
    app = await startTestServer({ monitorCommands: true, env: { ...CHAT_TEST_ENV, CHAT_SYNC_SETTLE_MS: '60000' } });
    app.ctx.mongo.getClient().on('commandStarted', (event: CommandStartedEvent) => {
      const id = currentRequestId();
      if (!id?.startsWith('sp-')) return;
      commands.set(id, [...(commands.get(id) ?? []), `${event.commandName} ${String(event.command[event.commandName])}`]);
    });
    [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    conversationId = await directConversation(app, alice, bob);
  });
  afterAll(() => app.close());

  it('is the message and the summary with the sender’s number under the conversation’s lock with no read (4 commands: the emit claim is in Redis, change numbers come 64 to a claim)', async () => {
    // The first send fills the membership cache and this process's numbering; later ones read nothing.
    await send(app, alice, conversationId, 'first').expect(201);
    for (let i = 0; i < 3; i += 1) {
      const requestId = `sp-${randomUUID()}`;
      const res = await send(app, alice, conversationId, `steady ${i}`, requestId).expect(201);
      expect(res.body.data.seq).toBe(i + 2);
      const issued = (commands.get(requestId) ?? []).sort();
      expect(issued).toEqual([
        'delete locks',
        'insert chat_messages',
        'insert locks',
        'update chat_conversations',
      ]);
    }
    // What the batched write left: the summary at the newest message, the sender with nothing unread, no lock behind.
    const view = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(alice)).expect(200);
    expect(view.body.data).toMatchObject({ lastSeq: 4, lastMessage: { seq: 4 }, unreadCount: 0 });
    const mine = view.body.data.participants.find((p: { userId: string }) => p.userId === alice.id);
    expect(mine).toMatchObject({ lastReadSeq: 4, lastDeliveredSeq: 4 });
    const other = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(bob)).expect(200);
    expect(other.body.data.unreadCount).toBe(4);
    // The sender's positions come from the conversation's sentSeq; their member row was not written.
    expect(await app.ctx.mongo.collection('chat_members').findOne({ _id: `${conversationId}:${alice.id}` } as never)).toMatchObject({ lastReadSeq: 0, lastDeliveredSeq: 0 });
    // A reply from bob is one unread for alice: her own four count as read.
    await send(app, bob, conversationId, 'reply').expect(201);
    const after = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(alice)).expect(200);
    expect(after.body.data).toMatchObject({ lastSeq: 5, unreadCount: 1 });
    expect(after.body.data.participants.find((p: { userId: string }) => p.userId === alice.id)).toMatchObject({ lastReadSeq: 4, lastDeliveredSeq: 4 });
    expect(after.body.data.participants.find((p: { userId: string }) => p.userId === bob.id)).toMatchObject({ lastReadSeq: 5, lastDeliveredSeq: 5 });
    expect(await app.ctx.mongo.collection('locks').countDocuments({ _id: { $regex: `^chat:.*${conversationId}` } } as never)).toBe(0);
  });

  it('folds concurrent sends into one summary write: 12 at once leave the summary and the positions at the highest number', async () => {
    const sent = await Promise.all(Array.from({ length: 12 }, (_, i) => send(app, i % 2 ? alice : bob, conversationId, `burst ${i}`).expect(201)));
    const seqs = sent.map((res) => res.body.data.seq as number).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => i + 6));
    const view = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(alice)).expect(200);
    expect(view.body.data).toMatchObject({ lastSeq: 17, lastMessage: { seq: 17 } });
    const lastOf = (user: TestUser) => Math.max(...sent.filter((_, i) => (i % 2 ? alice : bob) === user).map((res) => res.body.data.seq as number));
    for (const user of [alice, bob]) {
      const participant = view.body.data.participants.find((p: { userId: string }) => p.userId === user.id);
      expect(participant.lastReadSeq).toBeGreaterThanOrEqual(lastOf(user));
    }
  });
  it('a receipt at or below the reader\'s own last message changes nothing; one above it moves their row', async () => {
    const [carol, dave] = (await users(app, 2)) as [TestUser, TestUser];
    const conversation = await directConversation(app, carol, dave);
    for (let i = 0; i < 3; i += 1) await send(app, carol, conversation, `own ${i}`).expect(201);
    const members = app.ctx.mongo.collection('chat_members');
    const before = await members.findOne({ _id: `${conversation}:${carol.id}` } as never);
    const covered = await app.api.post(`/api/chat/conversations/${conversation}/read`).set('Authorization', bearer(carol)).send({ seq: 2 }).expect(200);
    expect(covered.body.data).toMatchObject({ lastReadSeq: 3, lastDeliveredSeq: 3 });
    expect(await members.findOne({ _id: `${conversation}:${carol.id}` } as never)).toEqual(before);
    // Dave replies; carol reading it moves her own row.
    await send(app, dave, conversation, 'reply').expect(201);
    const moved = await app.api.post(`/api/chat/conversations/${conversation}/read`).set('Authorization', bearer(carol)).send({ seq: 4 }).expect(200);
    expect(moved.body.data).toMatchObject({ lastReadSeq: 4, lastDeliveredSeq: 4 });
    expect(await members.findOne({ _id: `${conversation}:${carol.id}` } as never)).toMatchObject({ lastReadSeq: 4, lastDeliveredSeq: 4 });
  });
});

describe('chat membership cache across two processes sharing Redis', () => {
  let a: TestServer;
  let b: TestServer;
  let admin: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;

  beforeAll(async () => {
    a = await startTestServer({ env: CHAT_TEST_ENV });
    b = await startTestServer({ env: CHAT_TEST_ENV, names: a.names, ownsDatabases: false });
    [admin, bob, carol, dave] = (await users(a, 4)) as [TestUser, TestUser, TestUser, TestUser];
    await until(() => membershipOf(a).stats().live && membershipOf(b).stats().live, 'both membership channels');
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('serves a send from the cache, and a member removed on A can neither send nor read on B right after', async () => {
    const conversationId = await group(a, admin, [bob, carol]);
    await send(b, bob, conversationId, 'fills B’s cache').expect(201);
    const before = membershipOf(b).stats();
    await send(b, bob, conversationId, 'from the cache').expect(201);
    // Served from the cache: a hit, and no read (notifications ask the same cache for the recipients).
    expect(membershipOf(b).stats().hits).toBeGreaterThan(before.hits);
    expect(membershipOf(b).stats().misses).toBe(before.misses);

    await a.api.delete(`/api/chat/conversations/${conversationId}/members/${bob.id}`).set('Authorization', bearer(admin)).expect(204);
    expect((await send(b, bob, conversationId, 'after removal').expect(404)).body.error.code).toBe('NOT_FOUND');
    await readPage(b, bob, conversationId).expect(404);
    // The others go on, on both processes.
    await send(b, carol, conversationId, 'still here').expect(201);
    await send(a, carol, conversationId, 'still here on A').expect(201);
  });

  it('a member who leaves on A is refused on B at once; one added on A can send on B at once', async () => {
    const conversationId = await group(a, admin, [bob, carol]);
    await send(b, carol, conversationId).expect(201);
    await send(b, carol, conversationId).expect(201);
    await a.api.delete(`/api/chat/conversations/${conversationId}/members/${carol.id}`).set('Authorization', bearer(carol)).expect(204);
    await send(b, carol, conversationId, 'after leaving').expect(404);

    await send(b, admin, conversationId).expect(201); // B has the list without dave cached
    await a.api.post(`/api/chat/conversations/${conversationId}/members`).set('Authorization', bearer(admin)).send({ userIds: [dave.id] }).expect(200);
    await send(b, dave, conversationId, 'just added').expect(201);
    await readPage(b, dave, conversationId).expect(200);
  });
});


describe('chat membership cache when Redis is unreachable', () => {
  let relay: TcpProxy;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    // express-rate-limit reports every request it lets through while its store is cut.
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    relay = await startTcpProxy(hostAndPort(process.env.REDIS_URL as string));
    a = await startTestServer({ env: CHAT_TEST_ENV });
    b = await startTestServer({ env: { ...CHAT_TEST_ENV, REDIS_URL: viaProxy(process.env.REDIS_URL as string, relay) }, names: a.names, ownsDatabases: false });
    await until(() => membershipOf(b).stats().live, 'B’s membership channel');
  });
  afterAll(async () => {
    relay.up();
    await b.close();
    await a.close();
    relay.close().catch(() => undefined);
  });

  it('B reads participants from the store while its channel is down, so a removal it could not hear still applies, and trusts nothing cached before once back', async () => {
    const [admin, bob, carol] = (await users(a, 3)) as [TestUser, TestUser, TestUser];
    const conversationId = await group(a, admin, [bob, carol]);
    await send(b, bob, conversationId).expect(201);
    await send(b, bob, conversationId).expect(201);
    expect(membershipOf(b).stats().entries).toBeGreaterThan(0);

    relay.down();
    await until(() => !membershipOf(b).stats().live, 'B’s channel down');
    expect(membershipOf(b).stats().entries).toBe(0);
    // Removed on A, which publishes; B cannot hear it.
    await a.api.delete(`/api/chat/conversations/${conversationId}/members/${bob.id}`).set('Authorization', bearer(admin)).expect(204);
    await send(b, bob, conversationId, 'B cannot hear the removal').expect(404);
    await readPage(b, bob, conversationId).expect(404);
    const misses = membershipOf(b).stats().misses;
    await send(b, bob, conversationId, 'still from the store').expect(404);
    expect(membershipOf(b).stats().misses).toBe(misses + 1);

    relay.up();
    await until(() => membershipOf(b).stats().live, 'B’s channel back');
    await send(b, bob, conversationId, 'after the channel is back').expect(404);
    await send(b, carol, conversationId, 'carol is still a member').expect(201);
  });
});

describe('chat emit claims are swept on a schedule (stored claims: no Redis)', () => {
  let app: TestServer;
  let clock: TestClock;

  beforeAll(async () => {
    clock = testClock();
    // Without Redis: that is when emit claims are stored (with Redis they are keys that expire).
    app = await startTestServer({ env: { ...CHAT_TEST_ENV, REDIS_URL: '', CHAT_EMIT_SWEEP_EVERY_MS: '200', CHAT_EMIT_RETENTION_HOURS: '24' }, clock });
  });
  afterAll(() => app.close());

  it('deletes claims older than the retention, day by day, and keeps younger ones; a retry after that is still answered once', async () => {
    expect(app.ctx.jobs.status().schedules).toContain('chat-emits-sweep');
    const { Emit } = getChatModels(app.ctx.mongo);
    const sweeps = app.ctx.mongo.collection<{ _id: string; through: string }>('chat_sweeps');
    const [alice, bob] = (await users(app, 2)) as [TestUser, TestUser];
    const conversationId = await directConversation(app, alice, bob);
    const oldId = clientId('old');
    const old = await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: oldId, text: 'old' }).expect(201);
    // The first run has noted where it stands; the young claim is still there.
    await until(async () => Boolean(await sweeps.findOne({ _id: 'chat_message_emits' })), 'the first sweep');
    expect(await Emit.exists({ _id: old.body.data.id })).not.toBeNull();

    clock.advance(3 * 86_400_000);
    const young = await send(app, alice, conversationId, 'young').expect(201);
    await until(async () => !(await Emit.exists({ _id: old.body.data.id })), 'the old claim to be swept');
    expect(await Emit.exists({ _id: young.body.data.id })).not.toBeNull();
    expect((await Emit.findById(young.body.data.id).lean())?.day).toBe(clock().toISOString().slice(0, 10));

    // A retry that late finds the message stored and answers it (the same message, no new number).
    const retry = await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: oldId, text: 'old' });
    expect([200, 201]).toContain(retry.status);
    expect(retry.body.data).toMatchObject({ id: old.body.data.id, seq: old.body.data.seq });
  });
});

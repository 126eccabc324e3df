import { randomUUID } from 'node:crypto';
import type { CommandStartedEvent } from 'mongodb';
import { currentRequestId } from '../../src/platform/request-context';
import { chatServicesOf } from '../../src/modules/chat/chat.services';
import { createRedisProfileChannel, profileChannelName } from '../../src/modules/users/profile-channel';
import { createProfileSummaryCache, profileChanges } from '../../src/modules/users/profile-summaries';
import { getUserModel } from '../../src/modules/users/user.model';
import { startTestServer, type TestServer } from '../helpers/server';
import { until } from '../helpers/until';
import { bearer, type TestUser, usersModuleOf } from '../helpers/users';
import { CHAT_TEST_ENV, directConversation, users } from './chat-helpers';

type Participant = { userId: string; lastReadSeq?: number; profile?: { name: string; role: string; companyName: string | null; avatarUploadId: string | null } | null };
type Row = { id: string; participants: Participant[] };



/**
 * The conversation list shows the other participants' display name, company and avatar (issue 18):
 * from users' in-process profile cache, so the list stays at two store round trips in the steady
 * state, and a profile changed on one process is shown by the next list on any other.
 */
describe('the conversation list shows who is in each conversation', () => {
  let a: TestServer;
  let b: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let conversationId: string;
  const commands = new Map<string, CommandStartedEvent[]>();

  async function list(app: TestServer, user: TestUser): Promise<{ rows: Row[]; commands: CommandStartedEvent[] }> {
    const id = `lp-${randomUUID()}`;
    const res = await app.api.get('/api/chat/conversations?limit=20').set('Authorization', bearer(user)).set('X-Request-Id', id).expect(200);
    return { rows: res.body.data as Row[], commands: commands.get(id) ?? [] };
  }

  beforeAll(async () => {
    a = await startTestServer({ env: CHAT_TEST_ENV });
    b = await startTestServer({ names: a.names, ownsDatabases: false, monitorCommands: true, env: CHAT_TEST_ENV });
    b.ctx.mongo.getClient().on('commandStarted', (event: CommandStartedEvent) => {
      const id = currentRequestId();
      if (id?.startsWith('lp-')) commands.set(id, [...(commands.get(id) ?? []), event]);
    });
    await until(() => usersModuleOf(a).profileSummaries.stats().live && usersModuleOf(b).profileSummaries.stats().live, 'both profile channels');
    [alice, bob, carol] = (await users(a, 3)) as [TestUser, TestUser, TestUser];
    await a.api.patch('/api/auth/me').set('Authorization', bearer(bob)).send({ name: 'Bob Builder', business: { companyName: 'Bob Steel' } }).expect(200);
    conversationId = await directConversation(a, alice, bob);
  }, 120_000);
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it("shows the other participant's name, company and avatar, and the caller with their positions", async () => {
    const { rows } = await list(b, alice);
    const row = rows.find((r) => r.id === conversationId);
    const other = row?.participants.find((p) => p.userId === bob.id);
    expect(other).toEqual({ userId: bob.id, profile: { name: 'Bob Builder', role: 'user', companyName: 'Bob Steel', avatarUploadId: null } });
    const self = row?.participants.find((p) => p.userId === alice.id);
    expect(self).toMatchObject({ userId: alice.id, lastReadSeq: 0 });
    expect(self).not.toHaveProperty('profile');
  });

  it('costs two store round trips with the list not cached, none once it is: the profiles come from the cache', async () => {
    await list(b, alice);
    // Alice's cached list pages dropped (as a write of her member row drops them): the two reads, no profile read.
    await chatServicesOf.get(b.ctx)!.views.publish({ c: [], u: [alice.id] });
    const { commands: issued } = await list(b, alice);
    expect(issued.map((c) => `${c.commandName}:${String(c.command[c.commandName])}`).sort()).toEqual(['find:chat_conversations', 'find:chat_members']);
    expect((await list(b, alice)).commands).toEqual([]);
  });

  it('a profile changed through process A is shown by the next list on process B', async () => {
    await list(b, alice);
    await a.api.patch('/api/auth/me').set('Authorization', bearer(bob)).send({ name: 'Robert Builder' }).expect(200);
    const { rows } = await list(b, alice);
    const other = rows.find((r) => r.id === conversationId)?.participants.find((p) => p.userId === bob.id);
    expect(other?.profile?.name).toBe('Robert Builder');
    // And on A, whose own write announced it locally.
    const onA = await a.api.get('/api/chat/conversations').set('Authorization', bearer(alice)).expect(200);
    const row = (onA.body.data as Row[]).find((r) => r.id === conversationId);
    expect(row?.participants.find((p) => p.userId === bob.id)?.profile?.name).toBe('Robert Builder');
  });

  it('a stranger neither lists the conversation nor reaches it', async () => {
    const { rows } = await list(b, carol);
    expect(rows.map((r) => r.id)).not.toContain(conversationId);
    await b.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(carol)).expect(404);
  });

  it('a deleted account is listed with a null profile', async () => {
    const dave = (await users(a, 1))[0] as TestUser;
    const id = await directConversation(a, alice, dave);
    await list(b, alice);
    const Users = getUserModel(a.ctx.mongo);
    await Users.updateOne({ _id: dave.id }, { $set: { status: 'deleted' } });
    // A direct database write is not announced (accounts are deleted through users' writes, which
    // announce every write); here it is announced as user-writes.ts does.
    await profileChanges(a.ctx.mongo).changed([dave.id]);
    const { rows } = await list(b, alice);
    expect(rows.find((r) => r.id === id)?.participants.find((p) => p.userId === dave.id)).toEqual({ userId: dave.id, profile: null });
  });

  it('reads the store for every lookup while its channel is down (never a stale entry)', async () => {
    const redis = b.ctx.redis;
    if (!redis) throw new Error('the test needs Redis');
    const channel = createRedisProfileChannel({ redis, channel: profileChannelName(b.ctx.config.redis.keyPrefix), logger: b.ctx.logger });
    await channel.start();
    await until(() => channel.live(), 'the channel');
    const Users = getUserModel(b.ctx.mongo);
    const cache = createProfileSummaryCache({ users: Users, channel, maxEntries: 100, ttlMs: 60_000 });
    await cache.summaries([bob.id]);
    await cache.summaries([bob.id]);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
    await channel.close();
    expect(channel.live()).toBe(false);
    // Changed behind the cache's back: with the channel down, the lookup must not serve what it held.
    await Users.updateOne({ _id: bob.id }, { $set: { name: 'Behind The Back' } });
    expect((await cache.summaries([bob.id])).get(bob.id)?.name).toBe('Behind The Back');
    await cache.summaries([bob.id]);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 3 });
  });

  it('bad list inputs are refused with 400', async () => {
    const res = await b.api.get('/api/chat/conversations?limit=abc').set('Authorization', bearer(alice)).expect(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});

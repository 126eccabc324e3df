import { createLocalProfileChannel } from '../../src/modules/users/profile-channel';
import { createProfileSummaryCache, profileChanges } from '../../src/modules/users/profile-summaries';
import { getUserModel } from '../../src/modules/users/user.model';
import { authModuleOf } from '../auth/auth-helpers';
import { trackRequestCommands } from '../helpers/request-commands';
import { startTestServer, type TestServer } from '../helpers/server';
import { until } from '../helpers/until';
import { bearer, createUser, type TestUser, usersModuleOf } from '../helpers/users';


/**
 * /api/auth/me, /api/users/:id and the follower pages read user documents from users' in-process
 * cache (issue 18): no store round trip in the steady state, and every write to a user on one
 * process is seen by the next read on any other.
 */
describe('user documents are served from the cache and never stale across processes', () => {
  let a: TestServer;
  let b: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let onB: ReturnType<typeof trackRequestCommands>;

  async function get(app: TestServer, path: string, user: TestUser, status = 200) {
    const id = onB.nextId();
    const res = await app.api.get(path).set('Authorization', bearer(user)).set('X-Request-Id', id).expect(status);
    return { body: res.body, commands: onB.of(id) };
  }

  beforeAll(async () => {
    a = await startTestServer({ env: { RATE_LIMIT_MAX: '100000' } });
    b = await startTestServer({ names: a.names, ownsDatabases: false, monitorCommands: true, env: { RATE_LIMIT_MAX: '100000' } });
    onB = trackRequestCommands(b);
    await until(() => usersModuleOf(a).profileSummaries.stats().live && usersModuleOf(b).profileSummaries.stats().live, 'both profile channels');
    alice = await createUser(a, { name: 'Alice' });
    bob = await createUser(a, { name: 'Bob', role: 'vendor' });
  }, 120_000);
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('/me and a profile cost no store command once warm (authentication included)', async () => {
    await get(b, '/api/auth/me', alice);
    await get(b, `/api/users/${bob.id}`, alice);
    const me = await get(b, '/api/auth/me', alice);
    expect(me.body.data).toMatchObject({ id: alice.id, name: 'Alice' });
    expect(me.commands).toEqual([]);
    const profile = await get(b, `/api/users/${bob.id}`, alice);
    expect(profile.body.data).toMatchObject({ id: bob.id, name: 'Bob', role: 'vendor' });
    expect(profile.body.data).not.toHaveProperty('email');
    expect(profile.commands).toEqual([]);
  });

  it('a profile edited on A is what the next /me and profile on B show', async () => {
    await get(b, '/api/auth/me', bob);
    await get(b, `/api/users/${bob.id}`, alice);
    await a.api.patch('/api/auth/me').set('Authorization', bearer(bob)).send({ name: 'Bob Builder', business: { companyName: 'Bob Steel' } }).expect(200);
    expect((await get(b, '/api/auth/me', bob)).body.data).toMatchObject({ name: 'Bob Builder', business: expect.objectContaining({ companyName: 'Bob Steel' }) });
    expect((await get(b, `/api/users/${bob.id}`, alice)).body.data).toMatchObject({ name: 'Bob Builder', business: expect.objectContaining({ companyName: 'Bob Steel' }) });
    await a.api.patch('/api/auth/me/preferences').set('Authorization', bearer(bob)).send({ language: 'hi' }).expect(200);
    expect((await get(b, '/api/auth/me', bob)).body.data.preferences.language).toBe('hi');
  });

  it('a follow and an unfollow on A move the counts B shows at once, and the follower pages list the right people', async () => {
    const before = (await get(b, `/api/users/${bob.id}`, alice)).body.data.followersCount as number;
    const following = (await get(b, '/api/auth/me', alice)).body.data.followingCount as number;
    await a.api.post(`/api/users/${bob.id}/follow`).set('Authorization', bearer(alice)).expect(200);
    expect((await get(b, `/api/users/${bob.id}`, alice)).body.data.followersCount).toBe(before + 1);
    expect((await get(b, '/api/auth/me', alice)).body.data.followingCount).toBe(following + 1);
    const followers = await get(b, `/api/users/${bob.id}/followers`, alice);
    expect((followers.body.data as { id: string; name: string }[]).map((p) => [p.id, p.name])).toEqual([[alice.id, 'Alice']]);
    // The people on the page come from the cache: the page itself is the one follows read.
    expect((await get(b, `/api/users/${bob.id}/followers`, alice)).commands).toEqual(['find:follows']);
    await a.api.delete(`/api/users/${bob.id}/follow`).set('Authorization', bearer(alice)).expect(200);
    expect((await get(b, `/api/users/${bob.id}`, alice)).body.data.followersCount).toBe(before);
    expect((await get(b, '/api/auth/me', alice)).body.data.followingCount).toBe(following);
  });

  it('a repair that changes a count is seen on the other process', async () => {
    await get(b, `/api/users/${bob.id}`, alice);
    // A drift behind everyone's back (a crash between the edge and the count): repaired on A, shown on B.
    await getUserModel(a.ctx.mongo).updateOne({ _id: bob.id }, { $set: { followersCount: 41 } });
    await usersModuleOf(a).repairCounts(bob.id);
    expect((await get(b, `/api/users/${bob.id}`, alice)).body.data.followersCount).toBe(0);
  });

  it('a user suspended on A is no longer a profile on B, and a stranger id is 404', async () => {
    const carol = await createUser(a, { name: 'Carol' });
    await get(b, `/api/users/${carol.id}`, alice);
    await authModuleOf(a).access.suspend(carol.id);
    await get(b, `/api/users/${carol.id}`, alice, 404);
    await a.api.post(`/api/users/${carol.id}/follow`).set('Authorization', bearer(alice)).expect(404);
    await get(b, '/api/users/0123456789abcdef01234567', alice, 404);
    // And the suspended user's own token is refused at once (the access cache's rule).
    const refused = await b.api.get('/api/auth/me').set('Authorization', bearer(carol)).expect(403);
    expect(refused.body.error.code).toBe('ACCOUNT_SUSPENDED');
  });

  it('reads the store while its channel is down, and does not store a document read while an invalidation arrived', async () => {
    const Users = getUserModel(b.ctx.mongo);
    let live = true;
    const local = createLocalProfileChannel();
    const channel = { ...local, live: () => live };
    const cache = createProfileSummaryCache({ users: Users, channel, maxEntries: 100, ttlMs: 60_000 });
    await cache.document(alice.id);
    expect((await cache.document(alice.id))?.name).toBe('Alice');
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
    live = false;
    await Users.updateOne({ _id: alice.id }, { $set: { name: 'Behind The Back' } });
    expect((await cache.document(alice.id))?.name).toBe('Behind The Back');
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
    live = true;
    // An invalidation while the read is in flight: the answer is used once, not kept.
    const reading = cache.document(bob.id);
    await new Promise((resolve) => setImmediate(resolve)); // the read is now in flight
    await local.publish([bob.id]);
    expect((await reading)?.name).toBe('Bob Builder');
    await cache.document(bob.id);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 4 });
    // Unknown accounts are cached as such; a bad id reads nothing.
    expect(await cache.document('0123456789abcdef01234567')).toBeNull();
    expect(await cache.document('0123456789abcdef01234567')).toBeNull();
    expect(await cache.document('not-an-id')).toBeNull();
    expect(cache.stats()).toMatchObject({ hits: 2 });
  });

  it('without the users module, account reads go to the store (the create-admin command)', async () => {
    const hub = profileChanges(a.ctx.mongo);
    expect((await hub.read(getUserModel(a.ctx.mongo), alice.id))?.email).toBe(alice.email);
  });

  it('never holds a secret field', async () => {
    const doc = await usersModuleOf(b).profileSummaries.document(alice.id);
    expect(doc).not.toHaveProperty('passwordHash');
    expect(doc).not.toHaveProperty('lockedUntil');
  });
});

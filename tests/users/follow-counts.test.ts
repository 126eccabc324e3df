import { Types } from 'mongoose';
import type { UsersModule } from '../../src/modules/users';
import { profileChanges } from '../../src/modules/users/profile-summaries';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, type TestUser } from '../helpers/users';

describe('follower and following counts are stored, exact under concurrency, and repairable', () => {
  let app: TestServer;
  let star: TestUser;
  let fans: TestUser[];
  const as = (user: TestUser) => `Bearer ${user.accessToken}`;
  const usersModule = () => app.server.modules.find((m) => m.name === 'users') as UsersModule;
  const edges = (filter: Record<string, Types.ObjectId>) => app.ctx.mongo.collection('follows').countDocuments(filter);
  const profile = async (id: string, viewer: TestUser) => (await app.api.get(`/api/users/${id}`).set('Authorization', as(viewer)).expect(200)).body.data;

  beforeAll(async () => {
    app = await startTestServer();
    star = await createUser(app, { name: 'Star', role: 'vendor' });
    fans = [];
    for (let i = 0; i < 10; i += 1) fans.push(await createUser(app, { name: `Fan ${i}` }));
  }, 120_000);
  afterAll(() => app.close());

  it('stay equal to the follow edges after 50 concurrent follow and unfollow operations', async () => {
    // Every fan follows first, then 50 operations race: follows, unfollows and repeats of both.
    await Promise.all(fans.map((fan) => app.api.post(`/api/users/${star.id}/follow`).set('Authorization', as(fan)).expect(200)));
    const operations = Array.from({ length: 50 }, (_, i) => {
      const fan = fans[i % fans.length] as TestUser;
      const method = i % 3 === 0 ? 'post' : 'delete';
      return app.api[method](`/api/users/${star.id}/follow`).set('Authorization', as(fan)).expect(200);
    });
    await Promise.all(operations);
    const starId = new Types.ObjectId(star.id);
    const followers = await edges({ followeeId: starId });
    expect((await profile(star.id, star)).followersCount).toBe(followers);
    for (const fan of fans) {
      const following = await edges({ followerId: new Types.ObjectId(fan.id) });
      const me = await app.api.get('/api/auth/me').set('Authorization', as(fan)).expect(200);
      expect(me.body.data.followingCount).toBe(following);
    }
  });

  it('the repair recomputes a count corrupted on purpose from the edges', async () => {
    const starId = new Types.ObjectId(star.id);
    const truth = await edges({ followeeId: starId });
    await app.ctx.mongo.collection('users').updateOne({ _id: starId }, { $set: { followersCount: truth + 37, followingCount: 12 } });
    // A direct database write is not announced to the profile cache; here it is, as user-writes.ts would.
    await profileChanges(app.ctx.mongo).changed([star.id]);
    expect((await profile(star.id, star)).followersCount).toBe(truth + 37);
    expect(await usersModule().repairCounts(star.id)).toEqual({ followersCount: truth, followingCount: 0 });
    expect(await profile(star.id, star)).toEqual(expect.objectContaining({ followersCount: truth, followingCount: 0 }));
    expect(await usersModule().repairCounts(new Types.ObjectId().toHexString())).toBeNull();
  });

  it('the repair of every user, in batches, restores the counts corrupted on purpose and can resume', async () => {
    const [a, b] = fans as [TestUser, TestUser];
    const ids = [star, a, b].map((u) => new Types.ObjectId(u.id));
    const truth = await Promise.all(ids.map(async (id) => ({ followersCount: await edges({ followeeId: id }), followingCount: await edges({ followerId: id }) })));
    await app.ctx.mongo.collection('users').updateOne({ _id: ids[0] }, { $set: { followersCount: 999 } });
    await app.ctx.mongo.collection('users').updateOne({ _id: ids[1] }, { $set: { followingCount: 42 } });
    await app.ctx.mongo.collection('users').updateOne({ _id: ids[2] }, { $set: { followersCount: 7, followingCount: 7 } });
    const total = await app.ctx.mongo.collection('users').countDocuments();

    const run = await usersModule().repairAllCounts({ batchSize: 3 });
    expect(run).toEqual({ checked: total, repaired: 3, lastId: expect.any(String) });
    for (const [i, id] of ids.entries()) {
      expect(await profile(String(id), star)).toEqual(expect.objectContaining(truth[i]));
    }
    // Nothing left; resuming after the last id checks nothing; a bad resume id checks nothing.
    expect(await usersModule().repairAllCounts()).toEqual({ checked: total, repaired: 0, lastId: run.lastId });
    expect(await usersModule().repairAllCounts({ afterId: run.lastId })).toEqual({ checked: 0, repaired: 0, lastId: null });
    expect(await usersModule().repairAllCounts({ afterId: 'nope' })).toEqual({ checked: 0, repaired: 0, lastId: null });
  });

  it('a profile edit racing follows loses neither the edit nor a count', async () => {
    const fresh = await createUser(app, { name: 'Fresh' });
    await Promise.all([
      ...fans.map((fan) => app.api.post(`/api/users/${fresh.id}/follow`).set('Authorization', as(fan)).expect(200)),
      app.api.patch('/api/auth/me').set('Authorization', as(fresh)).send({ name: 'Renamed' }).expect(200),
    ]);
    expect(await profile(fresh.id, star)).toEqual(expect.objectContaining({ name: 'Renamed', followersCount: fans.length }));
  });
});

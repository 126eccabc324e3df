import { Types } from 'mongoose';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, type TestUser } from '../helpers/users';

describe('following users', () => {
  let app: TestServer;
  let star: TestUser;
  let fans: TestUser[];
  const as = (user: TestUser) => `Bearer ${user.accessToken}`;

  beforeAll(async () => {
    app = await startTestServer();
    star = await createUser(app, { name: 'Star', role: 'vendor' });
    fans = [];
    for (let i = 0; i < 5; i += 1) fans.push(await createUser(app, { name: `Fan ${i}` }));
  });
  afterAll(() => app.close());

  it('follow is idempotent and the counts follow the edges, even when concurrent', async () => {
    await Promise.all(fans.map((fan) => app.api.post(`/api/users/${star.id}/follow`).set('Authorization', as(fan)).expect(200, { data: { following: true } })));
    const fan0 = fans[0] as TestUser;
    await app.api.post(`/api/users/${star.id}/follow`).set('Authorization', as(fan0)).expect(200);
    const profile = await app.api.get(`/api/users/${star.id}`).set('Authorization', as(fan0)).expect(200);
    expect(profile.body.data).toEqual(expect.objectContaining({ followersCount: 5, followingCount: 0 }));
    const me = await app.api.get('/api/auth/me').set('Authorization', as(fan0)).expect(200);
    expect(me.body.data.followingCount).toBe(1);
  });

  it('lists followers in cursor pages, newest first, without repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string> = { limit: '2', ...(cursor ? { cursor } : {}) };
      const res = await app.api.get(`/api/users/${star.id}/followers`).query(query).set('Authorization', as(star)).expect(200);
      expect(res.body.page.limit).toBe(2);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      for (const person of res.body.data) expect(Object.keys(person)).not.toContain('email');
      seen.push(...res.body.data.map((p: { id: string }) => p.id));
      cursor = res.body.page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(fans.map((f) => f.id)));
    const following = await app.api.get(`/api/users/${(fans[1] as TestUser).id}/following`).set('Authorization', as(star)).expect(200);
    expect(following.body).toEqual({ data: [expect.objectContaining({ id: star.id, name: 'Star' })], page: { nextCursor: null, limit: 20 } });
  });

  it('unfollow is idempotent and updates the counts', async () => {
    const fan = fans[2] as TestUser;
    await app.api.delete(`/api/users/${star.id}/follow`).set('Authorization', as(fan)).expect(200, { data: { following: false } });
    await app.api.delete(`/api/users/${star.id}/follow`).set('Authorization', as(fan)).expect(200, { data: { following: false } });
    const profile = await app.api.get(`/api/users/${star.id}`).set('Authorization', as(fan)).expect(200);
    expect(profile.body.data.followersCount).toBe(4);
  });

  it('refuses following yourself, unknown users, bad ids, bad pages and anonymous callers', async () => {
    expect((await app.api.post(`/api/users/${star.id}/follow`).set('Authorization', as(star)).expect(400)).body.error.code).toBe('VALIDATION_FAILED');
    await app.api.post(`/api/users/${new Types.ObjectId().toHexString()}/follow`).set('Authorization', as(star)).expect(404);
    await app.api.post('/api/users/zzz/follow').set('Authorization', as(star)).expect(400);
    await app.api.get(`/api/users/${star.id}/followers`).query({ limit: '101' }).set('Authorization', as(star)).expect(400);
    await app.api.get(`/api/users/${star.id}/followers`).query({ limit: '0' }).set('Authorization', as(star)).expect(400);
    await app.api.get(`/api/users/${star.id}/followers`).query({ cursor: 'garbage' }).set('Authorization', as(star)).expect(400);
    await app.api.get(`/api/users/${new Types.ObjectId().toHexString()}/followers`).set('Authorization', as(star)).expect(404);
    await app.api.post(`/api/users/${star.id}/follow`).expect(401);
    const profile = await app.api.get(`/api/users/${star.id}`).set('Authorization', as(star)).expect(200);
    expect(profile.body.data.followersCount).toBe(4);
  });
});

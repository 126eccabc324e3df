import { Types } from 'mongoose';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, type TestUser } from '../helpers/users';
import { profileChanges } from '../../src/modules/users/profile-summaries';

const SECRET_PATTERN = /passwordHash|\$2[aby]\$|"hash"|failuresClearedAt|lockedUntil|refreshTokens/;

describe('own profile, preferences and what others can see', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  const as = (user: TestUser) => `Bearer ${user.accessToken}`;

  beforeAll(async () => {
    app = await startTestServer();
    alice = await createUser(app, { name: 'Alice' });
    bob = await createUser(app, { name: 'Bob', role: 'vendor' });
  });
  afterAll(() => app.close());

  it('PATCH /me updates name, phone and the business profile, merging nested fields', async () => {
    const first = await app.api
      .patch('/api/auth/me')
      .set('Authorization', as(alice))
      .send({
        name: 'Alice Traders',
        phone: '+919812345678',
        business: { companyName: 'Alice Pvt Ltd', taxId: '27aapfu0939f1zv', categories: ['steel', 'cement'], address: { city: 'Pune', country: 'in' } },
      })
      .expect(200);
    expect(first.body.data).toEqual(
      expect.objectContaining({
        name: 'Alice Traders',
        phone: '+919812345678',
        business: expect.objectContaining({ companyName: 'Alice Pvt Ltd', taxId: '27AAPFU0939F1ZV', categories: ['steel', 'cement'], address: expect.objectContaining({ city: 'Pune', country: 'IN' }) }),
      }),
    );
    const second = await app.api.patch('/api/auth/me').set('Authorization', as(alice)).send({ business: { description: 'Bulk supplier', address: { line1: 'MG Road 1' } } }).expect(200);
    expect(second.body.data.business).toEqual(
      expect.objectContaining({ companyName: 'Alice Pvt Ltd', description: 'Bulk supplier', address: expect.objectContaining({ city: 'Pune', line1: 'MG Road 1' }) }),
    );
    const cleared = await app.api.patch('/api/auth/me').set('Authorization', as(alice)).send({ phone: null }).expect(200);
    expect(cleared.body.data.phone).toBeNull();
    expect(JSON.stringify([first.body, second.body, cleared.body])).not.toMatch(SECRET_PATTERN);
  });

  it('PATCH /me cannot change role, status, email or emailVerified', async () => {
    const res = await app.api
      .patch('/api/auth/me')
      .set('Authorization', as(bob))
      .send({ role: 'super_admin', status: 'active', email: 'boss@example.test', emailVerified: true, name: 'Bob V' })
      .expect(200);
    expect(res.body.data).toEqual(expect.objectContaining({ role: 'vendor', email: bob.email, emailVerified: false, name: 'Bob V' }));
    const stored = await app.ctx.mongo.collection('users').findOne({ _id: new Types.ObjectId(bob.id) });
    expect(stored?.role).toBe('vendor');
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ phone: '12345' }, 'phone'],
    [{ business: 'text' }, 'business'],
    [{ business: { taxId: 'has spaces!' } }, 'business.taxId'],
    [{ business: { categories: 'steel' } }, 'business.categories'],
    [{ business: { address: { country: 'India' } } }, 'business.address.country'],
    [{ $set: { role: 'admin' } }, '$set'],
  ])('PATCH /me refuses %j with VALIDATION_FAILED and changes nothing', async (body, field) => {
    const before = await app.api.get('/api/auth/me').set('Authorization', as(alice)).expect(200);
    const res = await app.api.patch('/api/auth/me').set('Authorization', as(alice)).send(body).expect(400);
    expect(res.body.error).toEqual(expect.objectContaining({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field })] }));
    const after = await app.api.get('/api/auth/me').set('Authorization', as(alice)).expect(200);
    expect(after.body.data).toEqual(before.body.data);
  });

  it('PATCH /me/preferences sets language, timezone, channels per category and quiet hours', async () => {
    const res = await app.api
      .patch('/api/auth/me/preferences')
      .set('Authorization', as(alice))
      .send({ language: 'hi-IN', timezone: 'Asia/Kolkata', notifications: { chat: ['push', 'push'], offers: ['push', 'email'] }, quietHours: { enabled: true, start: '22:30', end: '06:45' } })
      .expect(200);
    expect(res.body.data.preferences).toEqual({
      language: 'hi-IN',
      timezone: 'Asia/Kolkata',
      notifications: { chat: ['push'], offers: ['push', 'email'] },
      quietHours: { enabled: true, start: '22:30', end: '06:45' },
    });
    const next = await app.api.patch('/api/auth/me/preferences').set('Authorization', as(alice)).send({ notifications: { chat: [] }, quietHours: { enabled: false } }).expect(200);
    expect(next.body.data.preferences).toEqual(
      expect.objectContaining({ notifications: { chat: [], offers: ['push', 'email'] }, quietHours: { enabled: false, start: '22:30', end: '06:45' } }),
    );
  });

  it.each([
    [{ timezone: 'Mars/Olympus' }, 'timezone'],
    [{ language: 'english!' }, 'language'],
    [{ notifications: { gossip: ['push'] } }, 'notifications'],
    [{ notifications: { chat: ['pigeon'] } }, 'notifications'],
    [{ quietHours: { start: '25:00' } }, 'quietHours.start'],
    [{ quietHours: { enabled: 'yes' } }, 'quietHours.enabled'],
  ])('PATCH /me/preferences refuses %j', async (body, field) => {
    const res = await app.api.patch('/api/auth/me/preferences').set('Authorization', as(alice)).send(body).expect(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field })]);
  });

  it('GET /users/:id shows a public profile without email, phone, tax id or preferences', async () => {
    const res = await app.api.get(`/api/users/${alice.id}`).set('Authorization', as(bob)).expect(200);
    expect(res.body.data).toEqual(
      expect.objectContaining({ id: alice.id, name: 'Alice Traders', role: 'user', business: expect.objectContaining({ companyName: 'Alice Pvt Ltd', city: 'Pune', country: 'IN' }) }),
    );
    expect(JSON.stringify(res.body)).not.toMatch(/@example|\+91|27AAPFU|preferences|taxId/);
    expect(JSON.stringify(res.body)).not.toMatch(SECRET_PATTERN);
  });

  it('GET /users/:id is 404 for unknown and suspended users, 400 for a malformed id and 401 without a token', async () => {
    await app.api.get(`/api/users/${new Types.ObjectId().toHexString()}`).set('Authorization', as(bob)).expect(404);
    await app.api.get('/api/users/nope').set('Authorization', as(bob)).expect(400);
    await app.api.get(`/api/users/${alice.id}`).expect(401);
    const carol = await createUser(app);
    await app.ctx.mongo.collection('users').updateOne({ _id: new Types.ObjectId(carol.id) }, { $set: { status: 'suspended' } });
    // Announced to the profile cache as user-writes.ts announces every write (a bare database write is not).
    await profileChanges(app.ctx.mongo).changed([carol.id]);
    await app.api.get(`/api/users/${carol.id}`).set('Authorization', as(bob)).expect(404);
  });

  it('another user\'s profile cannot be changed: there is no route for it', async () => {
    for (const path of [`/api/users/${alice.id}`, `/api/users/${alice.id}/role`]) {
      const res = await app.api.patch(path).set('Authorization', as(bob)).send({ name: 'Hacked', role: 'admin' }).expect(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const me = await app.api.get('/api/auth/me').set('Authorization', as(alice)).expect(200);
    expect(me.body.data).toEqual(expect.objectContaining({ name: 'Alice Traders', role: 'user' }));
  });
});

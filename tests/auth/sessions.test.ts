import { Types } from 'mongoose';
import { hashToken } from '../../src/modules/auth/tokens';
import { startTestServer, type TestServer } from '../helpers/server';
import { testClock } from '../helpers/clock';
import { createUser } from '../helpers/users';

describe('refresh-token rotation, theft detection and sign-out', () => {
  let app: TestServer;
  // The grace is a time rule: the app's clock is moved past it, nobody sleeps.
  const clock = testClock();
  beforeAll(async () => {
    app = await startTestServer({ env: { REFRESH_REUSE_GRACE_SECONDS: '10' }, clock });
  });
  const pastTheGrace = async () => clock.advance(11_000);
  afterAll(() => app.close());

  const refresh = (refreshToken: string) => app.api.post('/api/auth/refresh').send({ refreshToken });
  const me = (accessToken: string) => app.api.get('/api/auth/me').set('Authorization', `Bearer ${accessToken}`);

  it('when a rotated refresh token is reused, the whole family is revoked', async () => {
    const user = await createUser(app);
    const first = await refresh(user.refreshToken).expect(200);
    const second = await refresh(first.body.data.refreshToken).expect(200);
    await pastTheGrace();
    // An attacker replays the original token.
    const reuse = await refresh(user.refreshToken).expect(401);
    expect(reuse.body.error.code).toBe('UNAUTHENTICATED');
    // Every token of that sign-in is now dead: the newest refresh token and its access token.
    await refresh(second.body.data.refreshToken).expect(401);
    await me(second.body.data.accessToken).expect(401);
    // Another sign-in of the same user is untouched.
    const other = await app.api.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    await me(other.body.data.accessToken).expect(200);
  });

  it('answers a replay within the grace with 409 and no tokens, and treats one after it as theft', async () => {
    const user = await createUser(app);
    const first = await refresh(user.refreshToken).expect(200);
    const raced = await refresh(user.refreshToken).expect(409);
    expect(raced.body.error.code).toBe('CONFLICT');
    expect(raced.body.data).toBeUndefined();
    await me(first.body.data.accessToken).expect(200);
    await pastTheGrace();
    await refresh(user.refreshToken).expect(401);
    await me(first.body.data.accessToken).expect(401);
  });

  it('of concurrent refreshes with the same token exactly one succeeds, and the sign-in survives', async () => {
    const user = await createUser(app);
    const results = await Promise.all(Array.from({ length: 8 }, () => refresh(user.refreshToken)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    for (const loser of results.filter((r) => r.status === 409)) {
      expect(loser.body.error.code).toBe('CONFLICT');
      expect(loser.body.data).toBeUndefined();
    }
    // Within the grace a race is a phone's own retry, not theft: the winner's tokens keep working.
    const winner = results.find((r) => r.status === 200);
    await me(winner?.body.data.accessToken).expect(200);
    await refresh(winner?.body.data.refreshToken).expect(200);
  });

  it('refuses unknown, missing and malformed refresh tokens without changing anything', async () => {
    const user = await createUser(app);
    const unknown = await refresh('A'.repeat(43)).expect(401);
    expect(unknown.body.error.code).toBe('UNAUTHENTICATED');
    const missing = await app.api.post('/api/auth/refresh').send({}).expect(400);
    expect(missing.body.error).toEqual(expect.objectContaining({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'refreshToken' })] }));
    for (const bad of [42, 'short', 'has spaces in it and is long enough', { $ne: null }]) {
      const res = await app.api.post('/api/auth/refresh').send({ refreshToken: bad }).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    await refresh(user.refreshToken).expect(200);
  });

  it('logout signs out only this session; logout without a token is 401', async () => {
    const user = await createUser(app);
    const second = await app.api.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    await app.api.post('/api/auth/logout').set('Authorization', `Bearer ${user.accessToken}`).expect(204);
    await me(user.accessToken).expect(401);
    await refresh(user.refreshToken).expect(401);
    await me(second.body.data.accessToken).expect(200);
    await refresh(second.body.data.refreshToken).expect(200);
    expect((await app.api.post('/api/auth/logout').expect(401)).body.error.code).toBe('UNAUTHENTICATED');
  });

  it('lists sessions and signs out one by id; another user\'s session id is 404 and stays signed in', async () => {
    const alice = await createUser(app);
    const bob = await createUser(app);
    const phone = await app.api.post('/api/auth/login').send({ email: alice.email, password: alice.password, deviceName: 'Phone' }).expect(200);
    const list = await app.api.get('/api/auth/sessions').set('Authorization', `Bearer ${alice.accessToken}`).expect(200);
        const shape = (name: string | null, current: boolean) => ({
      id: expect.any(String),
      device: { name, userAgent: null, ip: expect.any(String) },
      createdAt: expect.any(String),
      lastUsedAt: expect.any(String),
      expiresAt: expect.any(String),
      current,
    });
    // Newest first (createUser registers, then signs in); `current` marks the caller's session.
    expect(list.body.data).toEqual([shape('Phone', false), shape(null, true), shape(null, false)]);
    const phoneSession = phone.body.data.sessionId as string;
    // Bob cannot sign out Alice's phone.
    const foreign = await app.api.delete(`/api/auth/sessions/${phoneSession}`).set('Authorization', `Bearer ${bob.accessToken}`).expect(404);
    expect(foreign.body.error.code).toBe('NOT_FOUND');
    await me(phone.body.data.accessToken).expect(200);
    await app.api.delete('/api/auth/sessions/not-an-id').set('Authorization', `Bearer ${alice.accessToken}`).expect(400);
    await app.api.delete(`/api/auth/sessions/${phoneSession}`).set('Authorization', `Bearer ${alice.accessToken}`).expect(204);
    await me(phone.body.data.accessToken).expect(401);
    await refresh(phone.body.data.refreshToken).expect(401);
    await app.api.delete(`/api/auth/sessions/${phoneSession}`).set('Authorization', `Bearer ${alice.accessToken}`).expect(404);
    const after = await app.api.get('/api/auth/sessions').set('Authorization', `Bearer ${alice.accessToken}`).expect(200);
    expect(after.body.data.map((s: { id: string }) => s.id)).not.toContain(phoneSession);
  });

  it('change-password needs the current password, keeps this session and signs out the others', async () => {
    const user = await createUser(app);
    const other = await app.api.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    const auth = `Bearer ${user.accessToken}`;
    const wrong = await app.api.post('/api/auth/change-password').set('Authorization', auth).send({ currentPassword: 'not it 123', newPassword: 'brand new 42' }).expect(400);
    expect(wrong.body.error.details).toEqual([expect.objectContaining({ field: 'currentPassword' })]);
    const weak = await app.api.post('/api/auth/change-password').set('Authorization', auth).send({ currentPassword: user.password, newPassword: 'short' }).expect(400);
    expect(weak.body.error.details).toEqual([expect.objectContaining({ field: 'newPassword' })]);
    await me(other.body.data.accessToken).expect(200);
    await app.api.post('/api/auth/change-password').set('Authorization', auth).send({ currentPassword: user.password, newPassword: 'brand new 42' }).expect(200);
    await me(user.accessToken).expect(200);
    await refresh(user.refreshToken).expect(200);
    await me(other.body.data.accessToken).expect(401);
    await refresh(other.body.data.refreshToken).expect(401);
    await app.api.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(401);
    await app.api.post('/api/auth/login').send({ email: user.email, password: 'brand new 42' }).expect(200);
  });

  it('an expired refresh token or session is refused', async () => {
    const user = await createUser(app);
    const past = new Date(Date.now() - 1000);
    await app.ctx.mongo.collection('auth_refresh_tokens').updateOne({ hash: hashToken(user.refreshToken) }, { $set: { expiresAt: past } });
    expect((await refresh(user.refreshToken).expect(401)).body.error.code).toBe('UNAUTHENTICATED');
    const other = await app.api.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    await app.ctx.mongo.collection('auth_sessions').updateOne({ _id: new Types.ObjectId(other.body.data.sessionId as string) }, { $set: { expiresAt: past } });
    await refresh(other.body.data.refreshToken).expect(401);
  });
});

import { Types } from 'mongoose';
import { authModuleOf } from './auth-helpers';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser } from '../helpers/users';

describe('registration and sign-in: bad input, lockout, suspension', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app.close());

  const users = () => app.ctx.mongo.collection('users');
  const register = (body: object) => app.api.post('/api/auth/register').send(body);
  const login = (email: string, password: string) => app.api.post('/api/auth/login').send({ email, password });

  it.each([
    ['a missing email', { password: 'good pass 1', name: 'A' }, 'email'],
    ['a malformed email', { email: 'not-an-email', password: 'good pass 1', name: 'A' }, 'email'],
    ['an email that is not a string', { email: ['a@b.test'], password: 'good pass 1', name: 'A' }, 'email'],
    ['a missing password', { email: 'a@b.test', name: 'A' }, 'password'],
    ['a too short password', { email: 'a@b.test', password: 'ab1', name: 'A' }, 'password'],
    ['a password without digits', { email: 'a@b.test', password: 'only letters here', name: 'A' }, 'password'],
    ['a password over 72 bytes', { email: 'a@b.test', password: `1${'é'.repeat(36)}`, name: 'A' }, 'password'],
    ['a missing name', { email: 'a@b.test', password: 'good pass 1' }, 'name'],
    ['a phone not in E.164', { email: 'a@b.test', password: 'good pass 1', name: 'A', phone: '98765 43210' }, 'phone'],
    ['an admin role', { email: 'a@b.test', password: 'good pass 1', name: 'A', role: 'admin' }, 'role'],
    ['an operator key', { email: { $gt: '' }, password: 'good pass 1', name: 'A' }, 'email.$gt'],
  ])('register refuses %s with VALIDATION_FAILED and creates nothing', async (_name, body, field) => {
    const res = await register(body).expect(400);
    expect(res.body.error).toEqual(expect.objectContaining({ code: 'VALIDATION_FAILED', details: expect.arrayContaining([expect.objectContaining({ field })]) }));
    expect(await users().countDocuments({ email: 'a@b.test' })).toBe(0);
  });

  it('refuses a password over 72 bytes explicitly, even when it is 72 characters or fewer', async () => {
    const password = `1a${'€'.repeat(24)}`; // 26 characters, 74 bytes
    const res = await register({ email: 'long@b.test', password, name: 'L' }).expect(400);
    expect(res.body.error.details[0].message).toMatch(/72 bytes/);
    await register({ email: 'long@b.test', password: `1a${'x'.repeat(70)}`, name: 'L' }).expect(201);
  });

  it('a duplicate email, in any case, is 409 CONFLICT', async () => {
    await register({ email: 'dup@example.test', password: 'good pass 1', name: 'D' }).expect(201);
    const res = await register({ email: 'DUP@Example.test', password: 'other pass 2', name: 'E' }).expect(409);
    expect(res.body.error.code).toBe('CONFLICT');
    expect(await users().countDocuments({ email: 'dup@example.test' })).toBe(1);
  });

  it('stores a bcrypt hash with the configured cost and never returns it', async () => {
    const res = await register({ email: 'hash@example.test', password: 'good pass 1', name: 'H' }).expect(201);
    const stored = await users().findOne({ email: 'hash@example.test' });
    expect(stored?.passwordHash).toMatch(/^\$2[aby]\$04\$/);
    expect(JSON.stringify(res.body)).not.toContain(stored?.passwordHash);
  });

  it('unknown email and wrong password get the same answer', async () => {
    const user = await createUser(app);
    const wrong = await login(user.email, 'wrong pass 1').expect(401);
    const unknown = await login('nobody@example.test', 'wrong pass 1').expect(401);
    expect(wrong.body.error).toEqual({ code: 'UNAUTHENTICATED', message: 'Email or password is incorrect', requestId: expect.any(String) });
    expect({ ...unknown.body.error, requestId: undefined }).toEqual({ ...wrong.body.error, requestId: undefined });
    const missing = await app.api.post('/api/auth/login').send({ email: user.email }).expect(400);
    expect(missing.body.error.details).toEqual([expect.objectContaining({ field: 'password' })]);
  });

  it('locks the account after 5 failures (423 ACCOUNT_LOCKED, even with the right password), and unlocks when the lock ends', async () => {
    const user = await createUser(app);
    for (let i = 0; i < 4; i += 1) await login(user.email, 'wrong pass 1').expect(401);
    const fifth = await login(user.email, 'wrong pass 1').expect(423);
    expect(fifth.body.error.code).toBe('ACCOUNT_LOCKED');
    const right = await login(user.email, user.password).expect(423);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(800);
    // Existing sessions keep working: a lock stops guessing, it does not sign the owner out.
    await app.api.get('/api/auth/me').set('Authorization', `Bearer ${user.accessToken}`).expect(200);
    await users().updateOne({ _id: new Types.ObjectId(user.id) }, { $set: { lockedUntil: new Date(Date.now() - 1000) } });
    await login(user.email, user.password).expect(200);
    // A success clears the count: four more failures do not lock.
    for (let i = 0; i < 4; i += 1) await login(user.email, 'wrong pass 1').expect(401);
    await login(user.email, user.password).expect(200);
  });

  it('counts concurrent failures atomically', async () => {
    const user = await createUser(app);
    await Promise.all(Array.from({ length: 5 }, () => login(user.email, 'wrong pass 1')));
    const res = await login(user.email, user.password).expect(423);
    expect(res.body.error.code).toBe('ACCOUNT_LOCKED');
  });

  it('a suspended user cannot sign in or refresh, and their access token stops working at the next request', async () => {
    const user = await createUser(app);
    const auth = `Bearer ${user.accessToken}`;
    await app.api.get('/api/auth/me').set('Authorization', auth).expect(200);
    await authModuleOf(app).access.suspend(user.id);
    const me = await app.api.get('/api/auth/me').set('Authorization', auth).expect(403);
    expect(me.body.error.code).toBe('ACCOUNT_SUSPENDED');
    expect((await login(user.email, user.password).expect(403)).body.error.code).toBe('ACCOUNT_SUSPENDED');
    // The wrong password still gets the generic answer: suspension is only revealed to the owner.
    expect((await login(user.email, 'wrong pass 1').expect(401)).body.error.code).toBe('UNAUTHENTICATED');
    expect((await app.api.post('/api/auth/refresh').send({ refreshToken: user.refreshToken }).expect(403)).body.error.code).toBe('ACCOUNT_SUSPENDED');
  });
});

describe('the auth routes have their own tighter rate limit', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer({ env: { AUTH_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_WINDOW_MS: '60000' } });
  });
  afterAll(() => app.close());

  it('answers 429 RATE_LIMITED after the auth budget for one IP and email, while other routes still work', async () => {
    for (let i = 0; i < 3; i += 1) await app.api.post('/api/auth/login').send({ email: 'x@example.test', password: 'wrong pass 1' }).expect(401);
    const limited = await app.api.post('/api/auth/login').send({ email: 'x@example.test', password: 'wrong pass 1' }).expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await app.api.post('/api/auth/forgot-password').send({ email: 'x@example.test' }).expect(429);
    await app.api.get('/api/system/health').expect(200);
  });
});

describe('the lockout is configurable', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer({ env: { LOGIN_MAX_FAILURES: '2', LOGIN_LOCK_MINUTES: '1' } });
  });
  afterAll(() => app.close());

  it('locks after LOGIN_MAX_FAILURES failures for LOGIN_LOCK_MINUTES', async () => {
    const user = await createUser(app);
    await app.api.post('/api/auth/login').send({ email: user.email, password: 'wrong pass 1' }).expect(401);
    const locked = await app.api.post('/api/auth/login').send({ email: user.email, password: 'wrong pass 1' }).expect(423);
    expect(locked.body.error.code).toBe('ACCOUNT_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  });
});

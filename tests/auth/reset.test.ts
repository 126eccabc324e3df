import { startTestServer, type TestServer } from '../helpers/server';
import { startMailCatcher, tokenFromMail, type MailCatcher } from '../helpers/mail-catcher';
import { createUser } from '../helpers/users';
import { hashToken } from '../../src/modules/auth/tokens';

describe('password reset and verification tokens: single use, expiring, hashed', () => {
  let app: TestServer;
  let mail: MailCatcher;

  beforeAll(async () => {
    mail = await startMailCatcher();
    app = await startTestServer({ env: { SMTP_URL: mail.url } });
  });
  afterAll(async () => {
    await app.close();
    await mail.close();
  });

  const resetToken = async (email: string) => {
    await app.api.post('/api/auth/forgot-password').send({ email }).expect(202);
    return tokenFromMail(await mail.next(email, /reset/i));
  };

  it('stores only the hash of the token', async () => {
    const user = await createUser(app);
    const token = await resetToken(user.email);
    const stored = await app.ctx.mongo.collection('auth_one_time_tokens').findOne({ purpose: 'reset_password' });
    expect(stored?.hash).toBe(hashToken(token));
    expect(JSON.stringify(stored)).not.toContain(token);
  });

  it('a used reset token is refused and changes nothing', async () => {
    const user = await createUser(app);
    const token = await resetToken(user.email);
    await app.api.post('/api/auth/reset-password').send({ token, password: 'reset once 1' }).expect(200);
    const again = await app.api.post('/api/auth/reset-password').send({ token, password: 'reset twice 2' }).expect(400);
    expect(again.body.error).toEqual(expect.objectContaining({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'token' })] }));
    await app.api.post('/api/auth/login').send({ email: user.email, password: 'reset once 1' }).expect(200);
    await app.api.post('/api/auth/login').send({ email: user.email, password: 'reset twice 2' }).expect(401);
  });

  it('of concurrent resets with the same token exactly one succeeds', async () => {
    const user = await createUser(app);
    const token = await resetToken(user.email);
    const results = await Promise.all(
      ['race pass 1', 'race pass 2', 'race pass 3', 'race pass 4'].map((password) =>
        app.api.post('/api/auth/reset-password').send({ token, password }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400]);
  });

  it('an expired reset token is refused', async () => {
    const user = await createUser(app);
    const token = await resetToken(user.email);
    await app.ctx.mongo.collection('auth_one_time_tokens').updateOne({ hash: hashToken(token) }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const res = await app.api.post('/api/auth/reset-password').send({ token, password: 'too late 1' }).expect(400);
    expect(res.body.error.details[0].field).toBe('token');
    await app.api.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
  });

  it('an expired verification token is refused', async () => {
    const email = 'late@example.test';
    await app.api.post('/api/auth/register').send({ email, password: 'late pass 1', name: 'Late' }).expect(201);
    const token = tokenFromMail(await mail.next(email, /confirm/i));
    await app.ctx.mongo.collection('auth_one_time_tokens').updateOne({ hash: hashToken(token) }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    await app.api.post('/api/auth/verify-email').send({ token }).expect(400);
    const login = await app.api.post('/api/auth/login').send({ email, password: 'late pass 1' }).expect(200);
    expect(login.body.data.user.emailVerified).toBe(false);
  });

  it('a reset token cannot verify an email and a verification token cannot reset a password', async () => {
    const email = 'cross@example.test';
    await app.api.post('/api/auth/register').send({ email, password: 'cross pass 1', name: 'Cross' }).expect(201);
    const verify = tokenFromMail(await mail.next(email, /confirm/i));
    const reset = await resetToken(email);
    await app.api.post('/api/auth/reset-password').send({ token: verify, password: 'cross pass 2' }).expect(400);
    await app.api.post('/api/auth/verify-email').send({ token: reset }).expect(400);
  });

  it('refuses missing, malformed and weak inputs', async () => {
    for (const body of [{}, { token: 'short', password: 'good pass 1' }, { token: 'x'.repeat(43) }, { token: 'x'.repeat(43), password: 'weak' }, { token: 'x'.repeat(43), password: 7 }]) {
      const res = await app.api.post('/api/auth/reset-password').send(body).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    const unknown = await app.api.post('/api/auth/reset-password').send({ token: 'x'.repeat(43), password: 'good pass 1' }).expect(400);
    expect(unknown.body.error.details[0].field).toBe('token');
    await app.api.post('/api/auth/forgot-password').send({ email: 'nope' }).expect(400);
  });

  it('writes the mail to the log when no SMTP server is configured', async () => {
    const logged = await startTestServer({ env: { SMTP_URL: undefined } });
    try {
      const lines: unknown[] = [];
      logged.ctx.logger.on('data', (info: unknown) => lines.push(info));
      const user = await createUser(logged);
      await logged.api.post('/api/auth/forgot-password').send({ email: user.email }).expect(202);
      expect(lines).toContainEqual(expect.objectContaining({ subject: 'Reset your password', to: user.email, link: expect.stringContaining('/reset-password?token=') }));
    } finally {
      await logged.close();
    }
  });
});

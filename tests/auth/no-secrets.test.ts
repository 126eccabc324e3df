import type { Response } from 'supertest';
import { startTestServer, type TestServer } from '../helpers/server';
import { startMailCatcher, tokenFromMail, type MailCatcher } from '../helpers/mail-catcher';
import { createUser } from '../helpers/users';

describe('no password hash or token hash in any response', () => {
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

  it('every account route answers without a stored secret', async () => {
    const responses: Response[] = [];
    const keep = async (pending: Promise<Response>) => {
      const res = await pending;
      responses.push(res);
      return res;
    };
    const email = 'secrets@example.test';
    const reg = await keep(app.api.post('/api/auth/register').send({ email, password: 'secret pass 1', name: 'S' }));
    const auth = `Bearer ${reg.body.data.accessToken}`;
    const other = await createUser(app);
    await keep(app.api.post('/api/auth/verify-email').send({ token: tokenFromMail(await mail.next(email, /confirm/i)) }));
    const login = await keep(app.api.post('/api/auth/login').send({ email, password: 'secret pass 1' }));
    await keep(app.api.post('/api/auth/login').send({ email, password: 'wrong pass 1' }));
    await keep(app.api.post('/api/auth/refresh').send({ refreshToken: login.body.data.refreshToken }));
    await keep(app.api.get('/api/auth/me').set('Authorization', auth));
    await keep(app.api.patch('/api/auth/me').set('Authorization', auth).send({ name: 'S2' }));
    await keep(app.api.patch('/api/auth/me/preferences').set('Authorization', auth).send({ language: 'en' }));
    await keep(app.api.get('/api/auth/sessions').set('Authorization', auth));
    await keep(app.api.post(`/api/users/${other.id}/follow`).set('Authorization', auth));
    await keep(app.api.get(`/api/users/${other.id}`).set('Authorization', auth));
    await keep(app.api.get(`/api/users/${other.id}/followers`).set('Authorization', auth));
    await keep(app.api.get(`/api/users/${reg.body.data.user.id}/following`).set('Authorization', auth));
    await keep(app.api.post('/api/auth/forgot-password').send({ email }));
    await keep(app.api.post('/api/auth/change-password').set('Authorization', auth).send({ currentPassword: 'secret pass 1', newPassword: 'secret pass 2' }));

    const db = app.ctx.mongo;
    const storedSecrets = [
      ...(await db.collection('users').find({}).toArray()).map((u) => u.passwordHash as string),
      ...(await db.collection('auth_refresh_tokens').find({}).toArray()).map((t) => t.hash as string),
      ...(await db.collection('auth_one_time_tokens').find({}).toArray()).map((t) => t.hash as string),
    ];
    expect(storedSecrets.length).toBeGreaterThan(5);
    for (const res of responses) {
      expect(res.status).toBeLessThan(500);
      for (const secret of storedSecrets) expect(res.text).not.toContain(secret);
      expect(res.text).not.toMatch(/passwordHash|"hash"|tokenHash|failuresClearedAt|lockedUntil|"__v"|\$2[aby]\$/);
    }
  });
});

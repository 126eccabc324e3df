import type { DomainEvents } from '../../src/platform/events';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser } from '../helpers/users';

/** Auth announces what the account's owner must hear about: a new session, a changed password. */
describe('auth security events', () => {
  let app: TestServer;
  const sessions: DomainEvents['session.created'][] = [];
  const passwords: DomainEvents['password.changed'][] = [];

  beforeAll(async () => {
    app = await startTestServer();
    app.ctx.events.subscribe('session.created', (payload) => void sessions.push(payload));
    app.ctx.events.subscribe('password.changed', (payload) => void passwords.push(payload));
  });
  afterAll(async () => app.close());

  it('publishes session.created for the registration and each login, with the device', async () => {
    const user = await createUser(app); // registers (one session) and logs in (another)
    await app.api.post('/api/auth/login').set('User-Agent', 'jest').send({ email: user.email, password: user.password, deviceName: 'Pixel 9' }).expect(200);
    await app.ctx.events.drain();
    const mine = sessions.filter((event) => event.userId === user.id);
    expect(mine).toHaveLength(3);
    expect(new Set(mine.map((event) => event.sessionId)).size).toBe(3);
    expect(mine[2]).toMatchObject({ deviceName: 'Pixel 9' });
  });

  it('publishes password.changed on a change, and not on a refused one', async () => {
    const user = await createUser(app);
    await app.api
      .post('/api/auth/change-password')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .send({ currentPassword: 'not the password', newPassword: 'A new pass phrase 42' })
      .expect(400);
    await app.ctx.events.drain();
    expect(passwords.filter((event) => event.userId === user.id)).toHaveLength(0);
    await app.api
      .post('/api/auth/change-password')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .send({ currentPassword: user.password, newPassword: 'A new pass phrase 42' })
      .expect(200);
    await app.ctx.events.drain();
    expect(passwords.filter((event) => event.userId === user.id)).toHaveLength(1);
  });
});

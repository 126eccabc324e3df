import jwt from 'jsonwebtoken';
import { io as connect, type Socket } from 'socket.io-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser } from '../helpers/users';

function connectSocket(app: TestServer, token: unknown): Promise<Socket> {
  const socket = connect(app.url, { transports: ['websocket'], reconnection: false, auth: { token } });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

describe('the auth contract other modules rely on', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app.close());

  it('register and login answer { data: { user, accessToken, refreshToken } } without secrets', async () => {
    const res = await app.api
      .post('/api/auth/register')
      .send({ email: '  Ada@Example.TEST ', password: 'correct horse 1', name: 'Ada' })
      .expect(201);
    expect(res.body.data).toEqual(
      expect.objectContaining({
        user: expect.objectContaining({ id: expect.any(String), email: 'ada@example.test', role: 'user', emailVerified: false }),
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
      }),
    );
    const login = await app.api.post('/api/auth/login').send({ email: 'ADA@example.test', password: 'correct horse 1' }).expect(200);
    expect(login.body.data.user.id).toBe(res.body.data.user.id);
    for (const body of [res.text, login.text]) {
      expect(body).not.toMatch(/passwordHash|\$2[aby]\$|"hash"|failedLogin|lockedUntil/);
    }
  });

  it('createUser gives a token requireAuth accepts, with the role set for admins', async () => {
    const user = await createUser(app);
    const me = await app.api.get('/api/auth/me').set('Authorization', bearer(user)).expect(200);
    expect(me.body.data).toEqual(expect.objectContaining({ id: user.id, email: user.email, role: 'user' }));
    const admin = await createUser(app, { role: 'super_admin' });
    expect((jwt.decode(admin.accessToken) as { role: string }).role).toBe('super_admin');
    const vendor = await createUser(app, { role: 'vendor' });
    expect((jwt.decode(vendor.accessToken) as { role: string }).role).toBe('vendor');
  });

  it('requireAuth answers 401 UNAUTHENTICATED without a token', async () => {
    const res = await app.api.get('/api/auth/me').expect(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('the socket handshake sets the user and joins user:<id>; a bad token gives connect_error with the error body', async () => {
    const user = await createUser(app);
    const socket = await connectSocket(app, user.accessToken);
    try {
      const [server] = await app.server.io.fetchSockets();
      expect(server?.data.auth).toEqual({ userId: user.id, role: 'user', sessionId: expect.any(String) });
      expect(server?.rooms.has(`user:${user.id}`)).toBe(true);
    } finally {
      socket.close();
    }
    await expect(connectSocket(app, 'not-a-token')).rejects.toMatchObject({
      data: { code: 'UNAUTHENTICATED', message: expect.any(String) },
    });
    await expect(connectSocket(app, undefined)).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
  });
});

import jwt from 'jsonwebtoken';
import { io as connect } from 'socket.io-client';
import { authModuleOf } from './auth-helpers';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, type TestUser } from '../helpers/users';

const SECRET = 'test-secret-that-is-long-enough-0123456789';

function handshake(app: TestServer, token: unknown): Promise<{ connected: true } | { error: { code: string; message: string } }> {
  const socket = connect(app.url, { transports: ['websocket'], reconnection: false, auth: { token } });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.close();
      resolve({ connected: true });
    });
    socket.once('connect_error', (err: Error & { data?: { code: string; message: string } }) => {
      socket.close();
      resolve({ error: err.data ?? { code: 'none', message: err.message } });
    });
  });
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('access tokens: one pinned algorithm, iss, aud, exp, sub and role', () => {
  let app: TestServer;
  let user: TestUser;
  let claims: { sub: string; role: string; sid: string };

  beforeAll(async () => {
    app = await startTestServer();
    user = await createUser(app);
    const decoded = jwt.decode(user.accessToken) as jwt.JwtPayload & { role: string; sid: string };
    claims = { sub: decoded.sub as string, role: decoded.role, sid: decoded.sid };
  });
  afterAll(() => app.close());

  const sign = (payload: object, options: jwt.SignOptions = {}, secret = SECRET) =>
    jwt.sign(payload, secret, { algorithm: 'HS256', issuer: 'trade-backend', audience: 'trade-app', expiresIn: 900, ...options });

  it('carries iss, aud, sub, role, sid and a 15-minute exp, signed with HS256', () => {
    const header = JSON.parse(Buffer.from(user.accessToken.split('.')[0] as string, 'base64url').toString());
    expect(header.alg).toBe('HS256');
    const payload = jwt.verify(user.accessToken, SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(payload).toEqual(expect.objectContaining({ iss: 'trade-backend', aud: 'trade-app', sub: user.id, role: 'user' }));
    expect((payload.exp as number) - (payload.iat as number)).toBe(900);
  });

  it('accepts a correctly signed token (control for the cases below)', async () => {
    await app.api.get('/api/auth/me').set('Authorization', `Bearer ${sign(claims)}`).expect(200);
    expect(await handshake(app, sign(claims))).toEqual({ connected: true });
  });

  const cases: Array<[string, () => string, string]> = [
    ['expired', () => sign({ ...claims, iat: Math.floor(Date.now() / 1000) - 1000 }), 'TOKEN_EXPIRED'],
    ['alg: none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iss: 'trade-backend', aud: 'trade-app', exp: Math.floor(Date.now() / 1000) + 600 })}.`, 'UNAUTHENTICATED'],
    ['signed with HS512 (another algorithm)', () => sign(claims, { algorithm: 'HS512' }), 'UNAUTHENTICATED'],
    ['for another audience', () => sign(claims, { audience: 'admin-dashboard' }), 'UNAUTHENTICATED'],
    ['from another issuer', () => sign(claims, { issuer: 'someone-else' }), 'UNAUTHENTICATED'],
    ['signed with another secret', () => sign(claims, {}, 'another-secret-that-is-long-enough-000000'), 'UNAUTHENTICATED'],
    ['tampered (role raised to super_admin)', () => {
      const [h, , s] = sign(claims).split('.');
      return `${h}.${b64({ ...claims, role: 'super_admin', iss: 'trade-backend', aud: 'trade-app', exp: Math.floor(Date.now() / 1000) + 600 })}.${s}`;
    }, 'UNAUTHENTICATED'],
    ['without exp', () => jwt.sign(claims, SECRET, { algorithm: 'HS256', issuer: 'trade-backend', audience: 'trade-app' }), 'UNAUTHENTICATED'],
    ['with an unknown role', () => sign({ ...claims, role: 'root' }), 'UNAUTHENTICATED'],
    ['without a session', () => sign({ sub: claims.sub, role: claims.role }), 'UNAUTHENTICATED'],
    ['for a session that does not exist', () => sign({ ...claims, sid: '0123456789abcdef01234567' }), 'UNAUTHENTICATED'],
    ['not a JWT at all', () => 'hello', 'UNAUTHENTICATED'],
  ];

  it.each(cases)('refuses a token %s with 401 on REST and on the socket handshake', async (_name, make, code) => {
    const token = make();
    const res = await app.api.get('/api/auth/me').set('Authorization', `Bearer ${token}`).expect(401);
    expect(res.body.error).toEqual(expect.objectContaining({ code, message: expect.any(String) }));
    expect(await handshake(app, token)).toEqual({ error: expect.objectContaining({ code }) });
  });

  it('refuses a malformed Authorization header', async () => {
    for (const header of ['Token abc', `Basic ${user.accessToken}`, 'Bearer', `Bearer ${user.accessToken} extra`]) {
      const res = await app.api.get('/api/auth/me').set('Authorization', header).expect(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('after logout-all, existing access tokens fail on REST and on new socket connections', async () => {
    const victim = await createUser(app);
    expect(await handshake(app, victim.accessToken)).toEqual({ connected: true });
    await app.api.post('/api/auth/logout-all').set('Authorization', `Bearer ${victim.accessToken}`).expect(204);
    expect(await handshake(app, victim.accessToken)).toEqual({ error: expect.objectContaining({ code: 'UNAUTHENTICATED' }) });
    await app.api.get('/api/auth/me').set('Authorization', `Bearer ${victim.accessToken}`).expect(401);
  });

  it('a suspended user fails the handshake with ACCOUNT_SUSPENDED', async () => {
    const user = await createUser(app);
    await authModuleOf(app).access.suspend(user.id);
    expect(await handshake(app, user.accessToken)).toEqual({ error: expect.objectContaining({ code: 'ACCOUNT_SUSPENDED' }) });
  });

  it('closes the live sockets of sessions that logout-all revokes', async () => {
    const user = await createUser(app);
    const socket = connect(app.url, { transports: ['websocket'], reconnection: false, auth: { token: user.accessToken } });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const closed = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    await app.api.post('/api/auth/logout-all').set('Authorization', `Bearer ${user.accessToken}`).expect(204);
    await expect(closed).resolves.toBe('io server disconnect');
  });
});

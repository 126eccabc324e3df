import { Types } from 'mongoose';
import { io as connect, type Socket } from 'socket.io-client';
import { authModuleOf } from './auth-helpers';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser } from '../helpers/users';
import { until } from '../helpers/until';
import { hostAndPort, startTcpProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy';

const me = (app: TestServer, token: string) => app.api.get('/api/auth/me').set('Authorization', `Bearer ${token}`);

function openSocket(app: TestServer, token: string): Promise<Socket> {
  const socket = connect(app.url, { transports: ['websocket'], reconnection: false, auth: { token } });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

function handshakeError(app: TestServer, token: string): Promise<string> {
  const socket = connect(app.url, { transports: ['websocket'], reconnection: false, auth: { token } });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.once('connect_error', (err: Error & { data?: { code: string } }) => {
      socket.close();
      resolve(err.data?.code ?? err.message);
    });
  });
}


/** Store commands a server sends while `work` runs, by collection. */
async function commandsDuring(app: TestServer, work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (event: { commandName: string; command: Record<string, unknown> }) => {
    seen.push(`${event.commandName}:${String(event.command[event.commandName])}`);
  };
  const client = app.ctx.mongo.getClient();
  client.on('commandStarted', listener);
  try {
    await work();
  } finally {
    client.off('commandStarted', listener);
  }
  return seen;
}

describe('the access cache across two processes sharing Redis', () => {
  let a: TestServer;
  let b: TestServer;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    a = await startTestServer();
    b = await startTestServer({ names: a.names, ownsDatabases: false, monitorCommands: true });
    await until(() => authModuleOf(a).accessCache.stats().live && authModuleOf(b).accessCache.stats().live, 'both channels');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await b.close();
    await a.close();
  });

  it('authenticates from the cache in the steady state: no session or user read, and /me from the profile cache', async () => {
    const user = await createUser(a);
    await me(b, user.accessToken).expect(200);
    const commands = await commandsDuring(b, () => me(b, user.accessToken).expect(200));
    expect(commands.filter((c) => c.endsWith(':auth_sessions'))).toEqual([]);
    // The profile itself comes from users' document cache (tests/users/profile-cache.test.ts).
    expect(commands.filter((c) => c.endsWith(':users'))).toEqual([]);
  });

  it('a session revoked on process A is refused on its next request on process B', async () => {
    const user = await createUser(a);
    await me(b, user.accessToken).expect(200);
    await me(b, user.accessToken).expect(200);
    await a.api.post('/api/auth/logout').set('Authorization', `Bearer ${user.accessToken}`).expect(204);
    expect((await me(b, user.accessToken).expect(401)).body.error.code).toBe('UNAUTHENTICATED');
  });

  it('logout-all on A ends every session on B at once', async () => {
    const user = await createUser(a);
    const second = await a.api.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    await me(b, user.accessToken).expect(200);
    await me(b, second.body.data.accessToken).expect(200);
    await a.api.post('/api/auth/logout-all').set('Authorization', `Bearer ${user.accessToken}`).expect(204);
    await me(b, user.accessToken).expect(401);
    await me(b, second.body.data.accessToken).expect(401);
  });

  it('a password change on A ends every other session on B at once, and keeps its own', async () => {
    const user = await createUser(a);
    const phone = await a.api.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
    await me(b, user.accessToken).expect(200);
    await me(b, phone.body.data.accessToken).expect(200);
    await a.api
      .post('/api/auth/change-password')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .send({ currentPassword: user.password, newPassword: 'A new pass phrase 42' })
      .expect(200);
    await me(b, phone.body.data.accessToken).expect(401);
    await me(b, user.accessToken).expect(200);
  });

  it('a user suspended on A is refused at the next request on B, and their open sockets on B are closed', async () => {
    const user = await createUser(a);
    await me(b, user.accessToken).expect(200);
    const socket = await openSocket(b, user.accessToken);
    sockets.push(socket);
    const closed = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    await authModuleOf(a).access.suspend(user.id);
    expect((await me(b, user.accessToken).expect(403)).body.error.code).toBe('ACCOUNT_SUSPENDED');
    await expect(closed).resolves.toBe('io server disconnect');
    expect(await handshakeError(b, user.accessToken)).toBe('ACCOUNT_SUSPENDED');
    await authModuleOf(a).access.reinstate(user.id);
    await me(b, user.accessToken).expect(200);
  });

  it('a role changed on A is the role used on B at the next request; a deleted account is signed out', async () => {
    const user = await createUser(a, { role: 'vendor' });
    const role = async () => (await me(b, user.accessToken).expect(200)).body.data.role as string;
    expect(await role()).toBe('vendor');
    await authModuleOf(a).access.changeRole(user.id, 'user');
    expect(await role()).toBe('user');
    await authModuleOf(a).access.remove(user.id);
    await me(b, user.accessToken).expect(401);
  });

  it('a refresh token reused on A (theft) revokes the session for B at once', async () => {
    const user = await createUser(a);
    await me(b, user.accessToken).expect(200);
    await a.api.post('/api/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    // Past the grace the replay is theft: simulated by marking the use older than the grace.
    await a.ctx.mongo.collection('auth_refresh_tokens').updateMany({ userId: new Types.ObjectId(user.id) }, { $set: { usedAt: new Date(Date.now() - 60_000) } });
    await a.ctx.mongo.collection('auth_token_claims').updateMany({}, { $set: { claimedAt: new Date(Date.now() - 60_000) } });
    await a.api.post('/api/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    await me(b, user.accessToken).expect(401);
  });
});


describe('when Redis is unreachable the cache does not serve', () => {
  let relay: TcpProxy;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    // express-rate-limit reports every request it lets through while its store is cut.
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    relay = await startTcpProxy(hostAndPort(process.env.REDIS_URL as string));
    a = await startTestServer();
    b = await startTestServer({ names: a.names, ownsDatabases: false, env: { REDIS_URL: viaProxy(process.env.REDIS_URL as string, relay) } });
    await until(() => authModuleOf(b).accessCache.stats().live, 'B channel');
  });
  afterAll(async () => {
    relay.up();
    await b.close();
    await a.close();
    relay.close().catch(() => undefined);
  });

  it('B falls back to the store while its Redis is cut, so a revocation it could not hear still applies, and trusts nothing cached before once back', async () => {
    const user = await createUser(a);
    const other = await createUser(a);
    await me(b, user.accessToken).expect(200);
    await me(b, other.accessToken).expect(200);
    const hits = authModuleOf(b).accessCache.stats().hits;
    await me(b, user.accessToken).expect(200);
    expect(authModuleOf(b).accessCache.stats().hits).toBe(hits + 2); // the session and the user

    relay.down();
    await until(() => !authModuleOf(b).accessCache.stats().live, 'B channel down');
    // Revoked on A; A publishes, B cannot hear it.
    await a.api.post('/api/auth/logout').set('Authorization', `Bearer ${user.accessToken}`).expect(204);
    expect((await me(b, user.accessToken).expect(401)).body.error.code).toBe('UNAUTHENTICATED');
    // Sessions that are still open keep working, from the store.
    await me(b, other.accessToken).expect(200);

    relay.up();
    await until(() => authModuleOf(b).accessCache.stats().live, 'B channel back');
    await me(b, user.accessToken).expect(401);
    await me(b, other.accessToken).expect(200);
  });

  it('a subscriber connection that goes silent (half-open) is found by its ping, and nothing cached before is served', async () => {
    const user = await createUser(a);
    await me(b, user.accessToken).expect(200);
    await me(b, user.accessToken).expect(200);
    const generation = () => authModuleOf(b).accessCache.stats().generation;
    const before = generation();
    relay.freezeSubscribers();
    // B cannot hear this revocation: its subscriber's connection is open but delivers nothing.
    await a.api.post('/api/auth/logout').set('Authorization', `Bearer ${user.accessToken}`).expect(204);
    await until(() => generation() !== before, 'B to notice the silence');
    await me(b, user.accessToken).expect(401);
  });
});

describe('without REDIS_URL (one process) the same guarantee holds in process', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer({ env: { REDIS_URL: '' } });
  });
  afterAll(() => app.close());

  it('serves from the cache, and a sign-out or a suspension applies at the next request', async () => {
    const user = await createUser(app);
    const other = await createUser(app);
    await me(app, user.accessToken).expect(200);
    await me(app, other.accessToken).expect(200);
    const hits = authModuleOf(app).accessCache.stats().hits;
    await me(app, other.accessToken).expect(200);
    expect(authModuleOf(app).accessCache.stats().hits).toBeGreaterThan(hits);
    await app.api.post('/api/auth/logout').set('Authorization', `Bearer ${user.accessToken}`).expect(204);
    await me(app, user.accessToken).expect(401);
    await authModuleOf(app).access.suspend(other.id);
    expect((await me(app, other.accessToken).expect(403)).body.error.code).toBe('ACCOUNT_SUSPENDED');
  });
});

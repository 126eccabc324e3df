import http from 'node:http';
import zlib from 'node:zlib';
import { io as connect, type Socket } from 'socket.io-client';
import { spawnListeningMain } from '../helpers/process';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, nextEvent, openSocket } from '../chat/chat-helpers';

/** Regression tests for each defect of the hardening review: every one answered 500 or crashed. */

function rawRequest(
  url: string,
  options: { method: string; path: string; headers?: Record<string, string>; body?: Buffer },
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method: options.method, path: options.path, headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('a long-polling Socket.io request against a real server process', () => {
  it('is answered by Socket.io alone and the process keeps serving', async () => {
    const server = await spawnListeningMain('poll');
    try {
      const url = `http://127.0.0.1:${server.port}`;
      for (let i = 0; i < 3; i += 1) {
        const poll = await rawRequest(url, { method: 'GET', path: '/socket.io/?EIO=4&transport=polling' });
        expect(poll.status).toBe(200);
        expect(poll.body).toMatch(/^0\{"sid":/);
      }
      const unknownTransport = await rawRequest(url, { method: 'GET', path: '/socket.io/?EIO=4&transport=nope' });
      expect(unknownTransport.status).toBe(400);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const health = await rawRequest(url, { method: 'GET', path: '/api/system/health' });
      expect(health.status).toBe(200);
      expect(server.child.exitCode).toBeNull();
      expect(server.output()).not.toMatch(/Cannot set headers|Unhandled promise rejection/);
    } finally {
      await server.cleanup();
    }
  });
});

describe('hardening against malformed input', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let conversationId: string;

  beforeAll(async () => {
    app = await startTestServer({ env: { ...CHAT_TEST_ENV, AUTH_RATE_LIMIT_MAX: '100000' } });
    [alice, bob] = await Promise.all([createUser(app), createUser(app)]);
    const created = await app.api
      .post('/api/chat/conversations')
      .set('Authorization', bearer(alice))
      .send({ type: 'direct', participantIds: [bob.id] })
      .expect(201);
    conversationId = created.body.data.id;
  });
  afterAll(() => app.close());

  const expectEnvelope = (body: { error?: { code?: string; requestId?: string } }, code: string) => {
    expect(body.error?.code).toBe(code);
    expect(typeof body.error?.requestId).toBe('string');
  };

  it('lets a default Socket.io client connect by long-polling, upgrade, chat and disconnect', async () => {
    const polling = connect(app.url, { auth: { token: alice.accessToken }, reconnection: false, autoConnect: false });
    const receiver = await openSocket(app.url, bob);
    try {
      let firstTransport = '';
      const upgraded = new Promise<string>((resolve) => {
        polling.io.on('open', () => {
          firstTransport = polling.io.engine.transport.name;
          polling.io.engine.once('upgrade', (transport: { name: string }) => resolve(transport.name));
        });
      });
      const connected = new Promise<void>((resolve, reject) => {
        polling.once('connect', () => resolve());
        polling.once('connect_error', reject);
      });
      polling.connect();
      await connected;
      expect(firstTransport).toBe('polling');
      expect(await upgraded).toBe('websocket');
      const arrived = nextEvent<{ text: string }>(receiver, 'chat:message', (m) => m.text === 'over polling');
      const ack = await polling.timeout(5000).emitWithAck('chat:send', { conversationId, clientMessageId: `poll-${Date.now()}`, text: 'over polling' });
      expect(ack.ok).toBe(true);
      expect((await arrived).text).toBe('over polling');
    } finally {
      polling.close();
      receiver.close();
    }
    await app.api.get('/api/system/health').expect(200);
  });

  it.each(['%ZZ', '%', '%C0%AE'])('answers a malformed percent-escape %s in a path id with 400', async (bad) => {
    for (const path of [`/api/users/${bad}`, `/api/chat/conversations/${bad}/messages`, `/api/chat/messages/${bad}`]) {
      const res = await rawRequest(app.url, { method: 'GET', path, headers: { Authorization: bearer(alice) } });
      expect(res.status).toBe(400);
      expectEnvelope(JSON.parse(res.body), 'VALIDATION_FAILED');
    }
  });

  it.each(['gzip', 'deflate', 'br'])('answers a JSON body labelled %s but not compressed with 400', async (encoding) => {
    for (const path of ['/api/auth/login', '/api/auth/register', `/api/chat/conversations/${conversationId}/messages`]) {
      const res = await rawRequest(app.url, {
        method: 'POST',
        path,
        headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding, Authorization: bearer(alice) },
        body: Buffer.from(JSON.stringify({ email: 'a@example.com', password: 'x' })),
      });
      expect(res.status).toBe(400);
      expectEnvelope(JSON.parse(res.body), 'VALIDATION_FAILED');
    }
  });

  it('reads a body that really is gzip-compressed, and refuses an encoding it does not know with 415', async () => {
    const body = zlib.gzipSync(Buffer.from(JSON.stringify({ email: alice.email, password: alice.password })));
    const ok = await rawRequest(app.url, { method: 'POST', path: '/api/auth/login', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body });
    expect(ok.status).toBe(200);
    const refused = await rawRequest(app.url, {
      method: 'POST',
      path: '/api/auth/login',
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'x-unknown' },
      body: Buffer.from('{}'),
    });
    expect(refused.status).toBe(415);
    expectEnvelope(JSON.parse(refused.body), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a repeated query parameter on every list route', async () => {
    const paths = [
      '/api/chat/conversations?limit=5&limit=5',
      `/api/chat/conversations/${conversationId}/messages?limit=5&limit=5`,
      `/api/chat/conversations/${conversationId}/messages?direction=forward&direction=backward`,
      '/api/chat/sync?limit=5&limit=5',
      `/api/users/${bob.id}/followers?limit=5&limit=5`,
      `/api/users/${bob.id}/following?cursor=a&cursor=b`,
    ];
    for (const path of paths) {
      const res = await app.api.get(path).set('Authorization', bearer(alice));
      expect(res.status).toBe(400);
      expectEnvelope(res.body, 'VALIDATION_FAILED');
      expect(res.body.error.details[0].message).toMatch(/given once/);
    }
  });

  it('refuses an email holding a lone UTF-16 surrogate on every route that takes one', async () => {
    const email = '\ud800@x.com';
    const attempts = [
      app.api.post('/api/auth/register').send({ email, password: 'Str0ng-password!', name: 'X' }),
      app.api.post('/api/auth/login').send({ email, password: 'whatever' }),
      app.api.post('/api/auth/resend-verification').send({ email }),
      app.api.post('/api/auth/forgot-password').send({ email }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(400);
      expectEnvelope(res.body, 'VALIDATION_FAILED');
    }
  });

  it('refuses notification preferences of the wrong shape without running the sanitiser', async () => {
    for (const notifications of [null, [], 'email', 5, { chat: 'email' }, { chat: null }]) {
      const res = await app.api.patch('/api/auth/me/preferences').set('Authorization', bearer(alice)).send({ notifications });
      expect(res.status).toBe(400);
      expectEnvelope(res.body, 'VALIDATION_FAILED');
    }
  });

  it('refuses an array where a single string is expected, and stores nothing', async () => {
    const register = await app.api.post('/api/auth/register').send({ email: `arr-${Date.now()}@example.com`, password: 'Str0ng-password!', name: 'X', role: ['user'] });
    expect(register.status).toBe(400);
    const me = bearer(alice);
    const prefs = await app.api.patch('/api/auth/me/preferences').set('Authorization', me).send({ quietHours: { start: ['22:00'] } });
    expect(prefs.status).toBe(400);
    const country = await app.api.patch('/api/auth/me').set('Authorization', me).send({ business: { address: { country: ['IN'] } } });
    expect(country.status).toBe(400);
    const direct = await app.api.post('/api/chat/conversations').set('Authorization', me).send({ type: ['direct'], participantIds: [bob.id] });
    expect(direct.status).toBe(400);
    const message = await app.api
      .post(`/api/chat/conversations/${conversationId}/messages`)
      .set('Authorization', me)
      .send({ clientMessageId: 'array-type', type: ['text'], text: 'hi' });
    expect(message.status).toBe(400);
    for (const seq of [[2], [4, 1]]) {
      const read = await app.api.post(`/api/chat/conversations/${conversationId}/read`).set('Authorization', me).send({ seq });
      expect(read.status).toBe(400);
    }
    const group = await app.api
      .post('/api/chat/conversations')
      .set('Authorization', me)
      .send({ type: 'group', title: 'g', participantIds: [bob.id] })
      .expect(201);
    const role = await app.api
      .patch(`/api/chat/conversations/${group.body.data.id}/members/${bob.id}`)
      .set('Authorization', me)
      .send({ role: ['member'] });
    expect(role.status).toBe(400);

    const page = await app.api.get(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', me).expect(200);
    expect(page.body.data.map((m: { clientMessageId?: string }) => m.clientMessageId)).not.toContain('array-type');
    const stored = await app.ctx.mongo.collection('users').findOne({ email: { $regex: /^arr-/ } });
    expect(stored).toBeNull();
  });

  describe('over sockets', () => {
    let socket: Socket;
    beforeAll(async () => {
      socket = await openSocket(app.url, alice);
    });
    afterAll(() => socket.close());

    it('answers system:ping with no payload at all', async () => {
      const ack = await socket.timeout(5000).emitWithAck('system:ping');
      expect(ack).toEqual({ ok: true, data: { echo: null, serverTime: expect.any(String) } });
    });

    it('refuses an array for a string on chat:send, and never echoes a bad id on chat:leave', async () => {
      const send = await socket.timeout(5000).emitWithAck('chat:send', { conversationId, clientMessageId: 'sock-array', type: ['text'], text: 'x' });
      expect(send.ok).toBe(false);
      expect(send.error.code).toBe('VALIDATION_FAILED');
      for (const bad of [[conversationId], Buffer.from(conversationId)]) {
        const leave = await socket.timeout(5000).emitWithAck('chat:leave', { conversationId: bad });
        expect(leave.ok).toBe(false);
        expect(leave.error.code).toBe('VALIDATION_FAILED');
      }
    });

    it('gives every error ack a request id of its own', async () => {
      const first = await socket.timeout(5000).emitWithAck('chat:join', { conversationId: 'nope' });
      const second = await socket.timeout(5000).emitWithAck('chat:join', { conversationId: 'nope' });
      expect(first.error.requestId).toEqual(expect.any(String));
      expect(second.error.requestId).toEqual(expect.any(String));
      expect(first.error.requestId).not.toBe(second.error.requestId);
    });
  });
});

describe('the process-level guard', () => {
  it('logs and counts an unhandled rejection and an uncaught exception, and the process keeps running', async () => {
    const { spawn } = await import('node:child_process');
    const path = await import('node:path');
    const root = path.resolve(__dirname, '../..');
    const script = `
      const { installShutdownHandlers } = require('./src/platform/shutdown');
      const { createLogger } = require('./src/platform/logger');
      const { createMetrics } = require('./src/platform/metrics');
      const metrics = createMetrics();
      installShutdownHandlers(createLogger({ level: 'error', json: true }), async () => undefined, (source) => metrics.unhandledErrors.inc({ source }));
      Promise.reject(new Error('nobody caught this'));
      setTimeout(() => { throw new Error('thrown from a timer'); }, 10);
      setTimeout(async () => {
        const text = await metrics.registry.getSingleMetricAsString('unhandled_errors_total');
        console.log('STILL ALIVE');
        console.log(text);
        metrics.stop();
        process.exit(0);
      }, 200);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, env: { PATH: process.env.PATH } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(output).toContain('STILL ALIVE');
    expect(output).toMatch(/unhandled_errors_total\{source="rejection"\} 1/);
    expect(output).toMatch(/unhandled_errors_total\{source="exception"\} 1/);
    expect(output).toContain('nobody caught this');
  });
});

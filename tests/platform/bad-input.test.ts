import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { Socket } from 'socket.io-client';
import type { CommandStartedEvent } from 'mongodb';
import { loadOpenApiDocument } from '../../src/platform/openapi';
import { currentRequestId } from '../../src/platform/request-context';
import { registeredEvents } from '../../src/platform/socket/events';
import type { Schema } from '../../src/platform/http/validate';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, openSocket } from '../chat/chat-helpers';
import {
  bodyFields,
  listOperations,
  plausibleValue,
  setPath,
  PATH_MUTATIONS,
  PROTOTYPE_BODIES,
  QUERY_MUTATIONS,
  VALUE_MUTATIONS,
  type Operation,
} from '../helpers/openapi-walk';

/**
 * The generated bad-input suite. It walks docs/openapi.yaml (which another test keeps equal to
 * the mounted routes) and the registry of socket events, and sends every route and every
 * documented field wrong types, arrays for scalars, null, oversized strings, malformed escapes,
 * repeated parameters, bad encodings, operator objects and prototype keys. For every answer:
 * never a 5xx, always the error envelope with the request's id, and a refused input (400, 413,
 * 415) issued no write to the store. A route or event added later is covered without editing this.
 */

const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify', 'create', 'createIndexes', 'drop', 'dropDatabase', 'dropIndexes', 'bulkWrite']);
const REFUSED = new Set([400, 413, 415]);

interface Answer {
  status: number;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function send(url: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  const { hostname, port } = new URL(url);
  // Node sends a GET's body without framing unless told its length.
  const framed = body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method: method.toUpperCase(), path, headers: framed, agent }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    // A request the server never answers is a failure of its own, not a hung suite.
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.end(body);
  });
}

describe('every documented input, given bad values', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;
  let directId: string;
  let groupId: string;
  let messageId: string;
  const writesByRequest = new Map<string, string[]>();

  beforeAll(async () => {
    app = await startTestServer({
      monitorCommands: true,
      // Every webhook provider configured, so garbage reaches verification (a provider without a
      // secret answers 503 PROVIDER_UNAVAILABLE before reading anything, which is not what is tested here).
      env: {
        ...CHAT_TEST_ENV,
        AUTH_RATE_LIMIT_MAX: '1000000',
        UPLOAD_RATE_LIMIT_MAX: '1000000',
        STRIPE_WEBHOOK_SECRET: 'whsec_fuzz_secret',
        RAZORPAY_WEBHOOK_SECRET: 'razorpay-fuzz-secret',
        PAYU_MERCHANT_KEY: 'fuzzkey',
        PAYU_MERCHANT_SALT: 'fuzzsalt',
        TWILIO_AUTH_TOKEN: 'twilio-fuzz-token',
        LOGISTICS_WEBHOOK_SECRET: 'logistics-fuzz-secret-0123456789',
        AI_WEBHOOK_SECRET: 'ai-fuzz-secret-0123456789abcdef',
        PUBLIC_BASE_URL: 'https://api.example.test',
      },
    });
    // Store writes are attributed to the request (or socket event) whose async context issued them.
    app.ctx.mongo.getClient().on('commandStarted', (event: CommandStartedEvent) => {
      const id = currentRequestId();
      if (!id || !WRITE_COMMANDS.has(event.commandName)) return;
      writesByRequest.set(id, [...(writesByRequest.get(id) ?? []), `${event.commandName} ${String(event.command[event.commandName])}`]);
    });
    [alice, bob, admin] = await Promise.all([createUser(app), createUser(app), createUser(app, { role: 'admin' })]);
    const auth = { Authorization: bearer(alice) };
    const direct = await app.api.post('/api/chat/conversations').set(auth).send({ type: 'direct', participantIds: [bob.id] }).expect(201);
    directId = direct.body.data.id;
    const group = await app.api.post('/api/chat/conversations').set(auth).send({ type: 'group', title: 'Fuzz', participantIds: [bob.id] }).expect(201);
    groupId = group.body.data.id;
    const message = await app.api.post(`/api/chat/conversations/${directId}/messages`).set(auth).send({ clientMessageId: 'fuzz-base', text: 'hello' }).expect(201);
    messageId = message.body.data.id;
  });
  afterAll(async () => {
    agent.destroy();
    await app.close();
  });

  /** Real ids where a route addresses something the caller owns, so checks past "not found" run too. */
  function pathValue(op: Operation, param: string): string {
    if (op.path.startsWith('/api/chat/conversations/{id}/members')) return param === 'userId' ? bob.id : groupId;
    if (op.path.startsWith('/api/chat/conversations/{id}')) return directId;
    if (op.path.startsWith('/api/chat/messages/{id}')) return messageId;
    if (op.path.startsWith('/api/users/{id}')) return bob.id;
    return new Types.ObjectId().toHexString();
  }

  function concretePath(op: Operation, override?: { param: string; raw: string }): string {
    return op.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
      override && override.param === name ? override.raw : encodeURIComponent(pathValue(op, name)),
    );
  }

  function callerFor(op: Operation): TestUser {
    return op.path.startsWith('/api/system') || op.path.startsWith('/api/admin') ? admin : alice;
  }

  async function relogin(user: TestUser): Promise<void> {
    const res = await app.api.post('/api/auth/login').send({ email: user.email, password: user.password });
    if (res.status === 200) user.accessToken = res.body.data.accessToken;
  }

  const failures: string[] = [];
  const counts = { requests: 0, refused: 0, operations: new Set<string>() };

  // Enough to diagnose; past it the walk stops rather than spend minutes listing one broken rule.
  const MAX_FAILURES = 40;

  function check(label: string, requestId: string, answer: Answer): void {
    counts.requests += 1;
    const where = `${label} → ${answer.status}`;
    if (answer.status >= 500) {
      failures.push(`${where}: ${answer.body.slice(0, 200)}`);
      return;
    }
    if (answer.status >= 400) {
      let parsed: { error?: { code?: unknown; message?: unknown; requestId?: unknown } } = {};
      try {
        parsed = JSON.parse(answer.body) as typeof parsed;
      } catch {
        failures.push(`${where}: not JSON: ${answer.body.slice(0, 120)}`);
        return;
      }
      const error = parsed.error;
      if (typeof error?.code !== 'string' || typeof error.message !== 'string' || error.requestId !== requestId) {
        failures.push(`${where}: not the error envelope with this request's id: ${answer.body.slice(0, 200)}`);
      }
    }
    if (REFUSED.has(answer.status)) {
      counts.refused += 1;
      const writes = writesByRequest.get(requestId);
      if (writes) failures.push(`${where}: refused, yet wrote to the store: ${writes.join(', ')}`);
    }
  }

  async function request(
    op: Operation,
    label: string,
    options: { path?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<void> {
    counts.operations.add(`${op.method} ${op.path}`);
    if (failures.length >= MAX_FAILURES) return;
    const caller = callerFor(op);
    const attempt = async () => {
      const requestId = `fuzz-${randomBytes(8).toString('hex')}`;
      const headers: Record<string, string> = { 'X-Request-Id': requestId, ...(op.secured ? { Authorization: bearer(caller) } : {}) };
      if (options.body !== undefined) headers['Content-Type'] = 'application/json';
      Object.assign(headers, options.headers);
      const answer = await send(app.url, op.method, options.path ?? concretePath(op), headers, options.body).catch(
        (err: Error): Answer => ({ status: 599, body: `no answer: ${err.message}` }),
      );
      return { requestId, answer };
    };
    let { requestId, answer } = await attempt();
    // A mutation that happened to be valid may have signed the caller out (logout, logout-all).
    if (answer.status === 401 && op.secured) {
      await relogin(caller);
      ({ requestId, answer } = await attempt());
    }
    check(`${op.method.toUpperCase()} ${op.path} [${label}]`, requestId, answer);
  }

  it('answers every route and field of docs/openapi.yaml with a client error or success, never a 5xx, and a refusal changes nothing', async () => {
    const doc = (await loadOpenApiDocument()) as Parameters<typeof listOperations>[0];
    const operations = listOperations(doc);
    expect(operations.length).toBeGreaterThanOrEqual(40);

    for (const op of operations) {
      // Path ids: malformed escapes, traversal, injection-looking text, overlong values.
      for (const param of op.pathParams) {
        for (const raw of PATH_MUTATIONS) await request(op, `path ${param}=${raw.slice(0, 20)}`, { path: concretePath(op, { param, raw }) });
      }
      // Query parameters: repeated, empty, long, operator brackets, bad escapes.
      for (const { name } of op.query) {
        for (const [label, make] of QUERY_MUTATIONS) await request(op, `query ${name} ${label}`, { path: `${concretePath(op)}?${make(name)}` });
      }
      if (op.body === 'multipart') {
        await request(op, 'JSON instead of multipart', { body: '{"file": "x"}' });
        await request(op, 'multipart without a boundary', { body: 'x', headers: { 'Content-Type': 'multipart/form-data' } });
        await request(op, 'mislabelled gzip', { body: '--x--', headers: { 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Encoding': 'gzip' } });
        continue;
      }
      // Whole bodies: not an object, not JSON, mislabelled encodings, prototype keys, deep nesting.
      const wholeBodies: [string, string | Buffer, Record<string, string>?][] = [
        ['array body', '[]'],
        ['string body', '"text"'],
        ['null body', 'null'],
        ['malformed JSON', '{"a":'],
        ['mislabelled gzip', '{"a":1}', { 'Content-Encoding': 'gzip' }],
        ['mislabelled deflate', '{"a":1}', { 'Content-Encoding': 'deflate' }],
        ['unknown encoding', '{"a":1}', { 'Content-Encoding': 'x-zip' }],
        ['unknown charset', '{"a":1}', { 'Content-Type': 'application/json; charset=utf-7' }],
        ['text/plain', 'a=1', { 'Content-Type': 'text/plain' }],
        ['deep nesting', `${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`],
        ...PROTOTYPE_BODIES.map((text, i): [string, string] => [`prototype keys ${i}`, text]),
      ];
      for (const [label, body, headers] of wholeBodies) await request(op, label, { body, headers });
      if (!op.body) continue;

      // Each documented field in turn, in an otherwise empty body and in a plausible one.
      const base = plausibleValue(op.body) as Record<string, unknown>;
      for (const field of bodyFields(op.body)) {
        for (const [label, value] of VALUE_MUTATIONS) {
          for (const [baseLabel, start] of [['empty', {}], ['plausible', structuredClone(base)]] as const) {
            const body = JSON.stringify(setPath(start as Record<string, unknown>, field.path, value));
            await request(op, `${field.path} = ${label}, ${baseLabel} base`, { body });
          }
        }
      }
    }

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The walk really reached the validators: most of what it sent was refused as a client error.
    expect(counts.operations.size).toBe(operations.length);
    if (failures.length < MAX_FAILURES) expect(counts.refused).toBeGreaterThan(counts.requests / 2);
    expect(failures).toEqual([]);
  }, 600_000);

  describe('socket events', () => {
    let socket: Socket;
    beforeAll(async () => {
      socket = await openSocket(app.url, alice);
    });
    afterAll(() => socket.close());

    function typeValue(field: string, schema: Schema[string]): unknown {
      if (field === 'conversationId') return directId;
      if (field === 'messageId') return messageId;
      switch (schema.type) {
        case 'integer':
        case 'number':
          return 1;
        case 'boolean':
          return true;
        case 'array':
          return [];
        case 'object':
          return {};
        default:
          return field === 'clientMessageId' ? `fuzz-${randomBytes(4).toString('hex')}` : 'Fuzz-value-1';
      }
    }

    it('answers every registered event and every field with an ok ack or a client error ack, never INTERNAL, and a refusal changes nothing', async () => {
      const events = registeredEvents();
      expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['system:ping', 'chat:join', 'chat:send', 'chat:read']));
      const socketFailures: string[] = [];
      let refused = 0;
      let sent = 0;

      const emit = async (event: string, label: string, ...args: unknown[]) => {
        if (socketFailures.length >= MAX_FAILURES) return;
        sent += 1;
        let ack: { ok?: boolean; error?: { code?: unknown; message?: unknown; requestId?: unknown } };
        try {
          ack = (await socket.timeout(5_000).emitWithAck(event, ...args)) as typeof ack;
        } catch {
          socketFailures.push(`${event} [${label}]: no ack within 5 s`);
          return;
        }
        if (ack.ok === true) return;
        const error = ack.error;
        if (ack.ok !== false || typeof error?.code !== 'string' || typeof error.message !== 'string' || typeof error.requestId !== 'string') {
          socketFailures.push(`${event} [${label}]: not an ack envelope: ${JSON.stringify(ack).slice(0, 200)}`);
          return;
        }
        if (error.code === 'INTERNAL' || error.code === 'SERVICE_UNAVAILABLE') socketFailures.push(`${event} [${label}]: ${error.code}`);
        if (error.code === 'VALIDATION_FAILED') {
          refused += 1;
          const writes = writesByRequest.get(error.requestId);
          if (writes) socketFailures.push(`${event} [${label}]: refused, yet wrote: ${writes.join(', ')}`);
        }
      };

      for (const { event, schema } of events) {
        const fields = Object.entries(schema).filter(([field]) => !field.includes('*'));
        const base = Object.fromEntries(fields.filter(([, s]) => !s.optional).map(([field, s]) => [field, typeValue(field, s)]));
        for (const [label, payload] of [['null', null], ['an array', []], ['a string', 'x'], ['a number', 1], ['binary', Buffer.from('x')]] as const) {
          await emit(event, `payload ${label}`, payload);
        }
        await emit(event, 'no payload');
        await emit(event, 'prototype keys', JSON.parse(PROTOTYPE_BODIES[0] as string));
        for (const [field] of Object.entries(schema)) {
          const path = field.replace(/\.\*/g, '.0');
          for (const [label, value] of [...VALUE_MUTATIONS, ['binary', Buffer.from('x')] as [string, unknown]]) {
            for (const start of [{}, structuredClone(base)]) {
              await emit(event, `${path} = ${label}`, setPath(start as Record<string, unknown>, path, value));
            }
          }
        }
      }
      if (socketFailures.length < MAX_FAILURES) expect(refused).toBeGreaterThan(sent / 2);
      expect(socketFailures).toEqual([]);
    }, 300_000);
  });
});

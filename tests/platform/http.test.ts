import express from 'express';
import request from 'supertest';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { errorHandler } from '../../src/platform/http/error-handler';
import { requestId } from '../../src/platform/http/request-id';
import { createLogger } from '../../src/platform/logger';

describe('the HTTP platform', () => {
  let app: TestServer;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestServer({ env: { CORS_ORIGINS: 'https://admin.example.com', JSON_BODY_LIMIT: '1kb' } });
    admin = await createUser(app, { role: 'admin' });
  });
  afterAll(() => app.close());

  it('sends the helmet security headers', async () => {
    const res = await app.api.get('/api/system/health').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('allows a configured CORS origin and withholds the header from any other', async () => {
    const allowed = await app.api.get('/api/system/health').set('Origin', 'https://admin.example.com');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://admin.example.com');
    const denied = await app.api.get('/api/system/health').set('Origin', 'https://evil.example.com');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await app.api
      .options('/api/system/stats')
      .set('Origin', 'https://evil.example.com')
      .set('Access-Control-Request-Method', 'GET');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('echoes a client request id, or makes one, on every response', async () => {
    const given = await app.api.get('/api/system/health').set('X-Request-Id', 'abc-123');
    expect(given.headers['x-request-id']).toBe('abc-123');
    const made = await app.api.get('/api/system/health').set('X-Request-Id', 'bad id with spaces');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers malformed JSON with 400 VALIDATION_FAILED in the envelope', async () => {
    const res = await app.api
      .post('/api/system/health')
      .set('Content-Type', 'application/json')
      .set('X-Request-Id', 'req-malformed')
      .send('{"broken": ');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'The request body is not valid JSON',
        details: [{ field: 'body', message: 'Malformed JSON' }],
        requestId: 'req-malformed',
      },
    });
  });

  it('answers an unknown route with 404 NOT_FOUND', async () => {
    const res = await app.api.get('/api/nowhere').expect(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(res.body.error.requestId).toEqual(expect.any(String));
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await app.api
      .post('/api/system/health')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ blob: 'x'.repeat(5000) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('serves Prometheus metrics with the HTTP histogram labelled by route template', async () => {
    await app.api.get('/api/system/stats').set('Authorization', bearer(admin)).expect(200);
    const res = await app.api.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toContain('process_cpu_user_seconds_total');
    expect(res.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/system\/stats",status="200"\} \d+/);
    expect(res.text).toContain('socketio_connected_sockets');
  });

  it('reports process statistics to admins only', async () => {
    const anonymous = await app.api.get('/api/system/stats');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
    const member = await createUser(app);
    const forbidden = await app.api.get('/api/system/stats').set('Authorization', bearer(member));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('FORBIDDEN');
    const res = await app.api.get('/api/system/stats').set('Authorization', bearer(admin)).expect(200);
    expect(res.body.data).toMatchObject({
      uptimeSeconds: expect.any(Number),
      memory: { rssBytes: expect.any(Number) },
      eventLoopLagMs: { p99: expect.any(Number) },
      openSockets: 0,
    });
    expect(res.body.data.requests.total).toBeGreaterThan(0);
  });

  it('serves the OpenAPI document and the Swagger UI', async () => {
    const spec = await app.api.get('/api/openapi.json').expect(200);
    expect(spec.body.openapi).toBe('3.1.0');
    const ui = await app.api.get('/api/docs/').expect(200);
    expect(ui.text).toContain('swagger-ui');
  });
});

describe('the error handler', () => {
  const logger = createLogger({ level: 'error', json: true, silent: true });

  function appThatThrows(err: unknown) {
    const app = express();
    app.use(requestId);
    app.get('/boom', () => {
      throw err;
    });
    app.use(errorHandler(logger));
    return app;
  }

  it('turns an unexpected error into 500 INTERNAL without leaking its message or stack', async () => {
    const secret = new Error('connection string mongodb://admin:hunter2@db failed at line 42');
    const res = await request(appThatThrows(secret)).get('/boom').expect(500);
    expect(res.body.error.code).toBe('INTERNAL');
    expect(JSON.stringify(res.body)).not.toMatch(/hunter2|mongodb:|line 42|stack/);
  });

  it('turns a database outage into 503 SERVICE_UNAVAILABLE', async () => {
    const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), { name: 'MongoServerSelectionError' });
    const res = await request(appThatThrows(outage)).get('/boom').expect(503);
    expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(res.body)).not.toContain('27017');
  });
});

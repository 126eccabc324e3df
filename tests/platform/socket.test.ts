import { io as connect, type Socket } from 'socket.io-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser } from '../helpers/users';

describe('socket events and their acks', () => {
  let app: TestServer;
  let socket: Socket;

  beforeAll(async () => {
    app = await startTestServer();
    const user = await createUser(app);
    socket = connect(app.url, { transports: ['websocket'], reconnection: false, auth: { token: user.accessToken } });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
  });

  afterAll(async () => {
    socket.close();
    await app.close();
  });

  it('answers a valid system:ping with { ok: true, data }', async () => {
    const ack = await socket.timeout(5000).emitWithAck('system:ping', { echo: 'hi' });
    expect(ack).toEqual({ ok: true, data: { echo: 'hi', serverTime: expect.any(String) } });
  });

  it('answers a bad payload with an error ack in the REST error body', async () => {
    const ack = await socket.timeout(5000).emitWithAck('system:ping', { echo: 42 });
    expect(ack).toEqual({
      ok: false,
      error: {
        code: 'VALIDATION_FAILED',
        message: expect.any(String),
        details: [{ field: 'echo', message: 'echo must be a string' }],
        requestId: expect.any(String),
      },
    });
  });

  it('refuses payloads that are not objects or carry $-keys', async () => {
    const notObject = await socket.timeout(5000).emitWithAck('system:ping', 'text');
    expect(notObject.ok).toBe(false);
    expect(notObject.error.code).toBe('VALIDATION_FAILED');
    const operator = await socket.timeout(5000).emitWithAck('system:ping', { $where: 'x' });
    expect(operator.ok).toBe(false);
    expect(operator.error.details[0].field).toBe('$where');
  });
});

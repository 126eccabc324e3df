import { io as connect, type Socket } from 'socket.io-client';
import { chatServicesOf, type ChatServices } from '../../src/modules/chat/chat.services';
import type { TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';

/** Chat tests send many requests from one IP; the global budget is not what they are about. */
export const CHAT_TEST_ENV = { RATE_LIMIT_MAX: '100000', CHAT_SEND_RATE_MAX: '1000', CHAT_SYNC_SETTLE_MS: '0' };

export async function openSocket(url: string, user: TestUser, options: { reconnection?: boolean } = {}): Promise<Socket> {
  const socket = connect(url, { auth: { token: user.accessToken }, transports: ['websocket'], reconnection: options.reconnection ?? false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Resolves with the first event matching the predicate; rejects after the timeout. */
export function nextEvent<T = Record<string, unknown>>(
  socket: Socket,
  event: string,
  predicate: (payload: T) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<T> {
  // The caller's line, so a timeout names the wait that failed rather than this helper.
  const origin = new Error().stack?.split('\n')[2]?.trim() ?? '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`No ${event} within ${timeoutMs} ms (${origin})`));
    }, timeoutMs);
    const handler = (payload: T) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(payload);
    };
    socket.on(event, handler);
  });
}

/** Collects every payload of an event until stopped: for "never received" checks after a barrier. */
export function record<T = Record<string, unknown>>(socket: Socket, event: string) {
  const seen: T[] = [];
  const handler = (payload: T) => seen.push(payload);
  socket.on(event, handler);
  return { seen, stop: () => socket.off(event, handler) };
}

export const emit = (socket: Socket, event: string, payload?: unknown) =>
  payload === undefined ? socket.timeout(5_000).emitWithAck(event) : socket.timeout(5_000).emitWithAck(event, payload);

export async function directConversation(app: TestServer, a: TestUser, b: TestUser): Promise<string> {
  const res = await app.api.post('/api/chat/conversations').set('Authorization', bearer(a)).send({ type: 'direct', participantIds: [b.id] });
  if (res.status !== 201 && res.status !== 200) throw new Error(`create conversation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.id as string;
}

export async function users(app: TestServer, count: number): Promise<TestUser[]> {
  const out: TestUser[] = [];
  for (let i = 0; i < count; i += 1) out.push(await createUser(app));
  return out;
}

let counter = 0;
export const clientId = (prefix = 'm') => `${prefix}-${process.pid}-${Date.now()}-${(counter += 1)}`;

/** The chat services a test server wired (its caches and channels), for tests that look inside. */
export function servicesOf(app: TestServer): ChatServices {
  const services = chatServicesOf.get(app.ctx);
  if (!services) throw new Error('chat is not wired on this instance');
  return services;
}

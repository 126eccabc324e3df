/**
 * One server under test, in its own process so its CPU and memory are its own. Mode `chat` runs
 * the real app (auth, MongoDB, Redis adapter); mode `relay` is a bare Socket.io relay with no auth
 * and no database, the baseline. The parent talks to it over IPC: 'stats' and 'stop'.
 */
import http from 'node:http';
import { Types } from 'mongoose';
import { Server } from 'socket.io';
import { startTestServer, type TestServer } from '../tests/helpers/server';
import { getUserModel } from '../src/modules/users/user.model';
import { createAuthServices } from '../src/modules/auth';
import { createMailer } from '../src/platform/mail';
import { getChatModels, memberKey, messageIdFor } from '../src/modules/chat/chat.model';
import { messagePageKeys } from '../src/modules/chat/message-pages';

const mode = process.argv[2];
const send = (message: unknown) => process.send?.(message);

// MongoDB commands this process sent (chat mode; command monitoring), in total and by name.
const storeOps = { total: 0, byName: {} as Record<string, number> };

function stats() {
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return { type: 'stats', cpuMicros: cpu.user + cpu.system, rss: memory.rss, heapUsed: memory.heapUsed, storeOps: storeOps.total, storeOpsByName: { ...storeOps.byName } };
}

/**
 * Users, sign-ins and one direct conversation per pair, written in bulk: the benchmark measures
 * messaging, and registering 1,000 users one by one through bcrypt would dominate the run.
 * `preload` messages are stored first in the first pair's conversation, shaped as the send path
 * stores them (numbers, page keys, derived ids), inserted through the model in batches.
 */
async function seed(app: TestServer, n: number, preload = 0) {
  const { ctx } = app;
  const stamp = Date.now();
  const users = Array.from({ length: n }, (_, i) => ({
    _id: new Types.ObjectId(),
    email: `bench-${stamp}-${i}@example.test`,
    name: `Bench ${i}`,
    role: 'user' as const,
    status: 'active' as const,
    emailVerified: true,
    passwordHash: 'not-a-usable-hash',
  }));
  await getUserModel(ctx.mongo).insertMany(users);
  const { sessions } = createAuthServices(ctx, ctx.config.auth, createMailer(ctx.config, ctx.logger));
  const tokens: string[] = [];
  for (let i = 0; i < n; i += 50) {
    const issued = await Promise.all(users.slice(i, i + 50).map((user) => sessions.start(user, { name: 'bench', userAgent: null, ip: null })));
    tokens.push(...issued.map((t) => t.accessToken));
  }
  const { Conversation, Member } = getChatModels(ctx.mongo);
  const now = new Date();
  const conversations = Array.from({ length: n / 2 }, (_, i) => {
    const pair = [users[2 * i]?._id, users[2 * i + 1]?._id] as Types.ObjectId[];
    const sorted = pair.map(String).sort();
    return { _id: new Types.ObjectId(), type: 'direct', title: null, directKey: `direct:${sorted.join(':')}`, participantIds: pair, createdBy: pair[0], lastSeq: 0, lastMessage: null, lastActivityAt: now };
  });
  await Conversation.insertMany(conversations);
  await Member.insertMany(
    conversations.flatMap((c) =>
      c.participantIds.map((userId) => ({
        _id: memberKey(c._id, userId), conversationId: c._id, userId, role: 'member', joinedAt: now, leftAt: null,
        lastReadSeq: 0, lastDeliveredSeq: 0, muted: false, changeSeq: 0, changedAt: now,
      })),
    ),
  );
  const first = conversations[0];
  if (preload > 0 && first) {
    const { Message } = getChatModels(ctx.mongo);
    const started = Date.now();
    const BATCH = 1_000;
    for (let from = 1; from <= preload; from += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, preload - from + 1) }, (_, i) => {
        const seq = from + i;
        const senderId = first.participantIds[seq % 2] as Types.ObjectId;
        const clientMessageId = `preload-${seq}`;
        const at = new Date(now.getTime() - (preload - seq) * 1_000);
        return {
          _id: messageIdFor(senderId, clientMessageId), conversationId: first._id, senderId, clientMessageId, type: 'text',
          text: `preloaded message ${seq}: 20 tonnes of TMT bars at 54,000 a tonne, delivery in two weeks`,
          attachments: [], offer: null, replyTo: null, reactions: [], seq, changeSeq: 0, pageKeys: messagePageKeys(first._id, seq),
          createdAt: at, updatedAt: at,
        };
      });
      // A loaded machine can time a batch out: it is sent again, unordered, and what was already stored is skipped.
      for (let attempt = 1; ; attempt += 1) {
        try {
          await Message.insertMany(batch, { lean: true, ordered: false });
          break;
        } catch (err) {
          const writeErrors = (err as { writeErrors?: { code?: number; err?: { code?: number } }[] }).writeErrors;
          if (writeErrors?.length && writeErrors.every((e) => (e.code ?? e.err?.code) === 11000)) break;
          if (attempt >= 5) throw err;
          console.error(`preload: batch from ${from} failed (${String(err)}), again`);
        }
      }
      if ((from - 1) % 20_000 === 0) console.error(`preload: ${from - 1 + batch.length} of ${preload} messages stored (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    await Conversation.updateOne({ _id: first._id }, { $set: { lastSeq: preload, lastActivityAt: now } });
    await Member.updateMany({ conversationId: first._id }, { $set: { lastReadSeq: preload, lastDeliveredSeq: preload } });
  }
  const messages = await getChatModels(ctx.mongo).Message.estimatedDocumentCount();
  return { users: users.map((u, i) => ({ id: String(u._id), token: tokens[i] as string })), conversations: conversations.map((c) => String(c._id)), messages };
}

async function startRelay(): Promise<{ url: string; close: () => Promise<void> }> {
  const httpServer = http.createServer();
  const io = new Server(httpServer, { transports: ['websocket'] });
  io.on('connection', (socket) => {
    const pair = String(socket.handshake.auth.pair ?? '');
    void socket.join(`pair:${pair}`);
    socket.on('msg', (payload: unknown, ack?: (r: unknown) => void) => {
      socket.to(`pair:${pair}`).emit('msg', payload);
      ack?.({ ok: true });
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const address = httpServer.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => io.close().then(() => undefined) };
}

async function main(): Promise<void> {
  let close: () => Promise<void>;
  let app: TestServer | undefined;
  if (mode === 'relay') {
    const relay = await startRelay();
    close = relay.close;
    send({ type: 'ready', url: relay.url });
  } else {
    app = await startTestServer({
      env: {
        RATE_LIMIT_MAX: '1000000',
        AUTH_RATE_LIMIT_MAX: '1000000',
        CHAT_SEND_RATE_MAX: '1000000',
        LOG_LEVEL: 'error',
      },
      monitorCommands: true,
    });
    app.ctx.mongo.getClient().on('commandStarted', (event: { commandName: string; command: Record<string, unknown> }) => {
      storeOps.total += 1;
      // By command and collection (`insert chat_messages`), so the per-message breakdown names each one.
      const target = event.command[event.commandName];
      const name = typeof target === 'string' ? `${event.commandName} ${target}` : event.commandName;
      storeOps.byName[name] = (storeOps.byName[name] ?? 0) + 1;
    });
    close = app.close;
    // BENCH_QUERIES=1 prints every MongoDB operation, to see what one message costs.
    if (process.env.BENCH_QUERIES) app.ctx.mongo.set('debug', (collection: string, method: string, query: unknown) => console.error('query', collection, method, JSON.stringify(query)));
    send({ type: 'ready', url: app.url });
  }
  process.on('message', (message: unknown) => {
    if (message === 'stats') send(stats());
    const request = message as { type?: string; n?: number; preload?: number };
    if (request?.type === 'seed' && app) {
      seed(app, request.n ?? 0, request.preload ?? 0).then((seeded) => send({ type: 'seeded', ...seeded }), (err: unknown) => send({ type: 'seed-failed', error: String(err) }));
    }
    if (message === 'stop') {
      void close().finally(() => process.exit(0));
    }
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

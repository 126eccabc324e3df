/**
 * The server under test for bench/http.ts, in its own process. Mode `express`: bare Express (the
 * app's version) answering the health route's JSON. Mode `app`: the real app with production
 * settings, rate limits out of the way and the driver's command monitoring on; it seeds its own
 * database and counts store commands. The parent talks to it over IPC.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import { Types } from 'mongoose';
import request from 'supertest';
import { startTestServer, type TestServer } from '../tests/helpers/server';
import { createAccessTokens } from '../src/modules/auth/tokens';
import { currentRequestId } from '../src/platform/request-context';

const mode = process.argv[2];
const send = (message: unknown) => process.send?.(message);

/** What the seed step answers the parent (bench/http.ts) with. */
export interface Seeded {
  token: string;
  userId: string;
  profileId: string;
  conversationId: string;
  counts: Record<string, number>;
  /** How long the seed waited for the work its messages set off in the background to finish. */
  settled?: { waitedMs: number; quiet: boolean };
}

const SEED = {
  users: Number(process.env.BENCH_USERS ?? 5_000),
  conversations: Number(process.env.BENCH_CONVERSATIONS ?? 2_500),
  messages: Number(process.env.BENCH_MESSAGES ?? 1_000),
};

async function inBatches<T>(items: T[], size: number, work: (batch: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await work(items.slice(i, i + size));
}

/**
 * Thousands of users (with follow edges and their stored counts), a session each and thousands of
 * direct conversations between them, inserted with the driver; then the benchmarked user's 20
 * conversations and the 1,000 messages of one of them through the real REST routes.
 */
async function seed(app: TestServer): Promise<Seeded> {
  const db = app.ctx.mongo;
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 30 * 86_400_000);
  const ids = Array.from({ length: SEED.users }, () => new Types.ObjectId());
  const followers = new Map<number, number>();
  const following = new Map<number, number>();
  const follows: { _id: Types.ObjectId; followerId: Types.ObjectId; followeeId: Types.ObjectId; createdAt: Date }[] = [];
  ids.forEach((followerId, i) => {
    for (const step of [1, 7, 31]) {
      const j = (i + step) % ids.length;
      follows.push({ _id: new Types.ObjectId(), followerId, followeeId: ids[j] as Types.ObjectId, createdAt: now });
      following.set(i, (following.get(i) ?? 0) + 1);
      followers.set(j, (followers.get(j) ?? 0) + 1);
    }
  });
  const stamp = randomBytes(3).toString('hex');
  await inBatches(
    ids.map((_id, i) => ({
      _id,
      email: `bench-${stamp}-${i}@example.test`,
      name: `Bench User ${i}`,
      role: i % 5 === 0 ? 'vendor' : 'user',
      status: 'active',
      emailVerified: true,
      passwordHash: 'not-a-usable-hash',
      business: { companyName: `Company ${i}`, categories: ['steel', 'cement'], address: { city: 'Pune', country: 'IN' } },
      preferences: { language: 'en', timezone: 'Asia/Kolkata', notifications: {}, quietHours: { enabled: false, start: '22:00', end: '07:00' } },
      followersCount: followers.get(i) ?? 0,
      followingCount: following.get(i) ?? 0,
      failuresClearedAt: null,
      lockedUntil: null,
      createdAt: now,
      updatedAt: now,
    })),
    1_000,
    (batch) => db.collection('users').insertMany(batch),
  );
  await inBatches(follows, 1_000, (batch) => db.collection('follows').insertMany(batch));
  const sessionIds = ids.map(() => new Types.ObjectId());
  await inBatches(
    ids.map((userId, i) => ({
      _id: sessionIds[i],
      userId,
      device: { name: 'bench', userAgent: null, ip: null },
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      revokedAt: null,
      revokedReason: null,
    })),
    1_000,
    (batch) => db.collection('auth_sessions').insertMany(batch),
  );
  const tokens = createAccessTokens({ ...app.ctx.config.auth.jwt, accessTtlSeconds: 86_400 });
  const tokenOf = (i: number) => tokens.sign({ userId: String(ids[i]), role: i % 5 === 0 ? 'vendor' : 'user', sessionId: String(sessionIds[i]) }).token;

  // Background conversations between other users, shaped as chat stores them.
  const conversations = [];
  const members = [];
  for (let c = 0; c < SEED.conversations; c += 1) {
    const a = ids[(2 * c + 100) % ids.length] as Types.ObjectId;
    const b = ids[(2 * c + 101) % ids.length] as Types.ObjectId;
    if (String(a) === String(b)) continue;
    const _id = new Types.ObjectId();
    const [x, y] = [String(a), String(b)].sort();
    conversations.push({ _id, type: 'direct', title: null, directKey: `direct:${x}:${y}`, participantIds: [a, b], createdBy: a, lastSeq: 0, lastMessage: null, lastActivityAt: now, createdAt: now, updatedAt: now });
    for (const userId of [a, b]) {
      members.push({ _id: `${String(_id)}:${String(userId)}`, conversationId: _id, userId, role: 'member', joinedAt: now, leftAt: null, lastReadSeq: 0, lastDeliveredSeq: 0, muted: false, changeSeq: 0, changedAt: now });
    }
  }
  await inBatches(conversations, 1_000, (batch) => db.collection('chat_conversations').insertMany(batch));
  await inBatches(members, 1_000, (batch) => db.collection('chat_members').insertMany(batch as never[]));

  // The benchmarked user (index 0): 20 conversations through the API, one with the long history.
  const api = request(app.url);
  const auth = `Bearer ${tokenOf(0)}`;
  const conversationIds: string[] = [];
  for (let k = 1; k <= 20; k += 1) {
    const created = await api.post('/api/chat/conversations').set('Authorization', auth).send({ type: 'direct', participantIds: [String(ids[k * 7 + 3])] });
    if (created.status >= 300) throw new Error(`create conversation: ${created.status} ${JSON.stringify(created.body)}`);
    conversationIds.push(created.body.data.id as string);
  }
  const sendOne = async (conversationId: string, n: number) => {
    const sent = await api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', auth).send({ clientMessageId: `bench-${n}`, text: `message ${n} about 20 tonnes of TMT bars` });
    if (sent.status >= 300) throw new Error(`send: ${sent.status} ${JSON.stringify(sent.body)}`);
  };
  const long = conversationIds[0] as string;
  const numbers = Array.from({ length: SEED.messages }, (_, n) => n);
  await inBatches(numbers, 10, (batch) => Promise.all(batch.map((n) => sendOne(long, n))));
  await Promise.all(conversationIds.slice(1).map((id, k) => sendOne(id, SEED.messages + k)));
  // Each counterparty answers once (the benchmarked user gets notifications), and the benchmarked
  // user (a vendor) makes one offer in each conversation (GET /api/offers has a page to show).
  let offers = 0;
  for (let k = 1; k <= 20; k += 1) {
    const other = k * 7 + 3;
    const conversationId = conversationIds[k - 1] as string;
    const reply = await api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', `Bearer ${tokenOf(other)}`).send({ clientMessageId: `bench-reply-${k}`, text: 'Can you do 18 tonnes?' });
    if (reply.status >= 300) throw new Error(`reply: ${reply.status} ${JSON.stringify(reply.body)}`);
    const offer = await api.post('/api/offers').set('Authorization', auth).set('Idempotency-Key', `bench-offer-${k}`).send({
      conversationId, vendorId: String(ids[0]), buyerId: String(ids[other]), currency: 'INR',
      items: [{ name: 'TMT bars 12 mm', quantity: 20, unit: 't', unitPrice: 5_400_000 }],
      delivery: { place: 'Pune', leadTimeDays: 10 }, payment: { kind: 'prepaid' },
    });
    if (offer.status < 300) offers += 1;
    else if (k === 1) console.error(`bench: an offer could not be made (${offer.status} ${JSON.stringify(offer.body)}); GET /api/offers is measured on what exists`);
  }

  const names = ['users', 'follows', 'auth_sessions', 'chat_conversations', 'chat_members', 'chat_messages'];
  const counts: Record<string, number> = { 'offers made': offers };
  for (const name of names) counts[name] = await db.collection(name).countDocuments();
  return { token: tokenOf(0), userId: String(ids[0]), profileId: String(ids[31]), conversationId: long, counts };
}

function stats() {
  const cpu = process.cpuUsage();
  return { cpuMicros: cpu.user + cpu.system };
}

async function main(): Promise<void> {
  if (mode === 'express') {
    const app = express();
    app.get('/hello', (_req, res) => {
      res.json({ data: { status: 'ok', time: new Date().toISOString() } });
    });
    const server = app.listen(0, '127.0.0.1', () => {
      const address = server.address();
      send({ type: 'ready', url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
    });
    server.keepAliveTimeout = 65_000;
    process.on('message', (message: unknown) => {
      if (message === 'stop') server.close(() => process.exit(0));
      if (message === 'stats') send({ type: 'stats', ...stats() });
    });
    return;
  }
  const app = await startTestServer({
    monitorCommands: true,
    env: {
      NODE_ENV: 'production',
      BCRYPT_COST: '12',
      LOG_LEVEL: 'error',
      RATE_LIMIT_MAX: '1000000',
      AUTH_RATE_LIMIT_MAX: '1000000',
      CHAT_SEND_RATE_MAX: '1000000',
    },
  });
  // Commands are attributed by async context: those a request issued count as its round trips;
  // the rest (jobs and subscribers the seed's messages set off, heartbeats) are background work,
  // counted apart, and the seed waits until it has quieted down before anything is measured.
  let commands = 0;
  let background = 0;
  let lastBackgroundAt = Date.now();
  const byName = new Map<string, number>();
  app.ctx.mongo.getClient().on('commandStarted', (event: { commandName: string; command: Record<string, unknown> }) => {
    if (!currentRequestId()) {
      background += 1;
      lastBackgroundAt = Date.now();
      return;
    }
    commands += 1;
    const key = `${event.commandName} ${String(event.command[event.commandName])}`;
    byName.set(key, (byName.get(key) ?? 0) + 1);
  });
  const quiet = async (quietMs: number, maxMs: number) => {
    const started = Date.now();
    while (Date.now() - lastBackgroundAt < quietMs && Date.now() - started < maxMs) await new Promise((resolve) => setTimeout(resolve, 250));
    return { waitedMs: Date.now() - started, quiet: Date.now() - lastBackgroundAt >= quietMs };
  };
  send({ type: 'ready', url: app.url });
  process.on('message', (message: unknown) => {
    if (message === 'stop') void app.close().finally(() => process.exit(0));
    if (message === 'stats') send({ type: 'stats', ...stats() });
    const m = (message ?? {}) as { type?: string };
    if (m.type === 'seed') {
      seed(app)
        .then(async (s) => ({ ...s, settled: await quiet(3_000, 150_000) }))
        .then((s) => send({ type: 'seeded', ...s }), (err: unknown) => send({ type: 'seed-failed', error: String(err) }));
    }
    if (m.type === 'background') send({ type: 'background', count: background });
    if (m.type === 'reset-commands') {
      commands = 0;
      byName.clear();
      send({ type: 'commands-reset' });
    }
    if (m.type === 'commands') send({ type: 'commands', total: commands, byName: Object.fromEntries(byName) });
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

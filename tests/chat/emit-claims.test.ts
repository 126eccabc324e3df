import { Types } from 'mongoose';
import { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server';
import { getChatModels } from '../../src/modules/chat/chat.model';
import { createEmitClaims } from '../../src/modules/chat/emit-claims';
import { CHAT_TEST_ENV } from './chat-helpers';

const RETENTION_MS = 3_600_000;
// The claims' clock: the app's emit sweep runs in this server too and deletes claims older than its retention.
const now = new Date();

/**
 * Emit claims decide who emits a stored message (emit-claims.ts): a Redis `SET NX` with the
 * retention as expiry while Redis answers, a document in chat_message_emits otherwise.
 */
describe('chat emit claims', () => {
  let app: TestServer;
  let unreachable: Redis;

  beforeAll(async () => {
    app = await startTestServer({ env: CHAT_TEST_ENV });
    // A real client that never becomes ready (nothing listens on port 1): what a Redis outage looks like to the app.
    unreachable = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  });
  afterAll(async () => {
    unreachable.disconnect();
    await app.close();
  });

  const claimsWith = (redis: Redis | null) =>
    createEmitClaims({ models: getChatModels(app.ctx.mongo), redis, keyPrefix: app.ctx.config.redis.keyPrefix, retentionMs: RETENTION_MS, clock: () => now });
  const stored = (id: Types.ObjectId) => getChatModels(app.ctx.mongo).Emit.findById(id).lean();

  it('with Redis: the first claim of a message wins, every later one loses, and the claim expires with the retention; nothing is stored', async () => {
    const claims = claimsWith(app.ctx.redis);
    const id = new Types.ObjectId();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => claims.claim(id)));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(await claims.claim(id)).toBe(false);
    const ttl = await app.ctx.redis!.pttl(`${app.ctx.config.redis.keyPrefix}chat:emit:${id.toHexString()}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(RETENTION_MS);
    expect(await stored(id)).toBeNull();
    // Another message is claimed on its own.
    expect(await claims.claim(new Types.ObjectId())).toBe(true);
  });

  it('without Redis, or while it does not answer, the store decides: one winner, the claim stored with its day for the sweep', async () => {
    for (const redis of [null, unreachable]) {
      const claims = claimsWith(redis);
      const id = new Types.ObjectId();
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => claims.claim(id)));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await stored(id)).toMatchObject({ at: now, day: now.toISOString().slice(0, 10) });
    }
  });

  it('a claim taken in Redis is not seen by the store: a retry during an outage emits once more (a duplicate, never a loss)', async () => {
    const id = new Types.ObjectId();
    expect(await claimsWith(app.ctx.redis).claim(id)).toBe(true);
    expect(await claimsWith(unreachable).claim(id)).toBe(true);
    expect(await claimsWith(unreachable).claim(id)).toBe(false);
  });
});

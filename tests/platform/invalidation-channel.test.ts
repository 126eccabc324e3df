import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisInvalidationChannel } from '../../src/platform/invalidation-channel';
import { createLogger } from '../../src/platform/logger';

const quiet = createLogger({ level: 'error', json: false });
const messages = { down: 'down', notConnected: 'not connected', publishFailed: 'publish failed' };

/** The Redis invalidation channel's publish against the real Redis the scripts start. */
describe('Redis invalidation channel: publish', () => {
  let redis: Redis;
  let listener: Redis;
  const received = new Map<string, string[]>();

  beforeAll(async () => {
    redis = new Redis(process.env.REDIS_URL as string);
    listener = new Redis(process.env.REDIS_URL as string);
    listener.on('message', (channel: string, raw: string) => received.set(channel, [...(received.get(channel) ?? []), raw]));
  });
  afterAll(async () => {
    redis.disconnect();
    listener.disconnect();
  });

  async function channelOnce() {
    const name = `test:invalidation:${randomUUID()}`;
    await listener.subscribe(name);
    const channel = createRedisInvalidationChannel<{ n: number }>({
      redis, channel: name, logger: quiet, parse: (raw) => JSON.parse(raw) as { n: number }, connectionName: 'test:invalidation', messages,
    });
    return { name, channel };
  }

  const until = async (done: () => boolean) => {
    for (let i = 0; i < 200 && !done(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  it('sends each of 40 concurrent publishes exactly once, in the order they were made', async () => {
    const { name, channel } = await channelOnce();
    await Promise.all(Array.from({ length: 40 }, (_, n) => channel.publish({ n })));
    await until(() => (received.get(name)?.length ?? 0) >= 40);
    // A little longer: a duplicate would arrive right behind.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((received.get(name) ?? []).map((raw) => (JSON.parse(raw) as { n: number }).n)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    await channel.close();
  });

  it('answers a publish once its own message went out, while others keep publishing behind it', async () => {
    const { name, channel } = await channelOnce();
    let pumping = true;
    let n = 1_000;
    // Five publishers that never pause: the queue is never empty while they run.
    const pumps = Array.from({ length: 5 }, async () => {
      while (pumping) await channel.publish({ n: n++ });
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await channel.publish({ n: 1 });
    const stillPumping = pumping;
    pumping = false;
    await Promise.all(pumps);
    expect(stillPumping).toBe(true);
    await until(() => (received.get(name) ?? []).includes(JSON.stringify({ n: 1 })));
    expect(received.get(name)?.filter((raw) => raw === JSON.stringify({ n: 1 }))).toHaveLength(1);
    await channel.close();
  });

  it('still sends after a flush that found nothing to send (close, the tick), and after close itself', async () => {
    const { name, channel } = await channelOnce();
    await channel.close();
    // Closed: this process no longer hears others, but what it changes still reaches them.
    await channel.publish({ n: 7 });
    await channel.publish({ n: 8 });
    await until(() => (received.get(name)?.length ?? 0) >= 2);
    expect(received.get(name)).toEqual([JSON.stringify({ n: 7 }), JSON.stringify({ n: 8 })]);
  });
});

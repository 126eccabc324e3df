import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../src/platform/mongo';
import { createLogger } from '../../src/platform/logger';
import { createSequenceAllocator, sweepSequenceClaims } from '../../src/platform/sequences';

const HOUR = 3_600_000;
const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

describe('sweeping sequence claims far below each counter’s hint', () => {
  let mongo: Connection;
  const claimIds = async (name: string) =>
    (await mongo.collection<{ _id: string }>('sequence_claims').find({}).toArray())
      .map((doc) => doc._id)
      .filter((id) => id.startsWith(`${name}:`))
      .map((id) => Number(id.slice(name.length + 1)))
      .sort((a, b) => a - b);

  beforeAll(async () => {
    // A database of its own, without a server: no scheduled sweep runs next to these ones.
    const uri = new URL(process.env.MONGODB_URI as string);
    uri.pathname = `/t_${randomBytes(5).toString('hex')}`;
    mongo = await connectMongo({ uri: uri.toString(), poolSize: 5, serverSelectionTimeoutMs: 1_500 }, createLogger({ level: 'error', json: false, silent: true }));
  });
  afterAll(async () => {
    await mongo.dropDatabase().catch(() => undefined);
    await mongo.close();
  });

  it('deletes claims below the hint minus the margin only once that hint is old enough, and keeps numbers dense', async () => {
    const first = createSequenceAllocator(mongo);
    for (let i = 1; i <= 100; i += 1) expect(await first.next('chat:conversation:big')).toBe(i);
    for (let i = 1; i <= 5; i += 1) await first.next('chat:conversation:small');
    const hint = (await mongo.collection<{ _id: string; value: number }>('sequence_hints').findOne({ _id: 'chat:conversation:big' }))?.value ?? 0;
    expect(hint).toBeGreaterThan(50);

    const options = { margin: 10, minAgeMs: HOUR };
    // First run notes the hint; a run before that observation is an hour old deletes nothing.
    expect(await sweepSequenceClaims(mongo, { ...options, now: T0 })).toMatchObject({ deleted: 0 });
    expect(await sweepSequenceClaims(mongo, { ...options, now: at(HOUR / 2) })).toMatchObject({ deleted: 0 });
    expect(await claimIds('chat:conversation:big')).toHaveLength(100);

    const swept = await sweepSequenceClaims(mongo, { ...options, now: at(HOUR + 1) });
    expect(swept.deleted).toBe(hint - 10 - 1);
    const left = await claimIds('chat:conversation:big');
    expect(left[0]).toBe(hint - 10);
    expect(left).toEqual(Array.from({ length: 100 - (hint - 10) + 1 }, (_, i) => hint - 10 + i));
    // A counter that never got past the margin is left alone.
    expect(await claimIds('chat:conversation:small')).toEqual([1, 2, 3, 4, 5]);
    // Nothing more to do until the counter moves on.
    expect(await sweepSequenceClaims(mongo, { ...options, now: at(HOUR + 2) })).toMatchObject({ deleted: 0 });

    // After the sweep: the process that remembers the counter, and one that starts cold from the
    // hint, share out the next numbers with no gap and no repeat.
    const cold = createSequenceAllocator(mongo);
    const next = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? first : cold).next('chat:conversation:big')));
    expect([...next].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 101 + i));
  });

  it('never hands out a swept number again, even to a process that remembered an old one', async () => {
    let clock = T0.getTime();
    const idle = createSequenceAllocator(mongo, { now: () => clock });
    const busy = createSequenceAllocator(mongo);
    for (let i = 1; i <= 3; i += 1) expect(await idle.next('chat:change')).toBe(i);
    for (let i = 4; i <= 80; i += 1) expect(await busy.next('chat:change')).toBe(i);
    await sweepSequenceClaims(mongo, { margin: 10, minAgeMs: HOUR, now: T0 });
    const swept = await sweepSequenceClaims(mongo, { margin: 10, minAgeMs: HOUR, now: at(HOUR + 1) });
    expect(swept.deleted).toBeGreaterThan(50);
    expect(await claimIds('chat:change')).not.toContain(4);

    // The idle process last claimed 3 more than an hour ago: it must not take 4 again.
    clock += HOUR + 1;
    expect(await idle.next('chat:change')).toBe(81);
    expect(await busy.next('chat:change')).toBe(82);
  });
});

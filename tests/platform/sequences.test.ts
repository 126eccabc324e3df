import { startTestServer, type TestServer } from '../helpers/server';
import type { CommandStartedEvent } from 'mongodb';
import { createBlockSequence, createSequenceAllocator } from '../../src/platform/sequences';

describe('sequence allocation on the MongoDB-compatible server', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer({ monitorCommands: true });
  });
  afterAll(() => app.close());

  it('hands out every number exactly once to many concurrent callers, per counter', async () => {
    const sequences = createSequenceAllocator(app.ctx.mongo);
    const [a, b] = await Promise.all([
      Promise.all(Array.from({ length: 30 }, () => sequences.next('alpha'))),
      Promise.all(Array.from({ length: 10 }, () => sequences.next('beta'))),
    ]);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect([...b].sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(await sequences.next('alpha')).toBe(31);
  });

  it('continues above every claimed number even when the hint lags behind', async () => {
    const sequences = createSequenceAllocator(app.ctx.mongo);
    await sequences.next('gamma');
    await sequences.next('gamma');
    await app.ctx.mongo.collection('sequence_hints').updateOne({ _id: 'gamma' as never }, { $set: { value: 0 } });
    // Another process, which has not seen the counter, starts from the lagging hint.
    expect(await createSequenceAllocator(app.ctx.mongo).next('gamma')).toBe(3);
    expect(await sequences.next('gamma')).toBe(4);
  });

  it('catches up when another process took many numbers since this one last looked', async () => {
    const first = createSequenceAllocator(app.ctx.mongo);
    const second = createSequenceAllocator(app.ctx.mongo);
    for (let i = 1; i <= 3; i += 1) expect(await first.next('delta')).toBe(i);
    for (let i = 4; i <= 40; i += 1) expect(await second.next('delta')).toBe(i);
    expect(await first.next('delta')).toBe(41);
    expect(await second.next('delta')).toBe(42);
  });

  describe('in blocks', () => {
    /** Inserts into sequence_claims while `during` runs: what a block sequence spends. */
    async function claimsDuring<T>(during: () => Promise<T>): Promise<{ value: T; claims: number }> {
      let claims = 0;
      const count = (event: CommandStartedEvent) => {
        if (event.commandName === 'insert' && event.command.insert === 'sequence_claims') claims += 1;
      };
      app.ctx.mongo.getClient().on('commandStarted', count);
      try {
        return { value: await during(), claims };
      } finally {
        app.ctx.mongo.getClient().off('commandStarted', count);
      }
    }

    it('hands out a block of consecutive numbers for one claim, and 200 concurrent callers unique numbers for ceil(200 / size) claims', async () => {
      const blocks = createBlockSequence(app.ctx.mongo, createSequenceAllocator(app.ctx.mongo), 'epsilon', { size: 16, validMs: 60_000 });
      const first = await claimsDuring(() => Promise.all(Array.from({ length: 16 }, () => blocks.next())));
      expect(first.claims).toBe(1);
      expect(first.value).toEqual(Array.from({ length: 16 }, (_, i) => (first.value[0] as number) + i));
      const many = await claimsDuring(() => Promise.all(Array.from({ length: 200 }, () => blocks.next())));
      expect(new Set(many.value).size).toBe(200);
      expect(Math.min(...many.value)).toBeGreaterThan(Math.max(...first.value));
      expect(many.claims).toBe(Math.ceil(200 / 16));
    });

    it('abandons the rest of a block once it is older than validMs, and the next number is above it', async () => {
      let now = 0;
      const blocks = createBlockSequence(app.ctx.mongo, createSequenceAllocator(app.ctx.mongo), 'zeta', { size: 64, validMs: 500, now: () => now });
      const a = await blocks.next();
      now = 499;
      expect(await blocks.next()).toBe(a + 1);
      now = 500;
      const fresh = await claimsDuring(() => blocks.next());
      expect(fresh.claims).toBe(1);
      expect(fresh.value).toBeGreaterThanOrEqual(a + 64);
      // With validMs 0 every number takes its own block (and still goes up).
      const each = createBlockSequence(app.ctx.mongo, createSequenceAllocator(app.ctx.mongo), 'zeta0', { size: 64, validMs: 0, now: () => now });
      const twice = await claimsDuring(async () => [await each.next(), await each.next()]);
      expect(twice.claims).toBe(2);
      expect((twice.value[1] as number) - (twice.value[0] as number)).toBeGreaterThanOrEqual(64);
    });

    it('never repeats a number across processes, and continues above a counter that was claimed number by number', async () => {
      const single = createSequenceAllocator(app.ctx.mongo);
      let highest = 0;
      for (let i = 0; i < 40; i += 1) highest = await single.next('eta');
      const processes = [0, 1, 2].map(() =>
        createBlockSequence(app.ctx.mongo, createSequenceAllocator(app.ctx.mongo), 'eta', { size: 8, validMs: 60_000, continuesCounter: 'eta' }),
      );
      const numbers = (await Promise.all(processes.map((p) => Promise.all(Array.from({ length: 30 }, () => p.next()))))).flat();
      expect(new Set(numbers).size).toBe(90);
      expect(Math.min(...numbers)).toBeGreaterThan(highest);
    });
  });
});

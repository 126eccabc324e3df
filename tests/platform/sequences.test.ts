import { startTestServer, type TestServer } from '../helpers/server';
import { createSequenceAllocator } from '../../src/platform/sequences';

describe('sequence allocation on the MongoDB-compatible server', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
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
});

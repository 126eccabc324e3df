import { startTestServer, type TestServer } from '../helpers/server';
import { createLocks } from '../../src/platform/locks';

describe('locks on the MongoDB-compatible server', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app.close());

  it('serialises read-modify-write so that no concurrent update is lost', async () => {
    const locks = createLocks(app.ctx.mongo);
    const counters = app.ctx.mongo.collection<{ _id: string; n: number }>('lock_probe');
    await counters.insertOne({ _id: 'c', n: 0 });
    await Promise.all(
      Array.from({ length: 20 }, () =>
        locks.withLock('probe:c', async () => {
          const doc = await counters.findOne({ _id: 'c' });
          await counters.updateOne({ _id: 'c' }, { $set: { n: (doc?.n ?? 0) + 1 } });
        }),
      ),
    );
    expect((await counters.findOne({ _id: 'c' }))?.n).toBe(20);
  });

  it('releases the lock when the work throws, and overtakes a dead holder once its lease ends', async () => {
    const locks = createLocks(app.ctx.mongo);
    await expect(locks.withLock('probe:fail', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(locks.withLock('probe:fail', async () => 'again')).resolves.toBe('again');

    // A holder that died: its lease document stays behind, already expired.
    await app.ctx.mongo.collection('locks').insertOne({ _id: 'probe:dead' as never, owner: 'gone', expiresAt: new Date(Date.now() - 1_000) });
    await expect(locks.withLock('probe:dead', async () => 'taken over')).resolves.toBe('taken over');
  });

  it('answers 503 SERVICE_UNAVAILABLE when the lock stays busy past the wait', async () => {
    const locks = createLocks(app.ctx.mongo);
    await app.ctx.mongo.collection('locks').insertOne({ _id: 'probe:busy' as never, owner: 'other', expiresAt: new Date(Date.now() + 60_000) });
    await expect(locks.withLock('probe:busy', async () => 'never', { waitMs: 100 })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
  });
});

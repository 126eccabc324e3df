import type { AuthModule } from '../../src/modules/auth';
import { hashToken } from '../../src/modules/auth/tokens';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser } from '../helpers/users';

describe('the auth sweeper (no TTL indexes on FerretDB)', () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(() => app.close());

  it('deletes expired refresh tokens and their claims, and keeps current ones', async () => {
    const stale = await createUser(app);
    const fresh = await createUser(app);
    const db = app.ctx.mongo;
    // Rotate the stale user's token so a claim exists, then age both.
    const rotated = await app.api.post('/api/auth/refresh').send({ refreshToken: stale.refreshToken }).expect(200);
    const past = new Date(Date.now() - 1000);
    const staleHashes = [hashToken(stale.refreshToken), hashToken(rotated.body.data.refreshToken)];
    await db.collection('auth_refresh_tokens').updateMany({ hash: { $in: staleHashes } }, { $set: { expiresAt: past } });
    await db.collection('auth_token_claims').updateMany({ _id: { $in: staleHashes } } as object, { $set: { expiresAt: past } });
    await (app.server.modules.find((m) => m.name === 'auth') as AuthModule).sweep();
    expect(await db.collection('auth_refresh_tokens').countDocuments({ hash: { $in: staleHashes } })).toBe(0);
    expect(await db.collection('auth_token_claims').countDocuments({ _id: { $in: staleHashes } } as object)).toBe(0);
    await app.api.post('/api/auth/refresh').send({ refreshToken: fresh.refreshToken }).expect(200);
  });
});

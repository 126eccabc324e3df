import express from 'express';
import request from 'supertest';
import { errorHandler } from '../../src/platform/http/error-handler';
import { getAuth } from '../../src/platform/auth-context';
import { assertOwnerOrAdmin, type AuthModule } from '../../src/modules/auth';
import { authModuleOf } from './auth-helpers';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser } from '../helpers/users';

describe('requireRole and the owner-or-admin helper', () => {
  let app: TestServer;
  let probe: express.Express;

  beforeAll(async () => {
    app = await startTestServer();
    const auth = app.server.modules.find((m) => m.name === 'auth') as AuthModule;
    // The real middleware, as another module mounts it.
    probe = express();
    probe.get('/admin', auth.requireRole('admin', 'super_admin'), (_req, res) => {
      res.json({ data: getAuth(res) });
    });
    probe.get('/things/:ownerId', auth.requireAuth, (req, res) => {
      assertOwnerOrAdmin(res, String(req.params.ownerId), 'Thing');
      res.json({ data: { ok: true } });
    });
    probe.use(errorHandler(app.ctx.logger));
  });
  afterAll(() => app.close());

  it('lets admins and super admins through with res.locals.auth set, and answers 403 to others', async () => {
    const admin = await createUser(app, { role: 'admin' });
    const root = await createUser(app, { role: 'super_admin' });
    const vendor = await createUser(app, { role: 'vendor' });
    const ok = await request(probe).get('/admin').set('Authorization', `Bearer ${admin.accessToken}`).expect(200);
    expect(ok.body.data).toEqual({ userId: admin.id, role: 'admin', sessionId: expect.any(String) });
    await request(probe).get('/admin').set('Authorization', `Bearer ${root.accessToken}`).expect(200);
    const denied = await request(probe).get('/admin').set('Authorization', `Bearer ${vendor.accessToken}`).expect(403);
    expect(denied.body.error.code).toBe('FORBIDDEN');
    expect((await request(probe).get('/admin').expect(401)).body.error.code).toBe('UNAUTHENTICATED');
  });

  it('uses the role stored now, not the one in the token: a demoted admin loses access at the next request', async () => {
    const admin = await createUser(app, { role: 'admin' });
    await request(probe).get('/admin').set('Authorization', `Bearer ${admin.accessToken}`).expect(200);
    await authModuleOf(app).access.changeRole(admin.id, 'user');
    await request(probe).get('/admin').set('Authorization', `Bearer ${admin.accessToken}`).expect(403);
  });

  it('owner-or-admin: the owner and admins pass, another user gets 404', async () => {
    const owner = await createUser(app);
    const other = await createUser(app);
    const admin = await createUser(app, { role: 'admin' });
    await request(probe).get(`/things/${owner.id}`).set('Authorization', `Bearer ${owner.accessToken}`).expect(200);
    await request(probe).get(`/things/${owner.id}`).set('Authorization', `Bearer ${admin.accessToken}`).expect(200);
    const res = await request(probe).get(`/things/${owner.id}`).set('Authorization', `Bearer ${other.accessToken}`).expect(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});

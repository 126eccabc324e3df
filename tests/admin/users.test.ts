import { Types } from 'mongoose';
import type { Role } from '../../src/platform/auth-context';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { openSocket } from '../chat/chat-helpers';
import { usersByRole } from './helpers';

describe('admin: accounts', () => {
  let app: TestServer;
  let people: Record<Role, TestUser>;

  beforeAll(async () => {
    app = await startTestServer({ env: { RATE_LIMIT_MAX: '100000', AUTH_RATE_LIMIT_MAX: '100000' } });
    people = await usersByRole(app);
  }, 120_000);
  afterAll(() => app.close());

  const as = (who: TestUser) => ({
    get: (path: string) => app.api.get(path).set('Authorization', bearer(who)),
    post: (path: string, body: object) => app.api.post(path).set('Authorization', bearer(who)).set('User-Agent', 'admin-console/1.0').send(body),
    patch: (path: string, body: object) => app.api.patch(path).set('Authorization', bearer(who)).send(body),
  });
  const lastAudit = async (targetId: string) =>
    (await as(people.admin).get(`/api/admin/audit?targetId=${targetId}&limit=1`)).body.data[0];

  describe('search', () => {
    let found: TestUser;
    beforeAll(async () => {
      found = await createUser(app, { email: `zed.search+${Date.now()}@example.test`, name: 'Zed Searchable' });
    });

    it('finds by email prefix, name prefix and id, and filters by role and status', async () => {
      const byEmail = await as(people.admin).get('/api/admin/users?q=ZED.SEARCH');
      expect(byEmail.status).toBe(200);
      expect(byEmail.body.data.map((u: { id: string }) => u.id)).toEqual([found.id]);
      expect(byEmail.body.data[0]).not.toHaveProperty('passwordHash');
      const byName = await as(people.admin).get('/api/admin/users?q=zed sea');
      expect(byName.body.data.map((u: { id: string }) => u.id)).toEqual([found.id]);
      expect((await as(people.admin).get(`/api/admin/users?q=${found.id}`)).body.data).toHaveLength(1);
      const vendors = await as(people.admin).get('/api/admin/users?role=vendor');
      expect(vendors.body.data.map((u: { id: string }) => u.id)).toEqual([people.vendor.id]);
    });

    it('treats the query as text, never as a pattern', async () => {
      for (const q of ['.*', '(', '[a-z]+', '\\', '^Zed', 'Zed|Plain']) {
        const res = await as(people.admin).get(`/api/admin/users?q=${encodeURIComponent(q)}`);
        expect({ q, status: res.status, n: res.body.data?.length }).toEqual({ q, status: 200, n: 0 });
      }
    });

    it('pages with a cursor, newest first, without repeats', async () => {
      const first = await as(people.admin).get('/api/admin/users?limit=2');
      expect(first.body.data).toHaveLength(2);
      const second = await as(people.admin).get(`/api/admin/users?limit=2&cursor=${first.body.page.nextCursor}`);
      const ids = [...first.body.data, ...second.body.data].map((u: { id: string }) => u.id);
      expect(new Set(ids).size).toBe(4);
      expect((await as(people.admin).get('/api/admin/users?cursor=nonsense')).status).toBe(400);
    });

    it('refuses bad filters', async () => {
      for (const query of ['role=king', 'status=gone', 'limit=0', 'limit=500', 'q=a&q=b']) {
        const res = await as(people.admin).get(`/api/admin/users?${query}`);
        expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
      }
    });
  });

  it('shows an account with its open sessions and recent activity; an unknown id is 404', async () => {
    const res = await as(people.admin).get(`/api/admin/users/${people.vendor.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data.user).toMatchObject({ id: people.vendor.id, role: 'vendor', status: 'active' });
    expect(res.body.data.sessions.length).toBeGreaterThanOrEqual(1);
    expect(Array.isArray(res.body.data.recentActivity)).toBe(true);
    expect((await as(people.admin).get(`/api/admin/users/${new Types.ObjectId()}`)).status).toBe(404);
    expect((await as(people.admin).get('/api/admin/users/not-an-id')).status).toBe(400);
  });

  describe('suspend and reactivate', () => {
    it('ends the sessions and disconnects the sockets of a suspended user at once, and audits it', async () => {
      const target = await createUser(app);
      const socket = await openSocket(app.url, target, { reconnection: false });
      const disconnected = new Promise<string>((resolve) => socket.on('disconnect', (reason) => resolve(reason)));
      const res = await as(people.admin).post(`/api/admin/users/${target.id}/suspend`, { reason: 'Fraud report #41' });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ id: target.id, status: 'suspended' });
      expect(await disconnected).toBe('io server disconnect');
      socket.close();
      const me = await app.api.get('/api/auth/me').set('Authorization', bearer(target));
      expect([401, 403]).toContain(me.status);
      expect((await app.api.post('/api/auth/refresh').send({ refreshToken: target.refreshToken })).status).toBe(401);
      expect(await lastAudit(target.id)).toMatchObject({
        actor: { id: people.admin.id, role: 'admin' },
        action: 'user.suspend',
        target: { type: 'user', id: target.id },
        before: { status: 'active' },
        after: { status: 'suspended' },
        reason: 'Fraud report #41',
        userAgent: 'admin-console/1.0',
        ip: expect.any(String),
        requestId: expect.any(String),
        at: expect.any(String),
      });
      // Suspending again is a conflict; reactivating lets the user sign in again.
      expect((await as(people.admin).post(`/api/admin/users/${target.id}/suspend`, { reason: 'again please' })).status).toBe(409);
      const back = await as(people.admin).post(`/api/admin/users/${target.id}/reactivate`, { reason: 'Cleared by review' });
      expect(back.body.data).toMatchObject({ status: 'active' });
      expect(await lastAudit(target.id)).toMatchObject({ action: 'user.reactivate', before: { status: 'suspended' }, after: { status: 'active' }, reason: 'Cleared by review' });
      expect((await app.api.post('/api/auth/login').send({ email: target.email, password: target.password })).status).toBe(200);
    });

    it("needs a reason, refuses one's own account and, for an admin account, a super_admin", async () => {
      expect((await as(people.admin).post(`/api/admin/users/${people.user.id}/suspend`, {})).status).toBe(400);
      expect((await as(people.admin).post(`/api/admin/users/${people.user.id}/suspend`, { reason: 'x' })).status).toBe(400);
      const self = await as(people.admin).post(`/api/admin/users/${people.admin.id}/suspend`, { reason: 'testing myself' });
      expect(self.body.error.code).toBe('OWN_ACCOUNT');
      const peer = await as(people.admin).post(`/api/admin/users/${people.super_admin.id}/suspend`, { reason: 'coup attempt' });
      expect(peer.body.error.code).toBe('SUPER_ADMIN_REQUIRED');
      expect((await as(people.admin).post(`/api/admin/users/${new Types.ObjectId()}/suspend`, { reason: 'nobody here' })).status).toBe(404);
    });
  });

  it('of concurrent suspensions of one account exactly one is done and audited; the others see it done (409)', async () => {
    const target = await createUser(app);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => as(i % 2 ? people.admin : people.super_admin).post(`/api/admin/users/${target.id}/suspend`, { reason: `race ${i}` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const entries = await as(people.admin).get(`/api/admin/audit?targetId=${target.id}`);
    expect(entries.body.data).toHaveLength(1);
    expect(entries.body.data[0]).toMatchObject({ action: 'user.suspend', before: { status: 'active' } });
  });

  describe('role changes', () => {
    it('an admin may move a user to vendor, but only a super_admin grants or removes admin; nobody changes their own role', async () => {
      const target = await createUser(app);
      const toVendor = await as(people.admin).patch(`/api/admin/users/${target.id}/role`, { role: 'vendor', reason: 'KYC passed' });
      expect(toVendor.status).toBe(200);
      expect(toVendor.body.data.role).toBe('vendor');
      expect(await lastAudit(target.id)).toMatchObject({ action: 'user.role_change', before: { role: 'user' }, after: { role: 'vendor' }, reason: 'KYC passed' });
      // The user's next request carries the new role (the access cache was dropped).
      const me = await app.api.get('/api/auth/me').set('Authorization', bearer(target));
      expect(me.body.data.role ?? me.body.data.user?.role).toBe('vendor');

      const grant = await as(people.admin).patch(`/api/admin/users/${target.id}/role`, { role: 'admin', reason: 'promote me' });
      expect(grant.body.error.code).toBe('SUPER_ADMIN_REQUIRED');
      const granted = await as(people.super_admin).patch(`/api/admin/users/${target.id}/role`, { role: 'admin', reason: 'New ops hire' });
      expect(granted.body.data.role).toBe('admin');
      const removeByAdmin = await as(people.admin).patch(`/api/admin/users/${target.id}/role`, { role: 'user', reason: 'demote' });
      expect(removeByAdmin.body.error.code).toBe('SUPER_ADMIN_REQUIRED');
      const own = await as(people.super_admin).patch(`/api/admin/users/${people.super_admin.id}/role`, { role: 'user', reason: 'step down' });
      expect(own.body.error.code).toBe('OWN_ACCOUNT');
      expect((await as(people.super_admin).patch(`/api/admin/users/${target.id}/role`, { role: 'admin', reason: 'same again' })).status).toBe(409);
      expect((await as(people.super_admin).patch(`/api/admin/users/${target.id}/role`, { role: 'emperor', reason: 'why not' })).status).toBe(400);
    });
  });

  it('a forced password reset ends every session of the user and is audited', async () => {
    const target = await createUser(app);
    const res = await as(people.admin).post(`/api/admin/users/${target.id}/password-reset`, { reason: 'Credential stuffing suspected' });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ userId: target.id, sessionsEnded: 2, resetMailed: true });
    expect((await app.api.get('/api/auth/me').set('Authorization', bearer(target))).status).toBe(401);
    expect(await lastAudit(target.id)).toMatchObject({ action: 'user.password_reset', before: { openSessions: 2 }, after: { openSessions: 0 } });
  });

  it('counts users by role and status on the dashboard', async () => {
    const res = await as(people.super_admin).get('/api/admin/dashboard');
    expect(res.status).toBe(200);
    const total = (res.body.data.users.byRoleAndStatus as Array<{ count: number }>).reduce((sum, r) => sum + r.count, 0);
    expect(total).toBe(await app.ctx.mongo.collection('users').countDocuments({}));
    expect(res.body.data).toMatchObject({ analytics: 'on', failedJobs: expect.any(Number), messages: expect.any(Number) });
    expect((await as(people.admin).get('/api/admin/dashboard?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z')).status).toBe(400);
    expect((await as(people.admin).get('/api/admin/dashboard?from=yesterday')).status).toBe(400);
  });
});

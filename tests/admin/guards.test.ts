import { Types } from 'mongoose';
import type { Role } from '../../src/platform/auth-context';
import type { AdminActor } from '../../src/modules/admin';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { adminModuleOf, usersByRole } from './helpers';

/**
 * The role × route matrix, generated from the admin module's own route table (the one that serves
 * traffic): a route added without the guard, or reachable by a non-admin, fails here.
 */
describe('every /api/admin route requires admin or super_admin', () => {
  let app: TestServer;
  let people: Record<Role, TestUser>;

  beforeAll(async () => {
    app = await startTestServer();
    people = await usersByRole(app);
  }, 120_000);
  afterAll(() => app.close());

  const callers: Array<Role | 'anonymous'> = ['anonymous', 'user', 'vendor', 'admin', 'super_admin'];

  it('answers 401 without a token, 403 to user and vendor, and lets admin and super_admin through', async () => {
    const routes = adminModuleOf(app).http?.routes ?? [];
    expect(routes.length).toBeGreaterThanOrEqual(15);
    expect(routes.every((r) => r.path.startsWith('/api/admin/'))).toBe(true);
    const seen: string[] = [];
    for (const route of routes) {
      const path = route.path.replace(/:(\w+)/g, () => new Types.ObjectId().toHexString());
      for (const caller of callers) {
        let req = app.api[route.method](path);
        if (caller !== 'anonymous') req = req.set('Authorization', bearer(people[caller]));
        const res = await req;
        const cell = `${caller} ${route.method.toUpperCase()} ${route.path} → ${res.status}`;
        seen.push(cell);
        if (caller === 'anonymous') expect({ cell, code: res.body.error?.code }).toEqual({ cell: cell.replace(/\d+$/, '401'), code: 'UNAUTHENTICATED' });
        else if (caller === 'user' || caller === 'vendor') expect({ cell, code: res.body.error?.code }).toEqual({ cell: cell.replace(/\d+$/, '403'), code: 'FORBIDDEN' });
        else {
          // Through the guard: whatever the route then says about the (empty) input, it is not a role refusal or a crash.
          expect({ cell, refused: [401, 403].includes(res.status) || res.status >= 500 }).toEqual({ cell, refused: false });
        }
      }
    }
    expect(seen.length).toBe(routes.length * callers.length);
  });

  it('checks the role in the services too: every method refuses a caller who is not an admin', async () => {
    const admin = adminModuleOf(app);
    const notAdmin: AdminActor = { userId: people.user.id, role: 'user', sessionId: null, ip: null, userAgent: null, requestId: null };
    const services = { users: admin.users, oversight: admin.oversight } as unknown as Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>>;
    const auditBefore = await app.ctx.mongo.collection('admin_audit').countDocuments({});
    const notRefused: string[] = [];
    let checked = 0;
    for (const [serviceName, service] of Object.entries(services)) {
      for (const [method, fn] of Object.entries(service)) {
        for (const actor of [notAdmin, { ...notAdmin, role: 'vendor' }, null, undefined, {}]) {
          const outcome = await fn(actor, people.user.id, 'a reason', 'user').then(
            () => 'resolved',
            (err: { code?: string }) => err.code,
          );
          if (outcome !== 'FORBIDDEN') notRefused.push(`${serviceName}.${method}(${JSON.stringify(actor)}) → ${outcome}`);
        }
        checked += 1;
      }
    }
    expect(notRefused).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(20);
    // Nothing was done on the way: the user is still active and no audit entry exists.
    expect(await app.ctx.mongo.collection('users').findOne({ _id: new Types.ObjectId(people.user.id) })).toMatchObject({ status: 'active', role: 'user' });
    expect(await app.ctx.mongo.collection('admin_audit').countDocuments({})).toBe(auditBefore);
  });
});

import type { AdminModule } from '../../src/modules/admin';
import type { TestServer } from '../helpers/server';
import { createUser, type TestUser } from '../helpers/users';
import type { Role } from '../../src/platform/auth-context';

export const adminModuleOf = (app: TestServer) => app.server.modules.find((m) => m.name === 'admin') as AdminModule;

export async function usersByRole(app: TestServer): Promise<Record<Role, TestUser>> {
  const [user, vendor, admin, superAdmin] = await Promise.all([
    createUser(app, { role: 'user', name: 'Plain User' }),
    createUser(app, { role: 'vendor', name: 'Vendor One' }),
    createUser(app, { role: 'admin', name: 'Admin One' }),
    createUser(app, { role: 'super_admin', name: 'Super One' }),
  ]);
  return { user, vendor, admin, super_admin: superAdmin };
}

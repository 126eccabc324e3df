import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { Role } from '../../src/platform/auth-context';
import type { UsersModule } from '../../src/modules/users';
import type { TestServer } from './server';
import { profileChanges } from '../../src/modules/users/profile-summaries';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

/**
 * A signed-in user made through the real /register and /login routes. Admin roles have no open
 * endpoint, so for those the role is set in the database and the user signs in again (the access
 * token then carries the new role).
 */
export async function createUser(
  app: TestServer,
  overrides: { email?: string; password?: string; name?: string; role?: Role } = {},
): Promise<TestUser> {
  const email = overrides.email ?? `user-${randomBytes(6).toString('hex')}@example.test`;
  const password = overrides.password ?? `Pw-${randomBytes(6).toString('hex')}-1`;
  const name = overrides.name ?? 'Test User';
  const selfServiceRole = overrides.role === 'vendor' ? 'vendor' : undefined;
  const registered = await app.api.post('/api/auth/register').send({ email, password, name, ...(selfServiceRole ? { role: selfServiceRole } : {}) });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const id = registered.body.data.user.id as string;
  if (overrides.role === 'admin' || overrides.role === 'super_admin') {
    await app.ctx.mongo.collection('users').updateOne({ _id: new Types.ObjectId(id) }, { $set: { role: overrides.role } });
    // Announced to the profile cache as user-writes.ts announces every write (a bare database write is not).
    await profileChanges(app.ctx.mongo).changed([id]);
  }
  const login = await app.api.post('/api/auth/login').send({ email, password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id, email: login.body.data.user.email as string, password, accessToken: login.body.data.accessToken, refreshToken: login.body.data.refreshToken };
}

/** `Authorization` header value for supertest's `.set()`. */
export const bearer = (user: { accessToken: string }) => `Bearer ${user.accessToken}`;

/** The running users module of a test server (its profile cache, repairs). */
export const usersModuleOf = (app: TestServer) => app.server.modules.find((m) => m.name === 'users') as UsersModule;

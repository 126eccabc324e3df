import type { AuthModule } from '../../src/modules/auth';
import type { TestServer } from '../helpers/server';

/** The running auth module of a test server: its access service (suspend, roles) and cache. */
export function authModuleOf(app: TestServer): AuthModule {
  const module = app.server.modules.find((m) => m.name === 'auth');
  if (!module) throw new Error('no auth module');
  return module as AuthModule;
}

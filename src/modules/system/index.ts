import type { RequestHandler } from 'express';
import type { AppContext } from '../../platform/context';
import type { Role } from '../../platform/auth-context';
import type { AppModule } from '../../platform/module';
import { createSystemService } from './system.service';
import { createSystemRouter } from './system.routes';
import { registerSystemEvents } from './system.socket';

export function createSystemModule(deps: {
  ctx: AppContext;
  openSockets: () => number;
  isShuttingDown: () => boolean;
  auth: { requireAuth: RequestHandler; requireRole: (...roles: Role[]) => RequestHandler };
}): AppModule {
  const service = createSystemService(deps);
  return {
    name: 'system',
    http: createSystemRouter(service, deps.auth.requireRole('admin', 'super_admin')),
    onSocket: (socket) => registerSystemEvents(socket, deps.ctx.logger, deps.ctx.clock),
  };
}

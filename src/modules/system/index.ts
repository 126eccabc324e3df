import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import { createSystemService } from './system.service';
import { createSystemRouter } from './system.routes';
import { registerSystemEvents } from './system.socket';

export function createSystemModule(deps: {
  ctx: AppContext;
  openSockets: () => number;
  isShuttingDown: () => boolean;
}): AppModule {
  const service = createSystemService(deps);
  return {
    name: 'system',
    http: createSystemRouter(service),
    onSocket: (socket) => registerSystemEvents(socket, deps.ctx.logger, deps.ctx.clock),
  };
}

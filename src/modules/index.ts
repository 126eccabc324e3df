import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../platform/context';
import type { AppModule } from '../platform/module';
import { createSystemModule } from './system';

export interface ModuleDeps {
  ctx: AppContext;
  io: IoServer;
  openSockets: () => number;
  isShuttingDown: () => boolean;
}

/** Every business module, in mounting order. Modules import each other only through index.ts. */
export function createModules(deps: ModuleDeps): AppModule[] {
  return [createSystemModule(deps)];
}

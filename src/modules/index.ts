import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../platform/context';
import type { AppModule } from '../platform/module';
import { createSystemModule } from './system';
import { createAuthModule, type AuthGuards } from './auth';
import { createUsersModule } from './users';
import { createUploadsModule } from './uploads';
import { createChatModule } from './chat';

export interface ModuleDeps {
  ctx: AppContext;
  io: IoServer;
  openSockets: () => number;
  isShuttingDown: () => boolean;
  /** From the auth module, created first: `deps.auth.requireAuth`, `deps.auth.requireRole('admin')`. */
  auth: AuthGuards;
}

/** Every business module, in mounting order. Modules import each other only through index.ts. */
export function createModules(base: Omit<ModuleDeps, 'auth'>): AppModule[] {
  const authModule = createAuthModule(base);
  const deps: ModuleDeps = { ...base, auth: { requireAuth: authModule.requireAuth, requireRole: authModule.requireRole } };
  // Chat and uploads need each other (attachments / participant checks): bound late, called only after both exist.
  const chat = createChatModule({ ...deps, attachments: { attach: (ids, ownerId, conversationId, kind) => uploads.attach(ids, ownerId, conversationId, kind) } });
  const uploads = createUploadsModule({ ctx: deps.ctx, requireAuth: deps.auth.requireAuth, isParticipant: chat.isParticipant });
  return [createSystemModule(deps), authModule, createUsersModule(deps), uploads, chat];
}

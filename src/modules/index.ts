import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../platform/context';
import type { AppModule } from '../platform/module';
import { createSystemModule } from './system';
import { createAuthModule, readAuthConfig, type AuthGuards } from './auth';
import { createUsersModule } from './users';
import { createUploadsModule, readUploadsConfig } from './uploads';
import { createChatModule, readChatConfig, type ChatModule, type ConversationAccess } from './chat';
import { createAnalyticsModule, readAnalyticsConfig } from './analytics';

/**
 * Each module's configuration section: the key it has in Config and the function that reads and
 * validates it (src/modules/<m>/<m>.config.ts). src/config.ts composes them with the platform's.
 */
export const moduleConfigReaders = {
  auth: readAuthConfig,
  uploads: readUploadsConfig,
  chat: readChatConfig,
  analytics: readAnalyticsConfig,
};

export type ModuleConfigs = { [K in keyof typeof moduleConfigReaders]: ReturnType<(typeof moduleConfigReaders)[K]> };

export interface ModuleDeps {
  ctx: AppContext;
  /** Every module's own section; each factory is given only its own. */
  config: ModuleConfigs;
  io: IoServer;
  openSockets: () => number;
  isShuttingDown: () => boolean;
  /** From the auth module, created first: `deps.auth.requireAuth`, `deps.auth.requireRole('admin')`. */
  auth: AuthGuards;
}

/** Every business module, in mounting order. Modules import each other only through index.ts. */
export function createModules(base: Omit<ModuleDeps, 'auth'>): AppModule[] {
  const { ctx, config, io } = base;
  // Analytics records every domain event (a bounded buffer flushed to PostgreSQL in batches; never
  // blocks a publisher). Listed early so that it stops late: it drains the bus and flushes last.
  const analytics = createAnalyticsModule({ ctx, config: config.analytics });
  analytics.subscribe(ctx.events);
  const authModule = createAuthModule({ ctx, io, config: config.auth });
  const deps: ModuleDeps = { ...base, auth: { requireAuth: authModule.requireAuth, requireRole: authModule.requireRole } };
  const users = createUsersModule(deps);
  // Chat and uploads use each other's contracts: chat attaches files through uploads' AttachmentsService,
  // uploads asks chat's ConversationAccess who may see a shared file. Uploads is built first against a
  // ConversationAccess that forwards to chat once chat exists (it is asked only while serving requests,
  // after this function returns); until then it answers "no", so nothing is ever shown by mistake.
  let chat: ChatModule | null = null;
  const conversations: ConversationAccess = {
    isParticipant: (conversationId, userId) => (chat ? chat.isParticipant(conversationId, userId) : Promise.resolve(false)),
  };
  const uploads = createUploadsModule({ ctx, config: config.uploads, requireAuth: deps.auth.requireAuth, conversations });
  chat = createChatModule({ ctx, config: config.chat, io, auth: deps.auth, users: users.directory, attachments: uploads });
  return [createSystemModule(deps), analytics, authModule, users, uploads, chat];
}

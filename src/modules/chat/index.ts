import type { RequestHandler } from 'express';
import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import type { AttachmentsService } from '../uploads';
import type { UserDirectory } from '../users';
import { createChatServices } from './chat.services';
import { createChatRouter } from './chat.routes';
import { registerChatEvents } from './chat.socket';
import type { ChatConfig } from './chat.config';

// The chat module's contract. Other modules import only from here (a lint rule enforces it).
export { CHAT_ERROR_CODES, type ChatErrorCode } from './chat.errors';
export { readChatConfig, type ChatConfig } from './chat.config';

/** What a module that guards shared things (uploads' files) may ask chat. */
export interface ConversationAccess {
  /** Is this user a current participant of this conversation? Asked on every read, so removal takes effect at once. */
  isParticipant(conversationId: string, userId: string): Promise<boolean>;
}

export interface ChatModule extends AppModule, ConversationAccess {}

export function createChatModule(deps: {
  ctx: AppContext;
  config: ChatConfig;
  io: IoServer;
  auth: { requireAuth: RequestHandler };
  /** Users' contract: chat checks that the people it adds exist. */
  users: UserDirectory;
  /** Uploads' contract; without it, messages cannot carry files. */
  attachments?: AttachmentsService;
}): ChatModule {
  const chat = createChatServices({ ctx: deps.ctx, config: deps.config, io: deps.io, users: deps.users, attachments: deps.attachments });
  return {
    name: 'chat',
    http: createChatRouter(chat, deps.auth.requireAuth),
    onSocket: (socket) => registerChatEvents(socket, chat, deps.ctx.logger),
    start: () => chat.presence.start(),
    stop: async () => {
      chat.typing.clear();
      await chat.presence.stop();
    },
    isParticipant: (conversationId, userId) => chat.conversations.isParticipant(conversationId, userId),
  };
}

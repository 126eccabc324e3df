import type { RequestHandler } from 'express';
import type { Model } from 'mongoose';
import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import { userModel } from '../users';
import { createChatServices } from './chat.services';
import { createChatRouter } from './chat.routes';
import { registerChatEvents } from './chat.socket';
import type { AttachmentsPort } from './messages.service';

export type { Attachment } from './chat.model';
export type { AttachmentsPort } from './messages.service';

export interface ChatModule extends AppModule {
  /** For the uploads module: may this user see files shared in this conversation? */
  isParticipant(conversationId: string, userId: string): Promise<boolean>;
}

export function createChatModule(deps: {
  ctx: AppContext;
  io: IoServer;
  auth: { requireAuth: RequestHandler };
  attachments?: AttachmentsPort;
}): ChatModule {
  const users = userModel(deps.ctx.mongo) as unknown as Model<{ status?: string }>;
  const chat = createChatServices({ ctx: deps.ctx, io: deps.io, users, attachments: deps.attachments });
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

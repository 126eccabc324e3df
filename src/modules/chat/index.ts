import type { RequestHandler } from 'express';
import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import { parseObjectId } from '../../platform/mongo';
import type { AttachmentsService } from '../uploads';
import type { UserDirectory } from '../users';
import { createChatServices } from './chat.services';
import { createChatRouter } from './chat.routes';
import { registerChatEvents } from './chat.socket';
import type { ChatConfig } from './chat.config';
import type { MessageView } from './chat.mappers';

// The chat module's contract. Other modules import only from here (a lint rule enforces it).
export { CHAT_ERROR_CODES, type ChatErrorCode } from './chat.errors';
export { readChatConfig, type ChatConfig } from './chat.config';
// Upkeep: the page-key backfill (scheduled) and the repair of derived counts and positions, for the composition root and admin.
export { startChatMaintenance, type ChatMaintenance, type ConversationRepair, type BackfillResult } from './chat-maintenance';

/** What a module that guards shared things (uploads' files) may ask chat. */
export interface ConversationAccess {
  /** Is this user a current participant of this conversation? Asked on every read, so removal takes effect at once. */
  isParticipant(conversationId: string, userId: string): Promise<boolean>;
}

/** What the offers module asks of chat: each offer round appears in the conversation as a message. */
export interface OfferMessages {
  /**
   * Stores and emits a message of type `offer` carrying the round's summary, from `senderId`, like
   * any message (numbered, in the list, unread counts and sync). Idempotent on clientMessageId
   * (use one per offer round, e.g. `offer:<offerId>:<version>`). NOT_FOUND unless the sender is a participant.
   */
  postOfferMessage(senderId: string, conversationId: string, input: { clientMessageId: string; offer: Record<string, unknown> }): Promise<MessageView>;
}

/** What notifications ask of chat: who is in a conversation, and who is connected right now. */
export interface ChatAudience {
  participantIds(conversationId: string): Promise<string[]>;
  /** True while the user has a live socket on any process. */
  isOnline(userId: string): Promise<boolean>;
}

/** What the AI module asks of chat before translating a message for someone. */
export interface MessageAccess {
  /** The message's conversation and text when `userId` is a current participant there and the message is not deleted; null otherwise (unknown id included). */
  messageAccess(messageId: string, userId: string): Promise<{ conversationId: string; text: string | null } | null>;
}

export type { MessageView } from './chat.mappers';

export interface ChatModule extends AppModule, ConversationAccess, OfferMessages, ChatAudience, MessageAccess {}

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
    start: async () => {
      await chat.membership.start();
      await chat.views.start();
      await chat.presence.start();
    },
    stop: async () => {
      chat.typing.clear();
      await chat.presence.stop();
      await chat.membership.close();
      await chat.views.close();
    },
    isParticipant: (conversationId, userId) => chat.conversations.isParticipant(conversationId, userId),
    postOfferMessage: (senderId, conversationId, input) =>
      chat.messages.send(senderId, conversationId, { clientMessageId: input.clientMessageId, type: 'offer', offer: input.offer }),
    // From the membership cache (what a send reads): notifications ask this once per message.
    participantIds: async (conversationId) => (await chat.store.participants(conversationId))?.participantIds ?? [],
    isOnline: (userId) => chat.presence.isOnline(userId),
    messageAccess: async (messageId, userId) => {
      const _id = parseObjectId(messageId);
      const message = _id ? await chat.models.Message.findById(_id, { conversationId: 1, text: 1, deletedAt: 1 }).lean() : null;
      if (!message || message.deletedAt) return null;
      const conversationId = String(message.conversationId);
      return (await chat.conversations.isParticipant(conversationId, userId)) ? { conversationId, text: message.text ?? null } : null;
    },
  };
}

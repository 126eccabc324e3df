import { Types } from 'mongoose';
import { errors } from '../../platform/errors';
import type { AttachmentsService } from '../uploads';
import { memberKey, type ChatModels, type ConversationDoc, type MessageDoc, type MessageType } from './chat.model';
import { chatErrors } from './chat.errors';
import { toMessageView, type MessageView } from './chat.mappers';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isNonNegativeInt } from '../../platform/pagination';
import { escapeRegex, isDuplicateKey } from '../../platform/mongo';
import type { EventBus } from '../../platform/events';
import type { ChatStore, Notifier } from './chat.store';

export interface SendInput {
  clientMessageId: string;
  type?: MessageType;
  text?: string;
  attachmentIds?: string[];
  replyToId?: string;
}

export interface MessagesDeps {
  models: ChatModels;
  store: ChatStore;
  notifier: Notifier;
  consumeSendBudget: (userId: string) => Promise<void>;
  /** Uploads' contract; `kind` is passed as the message type, so every file must be of that kind. */
  attachments?: AttachmentsService;
  clock: () => Date;
  events?: Pick<EventBus, 'publish'>;
}

const ATTACHMENT_TYPES: MessageType[] = ['image', 'document', 'voice'];
// How long a claimed clientMessageId may stay unnumbered before a retry may take it over (a crash mid-send).
const ABANDONED_CLAIM_MS = 30_000;

type PageCursor = { s: number; d: 'backward' | 'forward' };
const isPageCursor = (v: Record<string, unknown>): v is PageCursor =>
  isNonNegativeInt(v.s) && (v.d === 'backward' || v.d === 'forward');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const preview = (message: Pick<MessageDoc, 'type' | 'text' | 'deletedAt'>) =>
  message.deletedAt ? '' : message.text ? message.text.slice(0, 120) : `[${message.type}]`;

export function createMessagesService({ models, store, notifier, consumeSendBudget, attachments, clock, events }: MessagesDeps) {
  const { Message } = models;

  function checkShape(input: SendInput): MessageType {
    const type = input.type ?? (input.attachmentIds?.length ? 'image' : 'text');
    const ids = input.attachmentIds ?? [];
    if (ids.length && !attachments) throw chatErrors.attachmentsUnavailable();
    if (type === 'text' && !input.text?.trim()) throw errors.validation([{ field: 'text', message: 'A text message needs text' }]);
    if (ids.length && !ATTACHMENT_TYPES.includes(type)) {
      throw errors.validation([{ field: 'attachmentIds', message: `A ${type} message takes no attachments` }]);
    }
    if (ATTACHMENT_TYPES.includes(type) && !ids.length) {
      throw errors.validation([{ field: 'attachmentIds', message: `A ${type} message needs at least one attachment` }]);
    }
    return type;
  }

  /** A retry (or a concurrent duplicate) gets the first message; an unnumbered claim is still being stored. */
  async function awaitClaim(senderId: string, clientMessageId: string, conversationId: string): Promise<MessageDoc | null> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const found = await Message.findOne({ senderId, clientMessageId }).lean<MessageDoc>();
      if (!found) return null;
      if (String(found.conversationId) !== conversationId) throw chatErrors.clientMessageIdReused();
      if (found.seq > 0) return found;
      if (clock().getTime() - new Date(found.createdAt).getTime() > ABANDONED_CLAIM_MS) {
        await Message.deleteOne({ _id: found._id, seq: 0 });
        return null;
      }
      await sleep(50);
    }
    throw errors.serviceUnavailable();
  }

  async function publish(conversation: ConversationDoc, message: MessageDoc): Promise<MessageView> {
    const view = toMessageView(message);
    notifier.toUsers(conversation.participantIds, 'chat:message', view);
    events?.publish('message.sent', { messageId: view.id, conversationId: view.conversationId, senderId: view.senderId, seq: view.seq, type: view.type, at: view.createdAt });
    return view;
  }

  async function store_(senderId: string, conversationId: string, input: SendInput, type: MessageType, replyTo: MessageDoc['replyTo']) {
    let claim: MessageDoc;
    try {
      const doc = await Message.create({
        conversationId, senderId, clientMessageId: input.clientMessageId, type, text: input.text ?? null,
        attachments: [], replyTo, reactions: [], seq: 0, changeSeq: 0,
      });
      claim = doc.toObject() as MessageDoc;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return { existing: await awaitClaim(senderId, input.clientMessageId, conversationId) };
    }
    try {
      // Counted only once the claim is ours: a retry of a stored message is an answer, not a send.
      await consumeSendBudget(senderId);
      const stored = input.attachmentIds?.length && attachments ? await attachments.attach(input.attachmentIds, senderId, conversationId, type as 'image' | 'document' | 'voice') : [];
      const summary = { messageId: claim._id, senderId: claim.senderId, type, preview: preview(claim), createdAt: claim.createdAt };
      // The allocator is the one place a sequence number is handed out. Membership was checked just
      // before; a send racing a removal is ordered before it, as if it had arrived a moment earlier.
      const [seq, changeSeq] = await Promise.all([store.nextMessageSeq(conversationId), store.nextChangeSeq()]);
      const conversation = await store.advanceConversation(conversationId, seq, { lastMessage: summary, lastActivityAt: claim.createdAt });
      const [message] = await Promise.all([
        Message.findOneAndUpdate({ _id: claim._id }, { $set: { seq, changeSeq, attachments: stored } }, { new: true }).lean<MessageDoc>(),
        // The sender has read and holds everything up to their own message.
        store.raiseMember(memberKey(conversationId, senderId), { lastReadSeq: seq, lastDeliveredSeq: seq }, null),
      ]);
      if (!message) throw errors.internal();
      return { conversation, message };
    } catch (err) {
      await Message.deleteOne({ _id: claim._id, seq: 0 }).catch(() => undefined);
      throw err;
    }
  }

  return {
    async send(senderId: string, conversationId: string, input: SendInput): Promise<MessageView> {
      if (!(await store.isMember(conversationId, senderId))) throw chatErrors.conversationNotFound();
      const type = checkShape(input);
      let replyTo: MessageDoc['replyTo'] = null;
      if (input.replyToId) {
        const target = Types.ObjectId.isValid(input.replyToId)
          ? await Message.findOne({ _id: input.replyToId, conversationId, seq: { $gt: 0 } }, { seq: 1 }).lean<MessageDoc>()
          : null;
        if (!target) throw errors.validation([{ field: 'replyToId', message: 'replyToId is not a message of this conversation' }]);
        replyTo = { messageId: target._id, seq: target.seq };
      }
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const result = await store_(senderId, conversationId, input, type, replyTo);
        if ('existing' in result) {
          if (result.existing) return toMessageView(result.existing);
          continue;
        }
        return publish(result.conversation, result.message);
      }
      throw errors.serviceUnavailable();
    },

    async list(userId: string, conversationId: string, options: { limit?: number; cursor?: string; direction?: 'backward' | 'forward'; search?: string }) {
      const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
      await store.requireMember(conversationId, userId);
      const cursor = decodeCursor(options.cursor, isPageCursor);
      const direction = cursor?.d ?? options.direction ?? 'backward';
      const seqFilter: Record<string, number> = { $gt: 0 };
      if (cursor) seqFilter[direction === 'backward' ? '$lt' : '$gt'] = cursor.s;
      const filter: Record<string, unknown> = { conversationId, seq: seqFilter };
      if (options.search) {
        filter.text = { $regex: escapeRegex(options.search), $options: 'i' };
        filter.deletedAt = null;
      }
      const rows = await Message.find(filter)
        .sort({ seq: direction === 'backward' ? -1 : 1 })
        .limit(limit + 1)
        .lean<MessageDoc[]>();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const nextCursor = rows.length > limit && last ? encodeCursor({ s: last.seq, d: direction }) : null;
      return { data: page.map(toMessageView), page: { nextCursor, limit } };
    },
  };
}

export type MessagesService = ReturnType<typeof createMessagesService>;

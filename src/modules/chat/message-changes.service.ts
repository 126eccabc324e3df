import { Types } from 'mongoose';
import type { ChatConfig } from './chat.config';
import { errors } from '../../platform/errors';
import { messageLockKey, reactionKey, type ChatModels, type MessageDoc, type Reaction } from './chat.model';
import { chatErrors } from './chat.errors';
import { toMessageView, type MessageView } from './chat.mappers';
import { isDuplicateKey } from '../../platform/mongo';
import type { ChatStore, Notifier } from './chat.store';
import type { ViewsInvalidation } from './views-channel';

export interface MessageChangesDeps {
  models: ChatModels;
  store: ChatStore;
  notifier: Notifier;
  config: ChatConfig;
  clock: () => Date;
  /** Publishes on the views channel (here and on every process), awaited: cached pages (and lists) a change makes stale. */
  publishViews?: (invalidation: ViewsInvalidation) => Promise<void>;
}

/** Edits, soft deletes and reactions: each one takes a new change number so /sync carries it. */
export function createMessageChangesService({ models, store, notifier, config, clock, publishViews }: MessageChangesDeps) {
  const { Conversation, Message, Reaction: Reactions } = models;

  async function load(userId: string, messageId: string) {
    if (!Types.ObjectId.isValid(messageId)) throw chatErrors.messageNotFound();
    const message = await Message.findOne({ _id: messageId, seq: { $gt: 0 } }).lean<MessageDoc>();
    if (!message) throw chatErrors.messageNotFound();
    try {
      const { conversation } = await store.requireMember(String(message.conversationId), userId);
      return { message, conversation };
    } catch {
      // Someone else's message is not found, not forbidden: its existence is not leaked.
      throw chatErrors.messageNotFound();
    }
  }

  async function apply(
    userId: string,
    messageId: string,
    guard: (message: MessageDoc) => Record<string, unknown> | null,
    update: (now: Date) => Record<string, unknown>,
  ): Promise<MessageView> {
    const { message, conversation } = await load(userId, messageId);
    const extraFilter = guard(message);
    if (extraFilter === null) return toMessageView(message);
    const now = clock();
    const changeSeq = await store.nextChangeSeq();
    const base = update(now);
    // Under the message's lock, as every writer of a message document (reactions, the page-key
    // backfill): FerretDB rewrites the whole document, so unserialised writers can undo each other.
    const updated = await store.withLock(messageLockKey(message._id), () =>
      Message.findOneAndUpdate({ _id: message._id, ...extraFilter }, { ...base, $max: { changeSeq } }, { new: true }).lean<MessageDoc>(),
    );
    if (!updated) throw errors.conflict('The message changed meanwhile; reload it and try again');
    const view = toMessageView(updated);
    if (conversation.lastMessage && String(conversation.lastMessage.messageId) === String(updated._id)) {
      const preview = updated.deletedAt ? '' : (updated.text ?? '').slice(0, 120) || `[${updated.type}]`;
      await Conversation.updateOne({ _id: conversation._id, 'lastMessage.messageId': updated._id }, { $set: { 'lastMessage.preview': preview } });
    }
    // The conversation's cached pages (and, with the preview, lists) are dropped on every process before anyone hears of the change.
    await publishViews?.({ c: [String(conversation._id)], u: [] });
    notifier.toUsers(conversation.participantIds, 'chat:message_updated', view);
    return view;
  }

  const currentReactions = async (messageId: MessageDoc['_id']): Promise<Reaction[]> =>
    (await Reactions.find({ messageId }).sort({ at: 1, _id: 1 }).lean()).map((r) => ({ userId: r.userId, emoji: r.emoji }));

  /**
   * Rebuilds the message's reaction list from the reaction documents, under the message's lock so
   * that a rebuild from an older read cannot land over a newer one (FerretDB does not isolate updates).
   */
  async function publishReactions(message: MessageDoc, participantIds: Types.ObjectId[]): Promise<MessageView> {
    const changeSeq = await store.nextChangeSeq();
    const updated = await store.withLock(messageLockKey(message._id), async () => {
      const reactions = await currentReactions(message._id);
      await Message.updateOne({ _id: message._id }, { $set: { reactions }, $max: { changeSeq } });
      return Message.findById(message._id).lean<MessageDoc>();
    });
    if (!updated) throw chatErrors.messageNotFound();
    await publishViews?.({ c: [String(updated.conversationId)], u: [] });
    const view = toMessageView(updated);
    notifier.toUsers(participantIds, 'chat:message_updated', view);
    return view;
  }

  return {
    edit(userId: string, messageId: string, text: string): Promise<MessageView> {
      return apply(
        userId,
        messageId,
        (message) => {
          if (String(message.senderId) !== userId) throw chatErrors.notSender();
          if (message.deletedAt) throw chatErrors.messageDeleted();
          if (message.type !== 'text') throw errors.validation([{ field: 'text', message: 'Only text messages can be edited' }]);
          if (clock().getTime() - new Date(message.createdAt).getTime() > config.editWindowSeconds * 1000) throw chatErrors.editWindowClosed();
          return { deletedAt: null };
        },
        (now) => ({ $set: { text, editedAt: now } }),
      );
    },

    /** Deleting twice answers the deleted message again; the text and files are wiped, not hidden. */
    remove(userId: string, messageId: string): Promise<MessageView> {
      return apply(
        userId,
        messageId,
        (message) => {
          if (String(message.senderId) !== userId) throw chatErrors.notSender();
          return message.deletedAt ? null : { deletedAt: null };
        },
        (now) => ({ $set: { deletedAt: now, text: null, attachments: [], reactions: [] } }),
      ).then(async (view) => {
        await Reactions.deleteMany({ messageId: new Types.ObjectId(messageId) });
        return view;
      });
    },

    async react(userId: string, messageId: string, emoji: string): Promise<MessageView> {
      const { message, conversation } = await load(userId, messageId);
      if (message.deletedAt) throw chatErrors.messageDeleted();
      try {
        await Reactions.create({ _id: reactionKey(message._id, userId, emoji), messageId: message._id, userId, emoji, at: clock() });
      } catch (err) {
        // Already there: reacting twice changes nothing and announces nothing.
        if (isDuplicateKey(err)) return toMessageView(message);
        throw err;
      }
      return publishReactions(message, conversation.participantIds);
    },

    async unreact(userId: string, messageId: string, emoji: string): Promise<MessageView> {
      const { message, conversation } = await load(userId, messageId);
      const removed = await Reactions.deleteOne({ _id: reactionKey(message._id, userId, emoji) });
      if (removed.deletedCount === 0) return toMessageView(message);
      return publishReactions(message, conversation.participantIds);
    },
  };
}

export type MessageChangesService = ReturnType<typeof createMessageChangesService>;

import { Types } from 'mongoose';
import { errors } from '../../platform/errors';
import type { ChatModels, ConversationDoc, MemberDoc, MessageDoc } from './chat.model';
import { effectivePositions } from './chat.mappers';
import type { ChatStore, Notifier } from './chat.store';

export type ReceiptKind = 'delivered' | 'read';

export interface ReceiptState {
  conversationId: string;
  userId: string;
  lastReadSeq: number;
  lastDeliveredSeq: number;
}

export interface ReceiptsDeps {
  models: ChatModels;
  store: ChatStore;
  notifier: Notifier;
  clock: () => Date;
}

/** A member's positions as views show them: their own messages count as read (effectivePositions). */
const state = (member: MemberDoc, conversation: Pick<ConversationDoc, 'sentSeq'>): ReceiptState => ({
  conversationId: String(member.conversationId),
  userId: String(member.userId),
  ...effectivePositions(member, conversation),
});

/**
 * Read and delivery positions only move forward (store.raiseMember), so late or repeated receipts
 * change nothing and emit nothing; nor does a receipt for a position the member's own last message
 * already covers.
 */
export function createReceiptsService({ models, store, notifier, clock }: ReceiptsDeps) {
  const { Message } = models;

  async function advance(kind: ReceiptKind, userId: string, conversationId: string, upTo: { seq?: number; messageId?: string }): Promise<ReceiptState> {
    const { conversation, member } = await store.requireMember(conversationId, userId);
    let seq = upTo.seq;
    if (upTo.messageId !== undefined) {
      const message = Types.ObjectId.isValid(upTo.messageId)
        ? await Message.findOne({ _id: upTo.messageId, conversationId, seq: { $gt: 0 } }, { seq: 1 }).lean<MessageDoc>()
        : null;
      if (!message) throw errors.validation([{ field: 'messageId', message: 'messageId is not a message of this conversation' }]);
      seq = message.seq;
    }
    if (seq === undefined) throw errors.validation([{ field: 'seq', message: 'Give seq or messageId' }]);
    const target = Math.min(seq, conversation.lastSeq);
    const field = kind === 'read' ? 'lastReadSeq' : 'lastDeliveredSeq';
    if (effectivePositions(member, conversation)[field] >= target) return state(member, conversation);
    const now = clock();
    const changeSeq = await store.nextChangeSeq();
    const raise = kind === 'read' ? { lastReadSeq: target, lastDeliveredSeq: target } : { lastDeliveredSeq: target };
    const moved = await store.raiseMember(String(member._id), raise, { changeSeq, at: now }, field);
    const updated = moved.doc;
    if (!moved.changed) return state(updated, conversation);
    notifier.toUsers(conversation.participantIds, 'chat:receipt', {
      ...state(updated, conversation),
      type: kind,
      seq: target,
      at: now.toISOString(),
    });
    return state(updated, conversation);
  }

  return {
    markRead: (userId: string, conversationId: string, upTo: { seq?: number; messageId?: string }) => advance('read', userId, conversationId, upTo),
    markDelivered: (userId: string, conversationId: string, seq: number) => advance('delivered', userId, conversationId, { seq }),
  };
}

export type ReceiptsService = ReturnType<typeof createReceiptsService>;

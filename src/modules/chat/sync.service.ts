import type { ChatConfig } from './chat.config';
import type { ChatModels, ConversationDoc, MemberDoc, MessageDoc } from './chat.model';
import { toConversationView, toMessageView, toParticipantView } from './chat.mappers';
import { decodeCursor, encodeCursor, isNonNegativeInt } from '../../platform/pagination';
import type { ReceiptsService } from './receipts.service';

export interface SyncDeps {
  models: ChatModels;
  receipts: ReceiptsService;
  config: ChatConfig;
  clock: () => Date;
}

type SyncCursor = { c: number };
const isSyncCursor = (v: Record<string, unknown>): v is SyncCursor => isNonNegativeInt(v.c);

interface Change {
  changeSeq: number;
  at: Date;
}

/**
 * Everything that changed in the caller's conversations after a change number. Change numbers are
 * handed out before the write lands, so a lower number can become visible after a higher one; the
 * cursor therefore never moves past a change younger than the settle window, and such young
 * changes are sent again on the next call (every item is an upsert keyed by id + changeSeq).
 */
/** Changes per /sync call when the client sends no `?limit=`: a catch-up after a night offline fits in a few calls. */
const DEFAULT_SYNC_LIMIT = 200;

export function createSyncService({ models, receipts, config, clock }: SyncDeps) {
  const { Conversation, Member, Message } = models;

  return {
    async sync(userId: string, options: { since?: string; limit?: number }) {
      const since = decodeCursor(options.since, isSyncCursor, 'since')?.c ?? 0;
      const limit = options.limit ?? DEFAULT_SYNC_LIMIT;
      const memberships = await Member.find({ userId }).lean<MemberDoc[]>();
      const active = memberships.filter((m) => !m.leftAt).map((m) => m.conversationId);

      const [messages, participants] = await Promise.all([
        active.length
          ? Message.find({ conversationId: { $in: active }, changeSeq: { $gt: since } }).sort({ changeSeq: 1 }).limit(limit + 1).lean<MessageDoc[]>()
          : Promise.resolve([] as MessageDoc[]),
        Member.find({ $or: [{ conversationId: { $in: active } }, { userId }], changeSeq: { $gt: since } })
          .sort({ changeSeq: 1 })
          .limit(limit + 1)
          .lean<MemberDoc[]>(),
      ]);

      // Each list is complete only up to its last fetched item when it overflowed.
      let bound = Number.POSITIVE_INFINITY;
      for (const list of [messages, participants]) {
        if (list.length > limit) bound = Math.min(bound, (list[limit - 1] as { changeSeq: number }).changeSeq);
      }
      const pageMessages = messages.filter((m) => m.changeSeq <= bound);
      const pageParticipants = participants.filter((p) => p.changeSeq <= bound);

      const changes: Change[] = [
        ...pageMessages.map((m) => ({ changeSeq: m.changeSeq, at: new Date(m.updatedAt) })),
        ...pageParticipants.map((p) => ({ changeSeq: p.changeSeq, at: new Date(p.changedAt) })),
      ].sort((a, b) => a.changeSeq - b.changeSeq);
      const settledBefore = clock().getTime() - config.syncSettleMs;
      let cursor = since;
      for (const change of changes) {
        if (change.at.getTime() > settledBefore) break;
        cursor = change.changeSeq;
      }

      const touched = [...new Set([...pageMessages, ...pageParticipants].map((x) => String(x.conversationId)))].filter((id) =>
        active.some((a) => String(a) === id),
      );
      const [conversations, members] = touched.length
        ? await Promise.all([
            Conversation.find({ _id: { $in: touched } }).lean<ConversationDoc[]>(),
            Member.find({ conversationId: { $in: touched }, leftAt: null }).lean<MemberDoc[]>(),
          ])
        : [[] as ConversationDoc[], [] as MemberDoc[]];

      // The device now holds these messages: tell their senders they were delivered.
      const newest = new Map<string, number>();
      for (const m of pageMessages) {
        if (String(m.senderId) === userId) continue;
        const key = String(m.conversationId);
        newest.set(key, Math.max(newest.get(key) ?? 0, m.seq));
      }
      await Promise.all([...newest].map(([conversationId, seq]) => receipts.markDelivered(userId, conversationId, seq).catch(() => undefined)));

      return {
        messages: pageMessages.map(toMessageView),
        participants: pageParticipants.map((p) => ({
          conversationId: String(p.conversationId),
          changeSeq: p.changeSeq,
          ...toParticipantView(p, conversations.find((c) => String(c._id) === String(p.conversationId))),
        })),
        conversations: conversations.map((c) =>
          toConversationView(c, members.filter((m) => String(m.conversationId) === String(c._id)), userId),
        ),
        removedConversationIds: memberships.filter((m) => m.leftAt && m.changeSeq > since && m.changeSeq <= bound).map((m) => String(m.conversationId)),
        nextCursor: encodeCursor({ c: cursor }),
        hasMore: Number.isFinite(bound),
      };
    },
  };
}

export type SyncService = ReturnType<typeof createSyncService>;

import type { Collection } from 'mongodb';
import { Types } from 'mongoose';
import type { AppContext } from '../../platform/context';
import { createLocks, type Locks } from '../../platform/locks';
import { conversationLockKey, getChatModels, memberLockKey, messageLockKey, type ChatModels, type ConversationDoc, type MemberDoc, type MessageDoc } from './chat.model';
import { messagePageKeys } from './message-pages';
import { viewsPublishers, type ViewsInvalidation } from './views-channel';
import { membershipInvalidators } from './membership-channel';

/** The lock every writer of a message document takes (edits, deletes, reactions, this backfill). */

const MARKER_ID = 'page-keys-backfill';

export interface MaintenanceDoc {
  _id: string;
  doneAt: Date | null;
  updated: number;
}

export interface BackfillResult {
  /** Messages given their page keys in this run. */
  updated: number;
  /** True when the run found nothing left (the marker is then set and later runs return at once). */
  done: boolean;
  skipped: boolean;
}

export interface ConversationRepair {
  conversationId: string;
  /** What differed and was set from the source rows (empty: nothing had drifted). */
  fixed: string[];
}

const preview = (message: Pick<MessageDoc, 'deletedAt' | 'text' | 'type'>) => (message.deletedAt ? '' : (message.text ?? '').slice(0, 120) || `[${message.type}]`);

/**
 * Chat's upkeep: the page-key backfill of messages stored before page keys (message-pages.ts),
 * and the repair of the state derived from the message and member rows that every view reads
 * (a conversation's `lastSeq` and summary, each member's positions, the participant list).
 */
export function createChatMaintenance(deps: {
  models: ChatModels;
  locks: Locks;
  marker: Collection<MaintenanceDoc>;
  /** The views channel's publish: a repair that fixed anything drops the lists showing the conversation on every process. */
  publishViews?: (invalidation: ViewsInvalidation) => Promise<void>;
  /** The membership cache's invalidation: a repair that pulls a participant ends their access on every process at once. */
  invalidateMembership?: (conversationIds: string[]) => Promise<void>;
}) {
  const { models, locks, marker } = deps;
  const { Conversation, Member, Message } = models;

  /**
   * Gives every message without `pageKeys` its keys: one pass over the messages that lack them
   * (a cursor in batches of `batchSize`), each written under the message's lock (FerretDB rewrites
   * the whole document, so an unserialised write could undo a concurrent delete or reaction).
   * Idempotent (the keys follow from the conversation and the number, which never change) and
   * resumable: a run that stopped leaves the rest without keys, and the next run finds them. The
   * marker makes runs after the one that found nothing a single read by `_id`; `force` ignores it.
   */
  async function backfillPageKeys(options: { batchSize?: number; concurrency?: number; force?: boolean } = {}): Promise<BackfillResult> {
    const batchSize = options.batchSize ?? 200;
    const concurrency = options.concurrency ?? 8;
    if (!options.force) {
      const done = await marker.findOne({ _id: MARKER_ID });
      if (done?.doneAt) return { updated: 0, done: true, skipped: true };
    }
    const cursor = Message.find({ pageKeys: { $exists: false } }, { _id: 1, conversationId: 1, seq: 1 }).batchSize(batchSize).lean<MessageDoc[]>().cursor();
    let updated = 0;
    let batch: Pick<MessageDoc, '_id' | 'conversationId' | 'seq'>[] = [];
    const write = async (rows: typeof batch) => {
      for (let i = 0; i < rows.length; i += concurrency) {
        await Promise.all(
          rows.slice(i, i + concurrency).map((m) =>
            locks.withLock(messageLockKey(m._id), async () => {
              const result = await Message.updateOne({ _id: m._id }, { $set: { pageKeys: messagePageKeys(m.conversationId, m.seq) } }, { timestamps: false });
              updated += result.modifiedCount;
            }),
          ),
        );
      }
    };
    for await (const message of cursor as AsyncIterable<Pick<MessageDoc, '_id' | 'conversationId' | 'seq'>>) {
      // Unnumbered claims of the old send path are never shown; they get no keys.
      if (!message.seq) continue;
      batch.push(message);
      if (batch.length >= batchSize) {
        await write(batch);
        batch = [];
      }
    }
    if (batch.length) await write(batch);
    await marker.updateOne({ _id: MARKER_ID }, { $set: { doneAt: new Date(), updated } }, { upsert: true });
    return { updated, done: true, skipped: false };
  }

  /**
   * Recomputes what views read from the source rows of one conversation, under the same locks as
   * the writers of each document: `lastSeq` and the last-message summary from its highest-numbered
   * message (only forward: a send in flight may have stored a higher one meanwhile), each active
   * member's read position raised to their own highest message (a sender has read what they sent)
   * and capped at `lastSeq`, delivered at least read, and the participant list and the active
   * member rows made to agree by keeping only those in both (a crash between the two writes of an
   * add or a removal leaves one without the other; the repair never grants access that one of
   * them denies). Unread counts are `lastSeq − lastReadSeq`, so they follow.
   */
  async function repairConversation(conversationId: string): Promise<ConversationRepair | null> {
    if (!Types.ObjectId.isValid(conversationId)) return null;
    const id = new Types.ObjectId(conversationId);
    const fixed: string[] = [];
    const messages = await Message.find({ conversationId: id }, { seq: 1, senderId: 1, type: 1, text: 1, deletedAt: 1, createdAt: 1 }).lean<MessageDoc[]>();
    const numbered = messages.filter((m) => m.seq > 0);
    const top = numbered.reduce<MessageDoc | null>((best, m) => (!best || m.seq > best.seq ? m : best), null);
    const sentUpTo = new Map<string, number>();
    for (const m of numbered) sentUpTo.set(String(m.senderId), Math.max(sentUpTo.get(String(m.senderId)) ?? 0, m.seq));

    const conversation = await locks.withLock(conversationLockKey(id), async () => {
      const current = await Conversation.findById(id).lean<ConversationDoc>();
      if (!current) return null;
      if (top && top.seq > current.lastSeq) {
        const lastMessage = { messageId: top._id, senderId: top.senderId, type: top.type, preview: preview(top), createdAt: top.createdAt };
        const lastActivityAt = new Date(Math.max(new Date(current.lastActivityAt).getTime(), new Date(top.createdAt).getTime()));
        await Conversation.updateOne({ _id: id }, { $set: { lastSeq: top.seq, lastMessage, lastActivityAt } });
        fixed.push(`lastSeq ${current.lastSeq} → ${top.seq}`);
        return { ...current, lastSeq: top.seq, lastMessage, lastActivityAt };
      }
      return current;
    });
    if (!conversation) return null;

    const rows = await Member.find({ conversationId: id }).lean<MemberDoc[]>();
    const listed = new Set(conversation.participantIds.map(String));
    const active = new Set(rows.filter((m) => !m.leftAt).map((m) => String(m.userId)));
    const notListed = rows.filter((m) => !m.leftAt && !listed.has(String(m.userId)));
    const noRow = [...listed].filter((userId) => !active.has(userId));
    if (noRow.length) {
      await locks.withLock(conversationLockKey(id), async () => {
        for (const userId of noRow) await Conversation.updateOne({ _id: id }, { $pull: { participantIds: new Types.ObjectId(userId) } });
      });
      // Access is the participant list, cached per process: dropped everywhere before going on.
      await deps.invalidateMembership?.([conversationId]);
      fixed.push(`participants without an active member row removed: ${noRow.join(', ')}`);
    }
    for (const row of notListed) {
      await locks.withLock(memberLockKey(row._id), () => Member.updateOne({ _id: row._id, leftAt: null }, { $set: { leftAt: new Date() } }));
      fixed.push(`member row ${row._id} not in the participant list closed`);
    }

    for (const row of rows.filter((m) => !m.leftAt && listed.has(String(m.userId)))) {
      await locks.withLock(memberLockKey(row._id), async () => {
        const current = await Member.findById(row._id).lean<MemberDoc>();
        if (!current || current.leftAt) return;
        const read = Math.min(conversation.lastSeq, Math.max(current.lastReadSeq, sentUpTo.get(String(current.userId)) ?? 0));
        const delivered = Math.min(conversation.lastSeq, Math.max(current.lastDeliveredSeq, read));
        if (read === current.lastReadSeq && delivered === current.lastDeliveredSeq) return;
        await Member.updateOne({ _id: row._id }, { $set: { lastReadSeq: read, lastDeliveredSeq: delivered } });
        fixed.push(`member ${String(current.userId)}: read ${current.lastReadSeq} → ${read}, delivered ${current.lastDeliveredSeq} → ${delivered}`);
      });
    }
    // What it fixed is in views (summaries, order, unread counts, who is listed): the cached lists
    // of the conversation and of every member row's user are dropped on every process. (The page
    // keys backfill changes no view and publishes nothing.)
    if (fixed.length) await deps.publishViews?.({ c: [conversationId], u: [...new Set(rows.map((m) => String(m.userId)))] });
    return { conversationId, fixed };
  }

  /** Every conversation, in one pass (a cursor); answers those where something was fixed. */
  async function repairAll(options: { batchSize?: number } = {}): Promise<{ checked: number; repaired: ConversationRepair[] }> {
    const cursor = Conversation.find({}, { _id: 1 }).batchSize(options.batchSize ?? 200).lean<ConversationDoc[]>().cursor();
    let checked = 0;
    const repaired: ConversationRepair[] = [];
    for await (const row of cursor as AsyncIterable<Pick<ConversationDoc, '_id'>>) {
      const result = await repairConversation(String(row._id));
      checked += 1;
      if (result?.fixed.length) repaired.push(result);
    }
    return { checked, repaired };
  }

  return { backfillPageKeys, repairConversation, repairAll };
}

export type ChatMaintenance = ReturnType<typeof createChatMaintenance>;

/** Every ten minutes; with Redis, once per tick across every process. After the marker is set, one read by `_id`. */
export const PAGE_KEYS_BACKFILL_EVERY_MS = 600_000;

/**
 * Chat's upkeep on one app context, with the backfill scheduled as a job: it never delays start
 * or readiness (pages of messages without keys are served by the range query meanwhile), runs on
 * one process at a time, and a process that dies mid-way leaves the rest to the next tick.
 */
export function startChatMaintenance(ctx: AppContext): ChatMaintenance {
  const marker: Collection<MaintenanceDoc> = ctx.mongo.collection('chat_maintenance');
  const maintenance = createChatMaintenance({
    models: getChatModels(ctx.mongo),
    locks: createLocks(ctx.mongo),
    marker,
    // Looked up when a repair runs: the chat module (built on this context) sets it.
    publishViews: (invalidation) => viewsPublishers.get(ctx)?.(invalidation) ?? Promise.resolve(),
    invalidateMembership: (conversationIds) => membershipInvalidators.get(ctx)?.(conversationIds) ?? Promise.resolve(),
  });
  ctx.jobs.schedule('chat-page-keys-backfill', { everyMs: PAGE_KEYS_BACKFILL_EVERY_MS }, async () => {
    const result = await maintenance.backfillPageKeys();
    if (!result.skipped) ctx.logger.info('Chat page keys backfilled', { updated: result.updated });
  });
  return maintenance;
}

import { randomBytes } from 'node:crypto';
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import { Types, type Connection } from 'mongoose';
import type { Locks } from '../../platform/locks';
import type { ChatModels, ConversationDoc, MemberDoc } from './chat.model';

type SummaryFields = Pick<ConversationDoc, 'lastMessage' | 'lastActivityAt'>;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}
interface PendingSummary {
  seq: number;
  fields: SummaryFields;
  waiters: Waiter[];
}
interface PendingPosition {
  seq: number;
  waiters: Waiter[];
}

export const conversationLockKey = (conversationId: string) => `chat:conversation:${conversationId}`;
export const memberLockKey = (memberId: string) => `chat:member:${memberId}`;

export interface DerivedStateDeps {
  models: ChatModels;
  mongo: Connection;
  /** The same locks (and lock documents) every other writer of conversations and member rows takes. */
  locks: Locks;
  leaseMs: number;
}

/**
 * The state a send moves after its message is emitted: the conversation's `lastSeq` and
 * last-message summary, and the sender's read/delivered positions. Both only move forward and
 * are read-modify-write on FerretDB 1.24 (not isolated), so each is written under its key's lock
 * (the lock documents of src/platform/locks.ts, so receipts and membership changes exclude it).
 *
 * What this saves: every send of this process that arrives while a write is running is folded
 * into the next one (the highest number per key wins), and that one write covers ALL the
 * conversations and members pending, in four store commands however many there are: one
 * `insert` of every lock (unordered: each lock is taken or not on its own), one `update` of the
 * conversations and one of the members (each statement guarded by its own forward-only filter or
 * `$max`, exact because its lock is held), one `delete` of the locks. A lock another holder has
 * (or a dead one left) is waited for and taken over through `locks.withLock`, one key at a time,
 * as before. A caller's promise resolves once a write covering its value has landed.
 */
export function createDerivedState({ models, mongo, locks, leaseMs }: DerivedStateDeps) {
  const lockDocs: Collection<{ _id: string; owner: string; expiresAt: Date }> = mongo.collection('locks');
  const conversations = models.Conversation.collection as unknown as Collection<ConversationDoc>;
  const members = models.Member.collection as unknown as Collection<MemberDoc>;
  let summaries = new Map<string, PendingSummary>();
  let positions = new Map<string, PendingPosition>();
  let running = false;

  const summaryOp = (conversationId: string, value: PendingSummary): AnyBulkWriteOperation<ConversationDoc> => ({
    updateOne: {
      filter: { _id: new Types.ObjectId(conversationId), lastSeq: { $lt: value.seq } },
      update: { $set: { lastSeq: value.seq, ...value.fields } },
    },
  });
  const positionOp = (memberId: string, value: PendingPosition): AnyBulkWriteOperation<MemberDoc> => ({
    updateOne: { filter: { _id: memberId }, update: { $max: { lastReadSeq: value.seq, lastDeliveredSeq: value.seq } } },
  });

  /** One key whose lock was held elsewhere: waits for it (or its lease) the usual way. */
  async function slowPath(kind: 'summary' | 'position', key: string, value: PendingSummary | PendingPosition): Promise<void> {
    try {
      if (kind === 'summary') {
        await locks.withLock(conversationLockKey(key), () => conversations.bulkWrite([summaryOp(key, value as PendingSummary)]));
      } else {
        await locks.withLock(memberLockKey(key), () => members.bulkWrite([positionOp(key, value)]));
      }
      for (const waiter of value.waiters) waiter.resolve();
    } catch (err) {
      for (const waiter of value.waiters) waiter.reject(err);
    }
  }

  async function flushOnce(): Promise<void> {
    const batchSummaries = summaries;
    const batchPositions = positions;
    summaries = new Map();
    positions = new Map();
    const keys = [...[...batchSummaries.keys()].map(conversationLockKey), ...[...batchPositions.keys()].map(memberLockKey)];
    const owner = randomBytes(8).toString('hex');
    const failed = new Set<number>();
    const all = [...batchSummaries.values(), ...batchPositions.values()];
    try {
      await lockDocs.insertMany(keys.map((_id) => ({ _id, owner, expiresAt: new Date(Date.now() + leaseMs) })), { ordered: false });
    } catch (err) {
      // Each lock that another holder has fails on its own (its index); anything else fails them all.
      const writeErrors = (err as { writeErrors?: { index: number }[] }).writeErrors;
      if (!writeErrors?.length) {
        for (const value of all) for (const waiter of value.waiters) waiter.reject(err);
        return;
      }
      for (const writeError of writeErrors) failed.add(writeError.index);
    }
    const held: string[] = [];
    const summaryOps: AnyBulkWriteOperation<ConversationDoc>[] = [];
    const positionOps: AnyBulkWriteOperation<MemberDoc>[] = [];
    const landing: { waiters: Waiter[] }[] = [];
    const slow: Promise<void>[] = [];
    let index = 0;
    for (const [conversationId, value] of batchSummaries) {
      if (failed.has(index)) slow.push(slowPath('summary', conversationId, value));
      else {
        held.push(keys[index] as string);
        summaryOps.push(summaryOp(conversationId, value));
        landing.push(value);
      }
      index += 1;
    }
    for (const [memberId, value] of batchPositions) {
      if (failed.has(index)) slow.push(slowPath('position', memberId, value));
      else {
        held.push(keys[index] as string);
        positionOps.push(positionOp(memberId, value));
        landing.push(value);
      }
      index += 1;
    }
    if (held.length) {
      // Renewed while the writes run, as withLock does, so a slow store does not let the lease lapse under us.
      const renew = setInterval(() => {
        void lockDocs.updateMany({ owner }, { $set: { expiresAt: new Date(Date.now() + leaseMs) } }).catch(() => undefined);
      }, Math.max(50, Math.floor(leaseMs / 3)));
      renew.unref();
      try {
        await Promise.all([
          summaryOps.length ? conversations.bulkWrite(summaryOps, { ordered: false }) : null,
          positionOps.length ? members.bulkWrite(positionOps, { ordered: false }) : null,
        ]);
        for (const value of landing) for (const waiter of value.waiters) waiter.resolve();
      } catch (err) {
        for (const value of landing) for (const waiter of value.waiters) waiter.reject(err);
      } finally {
        clearInterval(renew);
        await lockDocs.bulkWrite(held.map((_id) => ({ deleteOne: { filter: { _id, owner } } })), { ordered: false }).catch(() => undefined);
      }
    }
    // Keys held elsewhere finish on their own (waiting for those locks); the next batch does not wait for them.
    void Promise.all(slow);
  }

  async function drain(): Promise<void> {
    running = true;
    try {
      while (summaries.size || positions.size) await flushOnce();
    } finally {
      running = false;
    }
  }

  // A drain starts after the current turn's microtasks, so the summary and the position a send
  // asks for together (and whatever else arrived in that turn) go into the same write.
  let scheduled = false;
  const waitFor = (add: (waiter: Waiter) => void) =>
    new Promise<void>((resolve, reject) => {
      add({ resolve, reject });
      if (running || scheduled) return;
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        if (!running) void drain();
      });
    });

  return {
    /** Moves the conversation's summary to `seq` (never back); resolves once a write covering it landed. */
    advanceSummary: (conversationId: string, seq: number, fields: SummaryFields) =>
      waitFor((waiter) => {
        const pending = summaries.get(conversationId);
        if (!pending) summaries.set(conversationId, { seq, fields, waiters: [waiter] });
        else {
          if (seq > pending.seq) Object.assign(pending, { seq, fields });
          pending.waiters.push(waiter);
        }
      }),
    /** Raises a member's read and delivered positions to at least `seq`. */
    raisePositions: (memberId: string, seq: number) =>
      waitFor((waiter) => {
        const pending = positions.get(memberId);
        if (!pending) positions.set(memberId, { seq, waiters: [waiter] });
        else {
          pending.seq = Math.max(pending.seq, seq);
          pending.waiters.push(waiter);
        }
      }),
  };
}

export type DerivedState = ReturnType<typeof createDerivedState>;

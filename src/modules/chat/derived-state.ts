import { randomBytes } from 'node:crypto';
import type { Collection, Filter, UpdateFilter } from 'mongodb';
import { isDuplicateKey } from '../../platform/mongo';
import { Types, type Connection } from 'mongoose';
import type { Locks } from '../../platform/locks';
import { conversationLockKey, memberLockKey, type ChatModels, type ConversationDoc, type MemberDoc } from './chat.model';
import type { ViewsInvalidation } from './views-channel';

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


export interface DerivedStateDeps {
  models: ChatModels;
  mongo: Connection;
  /** The same locks (and lock documents) every other writer of conversations and member rows takes. */
  locks: Locks;
  leaseMs: number;
  /**
   * The views channel's publish: after each write, one message with every conversation and member
   * it covered, awaited before the callers' promises resolve (so after a sender's ack every process
   * lists the new summary and positions).
   */
  publishViews?: (invalidation: ViewsInvalidation) => Promise<void>;
}

/** The user of a member row id (`<conversationId>:<userId>`, chat.model.ts memberKey). */
const userOfMember = (memberId: string) => memberId.slice(memberId.indexOf(':') + 1);

/**
 * The state a send moves after its message is emitted: the conversation's `lastSeq` and
 * last-message summary, and the sender's read/delivered positions. Both only move forward and
 * are read-modify-write on FerretDB 1.24 (not isolated), so each is written under its key's lock
 * (the lock documents of src/platform/locks.ts, so receipts and membership changes exclude it).
 *
 * What this saves: every send of this process that arrives while a write is running is folded
 * into the next one (the highest number per key wins), and that one write covers ALL the
 * conversations and members pending, each key with single-document commands issued at once: its
 * lock inserted, one guarded update (`{ _id, lastSeq: { $lt: seq } }` for a conversation, `$max`
 * for a member; exact because the lock is held, so no read is needed under it), its lock deleted:
 * three round trips of latency per write, however many keys. A lock another holder has (or a
 * dead one left) is waited for and taken over through `locks.withLock`, one key at a time,
 * as before. A caller's promise resolves once a write covering its value has landed.
 */
export function createDerivedState({ models, mongo, locks, leaseMs, publishViews }: DerivedStateDeps) {
  const lockDocs: Collection<{ _id: string; owner: string; expiresAt: Date }> = mongo.collection('locks');
  const conversations = models.Conversation.collection as unknown as Collection<ConversationDoc>;
  const members = models.Member.collection as unknown as Collection<MemberDoc>;
  let summaries = new Map<string, PendingSummary>();
  let positions = new Map<string, PendingPosition>();
  let running = false;

  const summaryOp = (conversationId: string, value: PendingSummary): { filter: Filter<ConversationDoc>; update: UpdateFilter<ConversationDoc> } => ({
    filter: { _id: new Types.ObjectId(conversationId), lastSeq: { $lt: value.seq } },
    update: { $set: { lastSeq: value.seq, ...value.fields } },
  });
  const positionOp = (memberId: string, value: PendingPosition): { filter: Filter<MemberDoc>; update: UpdateFilter<MemberDoc> } => ({
    filter: { _id: memberId },
    update: { $max: { lastReadSeq: value.seq, lastDeliveredSeq: value.seq } },
  });

  /** One key whose lock was held elsewhere: waits for it (or its lease) the usual way. */
  async function slowPath(kind: 'summary' | 'position', key: string, value: PendingSummary | PendingPosition): Promise<void> {
    try {
      if (kind === 'summary') {
        const op = summaryOp(key, value as PendingSummary);
        await locks.withLock(conversationLockKey(key), () => conversations.updateOne(op.filter, op.update));
      } else {
        const op = positionOp(key, value);
        await locks.withLock(memberLockKey(key), () => members.updateOne(op.filter, op.update));
      }
      await publishViews?.(kind === 'summary' ? { c: [key], u: [] } : { c: [], u: [userOfMember(key)] });
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
    // One single-document insert per lock, all at once. Not one multi-document insert: FerretDB
    // 1.24 (PostgreSQL backend) was seen to wedge for good (all 50 of its PostgreSQL connections
    // idle, no reply even to a handshake) under concurrent multi-document inserts with duplicate
    // keys and multi-statement updates; the single-document shapes are the ones the old path used.
    const taken = await Promise.allSettled(keys.map((_id) => lockDocs.insertOne({ _id, owner, expiresAt: new Date(Date.now() + leaseMs) })));
    taken.forEach((outcome, i) => {
      if (outcome.status === 'rejected') failed.add(i);
    });
    if (failed.size === keys.length && taken.some((outcome) => outcome.status === 'rejected' && !isDuplicateKey(outcome.reason))) {
      const reason = (taken.find((outcome) => outcome.status === 'rejected' && !isDuplicateKey(outcome.reason)) as PromiseRejectedResult).reason;
      for (const value of all) for (const waiter of value.waiters) waiter.reject(reason);
      return;
    }
    const held: string[] = [];
    const summaryOps: ReturnType<typeof summaryOp>[] = [];
    const positionOps: ReturnType<typeof positionOp>[] = [];
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
        for (const _id of held) void lockDocs.updateOne({ _id, owner }, { $set: { expiresAt: new Date(Date.now() + leaseMs) } }).catch(() => undefined);
      }, Math.max(50, Math.floor(leaseMs / 3)));
      renew.unref();
      const written = Promise.all([...summaryOps.map((op) => conversations.updateOne(op.filter, op.update)), ...positionOps.map((op) => members.updateOne(op.filter, op.update))]);
      const outcome = await written.then(() => null, (err: unknown) => ({ err }));
      clearInterval(renew);
      // The locks go while the views message is published (nothing here throws).
      const unlocked = Promise.all(held.map((_id) => lockDocs.deleteOne({ _id, owner }).catch(() => undefined)));
      // One message for the whole write, before anyone waiting is answered (some updates may have landed even when one failed).
      await publishViews?.({
        c: [...batchSummaries.keys()].filter((_, i) => !failed.has(i)),
        u: [...batchPositions.keys()].filter((_, i) => !failed.has(batchSummaries.size + i)).map(userOfMember),
      });
      if (outcome) for (const value of landing) for (const waiter of value.waiters) waiter.reject(outcome.err);
      else for (const value of landing) for (const waiter of value.waiters) waiter.resolve();
      await unlocked;
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

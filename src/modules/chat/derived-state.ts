import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import { isDuplicateKey } from '../../platform/mongo';
import { Types, type Connection } from 'mongoose';
import type { Locks } from '../../platform/locks';
import { conversationLockKey, type ChatModels, type ConversationDoc } from './chat.model';
import type { ViewsInvalidation } from './views-channel';

type SummaryFields = Pick<ConversationDoc, 'lastMessage' | 'lastActivityAt'>;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}
interface PendingSummary {
  seq: number;
  fields: SummaryFields;
  /** The highest seq each sender of the folded sends sent (the conversation's `sentSeq`). */
  senders: Map<string, number>;
  waiters: Waiter[];
}

export interface DerivedStateDeps {
  models: ChatModels;
  mongo: Connection;
  /** The same locks (and lock documents) every other writer of conversations takes. */
  locks: Locks;
  leaseMs: number;
  /**
   * The views channel's publish: after each write, one message with every conversation it
   * covered, awaited before the callers' promises resolve (so after a sender's ack every process
   * lists the new summary and the sender's positions).
   */
  publishViews?: (invalidation: ViewsInvalidation) => Promise<void>;
}

const sentSeqOf = (senders: Map<string, number>) => Object.fromEntries([...senders].map(([userId, seq]) => [`sentSeq.${userId}`, seq]));

/**
 * The state a send moves after its message is stored: the conversation's `lastSeq`, its
 * last-message summary and its `sentSeq` (the highest seq each participant sent, which is what
 * the sender's read and delivered positions are raised to: chat.mappers.ts effectivePositions).
 * All of it lives on the conversation document and only moves forward; it is read-modify-write on
 * FerretDB 1.24 (not isolated), so it is written under the conversation's lock (the lock documents
 * of src/platform/locks.ts, so membership changes exclude it). One document, so a send moves no
 * member row: a lock, one update and an unlock, where the sender's positions used to cost three more.
 *
 * What this saves besides: every send of this process that arrives while a write is running is
 * folded into the next one (the highest number per conversation wins, and each sender's highest
 * number), and that one write covers ALL the conversations pending, each with single-document
 * commands issued at once: its lock inserted, one guarded update (`{ _id, lastSeq: { $lt: seq } }`
 * with `$max` on the senders' numbers; exact because the lock is held, so no read is needed under
 * it), its lock deleted: three round trips of latency per write, however many conversations. When
 * the guard finds the summary already past (another process wrote a higher one), the senders'
 * numbers are still raised by a second `$max`, under the same lock. A lock another holder has (or a
 * dead one left) is waited for and taken over through `locks.withLock`, one conversation at a time.
 * A caller's promise resolves once a write covering its value has landed.
 */
export function createDerivedState({ models, mongo, locks, leaseMs, publishViews }: DerivedStateDeps) {
  const lockDocs: Collection<{ _id: string; owner: string; expiresAt: Date }> = mongo.collection('locks');
  const conversations = models.Conversation.collection as unknown as Collection<ConversationDoc>;
  let summaries = new Map<string, PendingSummary>();
  let running = false;

  /** The write itself, with the conversation's lock held. */
  async function writeSummary(conversationId: string, value: PendingSummary): Promise<void> {
    const _id = new Types.ObjectId(conversationId);
    const raised = sentSeqOf(value.senders);
    const moved = await conversations.updateOne({ _id, lastSeq: { $lt: value.seq } }, { $set: { lastSeq: value.seq, ...value.fields }, $max: raised });
    if (moved.matchedCount === 0) await conversations.updateOne({ _id }, { $max: raised });
  }

  /** One conversation whose lock was held elsewhere: waits for it (or its lease) the usual way. */
  async function slowPath(conversationId: string, value: PendingSummary): Promise<void> {
    try {
      await locks.withLock(conversationLockKey(conversationId), () => writeSummary(conversationId, value));
      await publishViews?.({ c: [conversationId], u: [] });
      for (const waiter of value.waiters) waiter.resolve();
    } catch (err) {
      for (const waiter of value.waiters) waiter.reject(err);
    }
  }

  async function flushOnce(): Promise<void> {
    const batch = summaries;
    summaries = new Map();
    const pending = [...batch];
    const keys = pending.map(([conversationId]) => conversationLockKey(conversationId));
    const owner = randomBytes(8).toString('hex');
    // One single-document insert per lock, all at once. Not one multi-document insert: FerretDB
    // 1.24 (PostgreSQL backend) was seen to wedge for good (all 50 of its PostgreSQL connections
    // idle, no reply even to a handshake) under concurrent multi-document inserts with duplicate
    // keys and multi-statement updates; the single-document shapes are the ones the old path used.
    const taken = await Promise.allSettled(keys.map((_id) => lockDocs.insertOne({ _id, owner, expiresAt: new Date(Date.now() + leaseMs) })));
    const unexpected = taken.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected' && !isDuplicateKey(outcome.reason));
    if (unexpected && taken.every((outcome) => outcome.status === 'rejected')) {
      for (const [, value] of pending) for (const waiter of value.waiters) waiter.reject(unexpected.reason);
      return;
    }
    const held: { lockId: string; conversationId: string; value: PendingSummary }[] = [];
    const slow: Promise<void>[] = [];
    pending.forEach(([conversationId, value], i) => {
      if (taken[i]?.status === 'fulfilled') held.push({ lockId: keys[i] as string, conversationId, value });
      else slow.push(slowPath(conversationId, value));
    });
    if (held.length) {
      // Renewed while the writes run, as withLock does, so a slow store does not let the lease lapse under us.
      const renew = setInterval(() => {
        for (const { lockId } of held) void lockDocs.updateOne({ _id: lockId, owner }, { $set: { expiresAt: new Date(Date.now() + leaseMs) } }).catch(() => undefined);
      }, Math.max(50, Math.floor(leaseMs / 3)));
      renew.unref();
      const written = Promise.all(held.map(({ conversationId, value }) => writeSummary(conversationId, value)));
      const outcome = await written.then(() => null, (err: unknown) => ({ err }));
      clearInterval(renew);
      // The locks go while the views message is published (nothing here throws).
      const unlocked = Promise.all(held.map(({ lockId }) => lockDocs.deleteOne({ _id: lockId, owner }).catch(() => undefined)));
      // One message for the whole write, before anyone waiting is answered (some updates may have landed even when one failed).
      await publishViews?.({ c: held.map(({ conversationId }) => conversationId), u: [] });
      for (const { value } of held) {
        for (const waiter of value.waiters) {
          if (outcome) waiter.reject(outcome.err);
          else waiter.resolve();
        }
      }
      await unlocked;
    }
    // Conversations locked elsewhere finish on their own (waiting for those locks); the next batch does not wait for them.
    void Promise.all(slow);
  }

  async function drain(): Promise<void> {
    running = true;
    try {
      while (summaries.size) await flushOnce();
    } finally {
      running = false;
    }
  }

  // A drain starts after the current turn's microtasks, so whatever else arrived in that turn goes into the same write.
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
    /**
     * Moves the conversation's summary to `seq` (never back) and the sender's `sentSeq` to at
     * least `seq`; resolves once a write covering both landed.
     */
    advanceSummary: (conversationId: string, seq: number, fields: SummaryFields, senderId: string) =>
      waitFor((waiter) => {
        const pending = summaries.get(conversationId);
        if (!pending) summaries.set(conversationId, { seq, fields, senders: new Map([[senderId, seq]]), waiters: [waiter] });
        else {
          if (seq > pending.seq) Object.assign(pending, { seq, fields });
          pending.senders.set(senderId, Math.max(pending.senders.get(senderId) ?? 0, seq));
          pending.waiters.push(waiter);
        }
      }),
  };
}

export type DerivedState = ReturnType<typeof createDerivedState>;

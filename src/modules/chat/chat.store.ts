import { Types } from 'mongoose';
import type { Server as IoServer } from 'socket.io';
import { userRoom } from '../../platform/auth-context';
import type { BlockSequence } from '../../platform/sequences';
import type { Locks } from '../../platform/locks';
import { conversationLockKey, memberKey, memberLockKey, type ChatModels, type ConversationDoc, type MemberDoc } from './chat.model';
import { chatErrors } from './chat.errors';
import type { ConversationMembership, MembershipCache } from './membership-cache';
import type { ViewsInvalidation } from './views-channel';

/**
 * Persistence helpers every chat use case shares. Change numbers come from the platform's
 * block sequence (claims that stay exact where `$inc` does not on FerretDB 1.24, one per block of
 * numbers; chat.services.ts): every message change and every participant change takes the next
 * change number, which is what /sync pages by. A message's own number is claimed by its insert
 * (messages.service, message-numbers.ts).
 */
export function createChatStore(
  models: ChatModels,
  changeNumbers: Pick<BlockSequence, 'next'>,
  locks: Locks,
  membership?: MembershipCache,
  /** The views channel's publish (chat.services.ts): the writes here announce the lists they make stale. */
  publishViews?: (invalidation: ViewsInvalidation) => Promise<void>,
) {
  const { Conversation, Member } = models;

  const loadMembership = async (conversationId: string): Promise<ConversationMembership | null> => {
    const doc = await Conversation.findById(conversationId, { type: 1, participantIds: 1, lastSeq: 1 }).lean<ConversationDoc>();
    return doc ? { type: doc.type, participantIds: doc.participantIds.map(String), lastSeq: doc.lastSeq } : null;
  };

  /**
   * Who is in the conversation now (its participant list, what every read is checked against),
   * from the membership cache when it may be trusted (membership-cache.ts), else one read by `_id`.
   */
  async function participants(conversationId: string): Promise<ConversationMembership | null> {
    if (!Types.ObjectId.isValid(conversationId)) return null;
    return membership ? membership.get(conversationId, () => loadMembership(conversationId)) : loadMembership(conversationId);
  }

  /**
   * Every membership change (add, remove, leave) calls this after its writes and before it
   * answers: the cached participant list is dropped here and on every other process.
   */
  async function membershipChanged(conversationId: string | Types.ObjectId): Promise<void> {
    await membership?.invalidate([String(conversationId)]);
  }

  const nextChangeSeq = () => changeNumbers.next();

  /**
   * Moves the conversation's last-message summary forward to `seq`, never back. The read and the
   * write happen under the conversation's lock: FerretDB does not isolate updates, and a writer
   * holding a lower number must not land its summary over a higher one.
   */
  function advanceConversation(
    conversationId: string,
    seq: number,
    fields: Pick<ConversationDoc, 'lastMessage' | 'lastActivityAt'>,
  ): Promise<ConversationDoc> {
    return locks.withLock(conversationLockKey(conversationId), async () => {
      const current = await Conversation.findById(conversationId).lean<ConversationDoc>();
      if (!current) throw chatErrors.conversationNotFound();
      if (current.lastSeq >= seq) return current;
      await Conversation.updateOne({ _id: conversationId }, { $set: { lastSeq: seq, ...fields } });
      await publishViews?.({ c: [conversationId], u: [] });
      return { ...current, lastSeq: seq, ...fields };
    });
  }

  /**
   * Raises a member's read/delivered positions, never lowering them, under the member's lock
   * (FerretDB does not isolate `$max`). `changeSeq` is recorded for /sync when anything moved.
   * Nothing moves when `field` is given and already at or past its target.
   */
  function raiseMember(
    memberId: string,
    raise: { lastReadSeq?: number; lastDeliveredSeq?: number },
    change: { changeSeq: number; at: Date } | null,
    field?: 'lastReadSeq' | 'lastDeliveredSeq',
  ): Promise<{ changed: boolean; doc: MemberDoc }> {
    return locks.withLock(memberLockKey(memberId), async () => {
      const current = await Member.findById(memberId).lean<MemberDoc>();
      if (!current) throw chatErrors.conversationNotFound();
      if (field && current[field] >= (raise[field] ?? 0)) return { changed: false, doc: current };
      const next: Partial<MemberDoc> = {};
      if (raise.lastReadSeq !== undefined && raise.lastReadSeq > current.lastReadSeq) next.lastReadSeq = raise.lastReadSeq;
      if (raise.lastDeliveredSeq !== undefined && raise.lastDeliveredSeq > current.lastDeliveredSeq) next.lastDeliveredSeq = raise.lastDeliveredSeq;
      if (Object.keys(next).length === 0) return { changed: false, doc: current };
      if (change) Object.assign(next, { changeSeq: Math.max(current.changeSeq, change.changeSeq), changedAt: change.at });
      await Member.updateOne({ _id: memberId }, { $set: next });
      // The member's list (unread count, positions) on every process, before the receipt is answered or emitted.
      await publishViews?.({ c: [], u: [String(current.userId)] });
      return { changed: true, doc: { ...current, ...next } };
    });
  }

  /** The conversation and the caller's active membership; anything else is "not found", never "forbidden". */
  async function requireMember(conversationId: string, userId: string): Promise<{ conversation: ConversationDoc; member: MemberDoc }> {
    if (!Types.ObjectId.isValid(conversationId) || !Types.ObjectId.isValid(userId)) throw chatErrors.conversationNotFound();
    const [conversation, member] = await Promise.all([
      Conversation.findById(conversationId).lean<ConversationDoc>(),
      Member.findById(memberKey(conversationId, userId)).lean<MemberDoc>(),
    ]);
    if (!conversation || !member || member.leftAt) throw chatErrors.conversationNotFound();
    return { conversation, member };
  }

  /** A current participant (the participant list, as reads check it; cached like a send's check). */
  async function isMember(conversationId: string, userId: string): Promise<boolean> {
    if (!Types.ObjectId.isValid(conversationId) || !Types.ObjectId.isValid(userId)) return false;
    return Boolean((await participants(conversationId))?.participantIds.includes(userId));
  }

  /**
   * Active members of the given conversations. One conversation: by `conversationId` alone, an
   * equality the local store serves from an index (`$in` and `null` are not pushed down to SQL by
   * FerretDB 1.24, so `{ _id: { $in }, leftAt: null }` reads every member row), leftAt checked here.
   */
  async function membersOf(conversations: Pick<ConversationDoc, '_id' | 'participantIds'>[]): Promise<MemberDoc[]> {
    const [only] = conversations;
    if (conversations.length === 1 && only) {
      const rows = await Member.find({ conversationId: only._id }).lean<MemberDoc[]>();
      return rows.filter((m) => !m.leftAt);
    }
    const keys = conversations.flatMap((c) => c.participantIds.map((userId) => memberKey(c._id, userId)));
    if (!keys.length) return [];
    return Member.find({ _id: { $in: keys }, leftAt: null }).lean<MemberDoc[]>();
  }

  return { nextChangeSeq, withLock: locks.withLock, advanceConversation, raiseMember, requireMember, isMember, membersOf, participants, membershipChanged, locks };
}

export type ChatStore = ReturnType<typeof createChatStore>;

/** Events go to user rooms, so every device of a participant gets them on whichever process it is connected to. */
export function createNotifier(io: IoServer) {
  return {
    toUsers(userIds: (string | Types.ObjectId)[], event: string, payload: unknown): void {
      const rooms = [...new Set(userIds.map((id) => userRoom(String(id))))];
      if (rooms.length) io.to(rooms).emit(event, payload);
    },
    io,
  };
}

export type Notifier = ReturnType<typeof createNotifier>;

import { Types } from 'mongoose';
import type { Server as IoServer } from 'socket.io';
import { userRoom } from '../../platform/auth-context';
import type { SequenceAllocator } from '../../platform/sequences';
import { memberKey, type ChatModels, type ConversationDoc, type MemberDoc } from './chat.model';
import { chatErrors } from './chat.errors';

const isDuplicateKey = (err: unknown) => (err as { code?: number } | null)?.code === 11000;
export { isDuplicateKey };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Persistence helpers every chat use case shares. Numbers come from the platform's sequence
 * allocator, which stays exact where `$inc` does not (FerretDB 1.24): every message change and
 * every participant change takes the next change number, which is what /sync pages by, and every
 * message takes the next number of its conversation (see docs/architecture.md, "Chat").
 */
export function createChatStore(models: ChatModels, sequences: SequenceAllocator) {
  const { Conversation, Member } = models;

  const nextChangeSeq = () => sequences.next('chat:change');
  const nextMessageSeq = (conversationId: string) => sequences.next(`chat:conversation:${conversationId}`);

  /**
   * Moves the conversation's last-message summary forward to `seq`, never back. Without isolated
   * updates a slower writer holding a lower number could overwrite a higher one, so each writer
   * re-reads until it sees a value at least its own, and looks once more after a beat to repair a
   * stale write that landed after its check.
   */
  async function advanceConversation(
    conversationId: string,
    seq: number,
    fields: Pick<ConversationDoc, 'lastMessage' | 'lastActivityAt'>,
  ): Promise<ConversationDoc> {
    let wrote = false;
    let rechecked = false;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const current = await Conversation.findById(conversationId).lean<ConversationDoc>();
      if (!current) throw chatErrors.conversationNotFound();
      if (current.lastSeq < seq) {
        await Conversation.updateOne({ _id: conversationId }, { $set: { lastSeq: seq, ...fields } });
        wrote = true;
        rechecked = false;
        continue;
      }
      if (!wrote || rechecked) return current;
      rechecked = true;
      await sleep(25);
    }
    const settled = await Conversation.findById(conversationId).lean<ConversationDoc>();
    if (!settled) throw chatErrors.conversationNotFound();
    return settled;
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

  async function isMember(conversationId: string, userId: string): Promise<boolean> {
    if (!Types.ObjectId.isValid(conversationId) || !Types.ObjectId.isValid(userId)) return false;
    // A bare _id filter, checked in code: FerretDB serves only that shape without a collection scan.
    const member = await Member.findById(memberKey(conversationId, userId), { leftAt: 1 }).lean<MemberDoc>();
    return Boolean(member && !member.leftAt);
  }

  /** Active members of the given conversations, found through the participant list by _id. */
  async function membersOf(conversations: Pick<ConversationDoc, '_id' | 'participantIds'>[]): Promise<MemberDoc[]> {
    const keys = conversations.flatMap((c) => c.participantIds.map((userId) => memberKey(c._id, userId)));
    if (!keys.length) return [];
    return Member.find({ _id: { $in: keys }, leftAt: null }).lean<MemberDoc[]>();
  }

  return { nextChangeSeq, nextMessageSeq, advanceConversation, requireMember, isMember, membersOf };
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

import { Types } from 'mongoose';
import type { UserDirectory } from '../users';
import type { ChatConfig } from './chat.config';
import { conversationRoom, userRoom } from '../../platform/auth-context';
import { errors } from '../../platform/errors';
import { conversationLockKey, memberKey, memberLockKey, type ChatModels, type ConversationDoc, type MemberDoc, type MemberRole } from './chat.model';
import { chatErrors } from './chat.errors';
import { prepareListItem, toConversationView, withProfiles, type ConversationView, type PreparedListItem } from './chat.mappers';
import type { PresenceState } from './presence';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isNonNegativeInt, isObjectIdHex } from '../../platform/pagination';
import { isDuplicateKey } from '../../platform/mongo';
import type { ChatStore, Notifier } from './chat.store';
import { listShape, type ListCache, type ListRows } from './list-cache';
import type { ViewsInvalidation } from './views-channel';

export interface ConversationsDeps {
  models: ChatModels;
  store: ChatStore;
  notifier: Notifier;
  users: UserDirectory;
  config: ChatConfig;
  clock: () => Date;
  /** Conversation-list pages cached in process (list-cache.ts); without it every list is read from the store. */
  lists?: ListCache;
  /** Publishes on the views channel (here and on every process), awaited: the lists (and pages) a write makes stale. */
  publishViews?: (invalidation: ViewsInvalidation) => Promise<void>;
}

type ListCursor = { t: number; id: string };
const MEMBER_BATCH = 10_000;
const isListCursor = (v: Record<string, unknown>): v is ListCursor =>
  isNonNegativeInt(v.t) && isObjectIdHex(v.id);

/**
 * The parts of a list page that do not depend on profiles, computed once per value: a list served
 * from the cache is the same value every time, and mapping its rows (ids to hex, dates to ISO)
 * was the largest share of a cached list's CPU. The profiles are added on every read.
 */
const preparedPages = new WeakMap<ListRows, { limit: number; viewerId: string; items: PreparedListItem[]; nextCursor: string | null }>();
function preparedPage(value: ListRows, limit: number, viewerId: string) {
  const known = preparedPages.get(value);
  if (known && known.limit === limit && known.viewerId === viewerId) return known;
  const { rows, mine } = value;
  const page = rows.slice(0, limit);
  const byConversation = new Map(mine.map((m) => [String(m.conversationId), m]));
  const last = page[page.length - 1];
  const prepared = {
    limit,
    viewerId,
    items: page.map((c) => prepareListItem(c, byConversation.get(String(c._id)), viewerId)),
    nextCursor: rows.length > limit && last ? encodeCursor({ t: new Date(last.lastActivityAt).getTime(), id: String(last._id) }) : null,
  };
  preparedPages.set(value, prepared);
  return prepared;
}

export function createConversationsService({ models, store, notifier, users, config, clock, lists, publishViews }: ConversationsDeps) {
  const { Conversation, Member } = models;

  const viewsChanged = (invalidation: Partial<ViewsInvalidation>) => publishViews?.({ c: invalidation.c ?? [], u: invalidation.u ?? [] }) ?? Promise.resolve();

  async function assertUsersExist(userIds: string[]): Promise<void> {
    if (!(await users.allExist(userIds))) throw chatErrors.userNotFound();
  }

  /** Upsert, so a retried or concurrent create never leaves two rows or a missing one. */
  async function ensureMember(conversationId: Types.ObjectId, userId: string, role: MemberRole): Promise<void> {
    const now = clock();
    const changeSeq = await store.nextChangeSeq();
    await Member.updateOne(
      { _id: memberKey(conversationId, userId) },
      { $setOnInsert: { conversationId, userId, role, joinedAt: now, leftAt: null, lastReadSeq: 0, lastDeliveredSeq: 0, muted: false, changeSeq, changedAt: now } },
      { upsert: true },
    ).catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
  }

  async function view(conversation: ConversationDoc, viewerId: string): Promise<ConversationView> {
    return toConversationView(conversation, await store.membersOf([conversation]), viewerId);
  }

  async function broadcastUpdate(conversationId: Types.ObjectId, extraUserIds: string[] = []): Promise<void> {
    const conversation = await Conversation.findById(conversationId).lean<ConversationDoc>();
    if (!conversation) return;
    const members = await store.membersOf([conversation]);
    for (const member of members) {
      notifier.toUsers([member.userId], 'chat:conversation_updated', toConversationView(conversation, members, String(member.userId)));
    }
    if (extraUserIds.length) notifier.toUsers(extraUserIds, 'chat:conversation_removed', { conversationId: String(conversationId) });
  }

  return {
    /** POST /conversations: a direct conversation with exactly one other person, or a titled group. */
    async create(
      userId: string,
      input: { type: 'direct' | 'group'; participantIds: string[]; title?: string },
    ): Promise<{ conversation: ConversationView; created: boolean }> {
      if (input.type === 'direct') {
        const [other] = input.participantIds;
        if (input.participantIds.length !== 1 || other === undefined) {
          throw errors.validation([{ field: 'participantIds', message: 'A direct conversation has exactly one other participant' }]);
        }
        return this.createDirect(userId, other);
      }
      if (!input.title) throw errors.validation([{ field: 'title', message: 'A group needs a title' }]);
      return { conversation: await this.createGroup(userId, input.title, input.participantIds), created: true };
    },

    async createDirect(userId: string, otherUserId: string): Promise<{ conversation: ConversationView; created: boolean }> {
      if (userId === otherUserId) throw errors.validation([{ field: 'participantIds', message: 'A direct conversation needs another person' }]);
      await assertUsersExist([otherUserId]);
      const pair = [userId, otherUserId].sort();
      const directKey = `direct:${pair.join(':')}`;
      const now = clock();
      let created = false;
      let conversation = await Conversation.findOne({ directKey }).lean<ConversationDoc>();
      if (!conversation) {
        try {
          const doc = await Conversation.create({
            type: 'direct', title: null, directKey, participantIds: pair.map((id) => new Types.ObjectId(id)),
            createdBy: userId, lastSeq: 0, lastMessage: null, lastActivityAt: now,
          });
          conversation = doc.toObject() as ConversationDoc;
          created = true;
        } catch (err) {
          // Both people pressed "message" at once: the unique key picked one conversation for both.
          if (!isDuplicateKey(err)) throw err;
          conversation = await Conversation.findOne({ directKey }).lean<ConversationDoc>();
          if (!conversation) throw err;
        }
      }
      await Promise.all(pair.map((id) => ensureMember(conversation._id, id, 'member')));
      // Both lists (on every process) show the conversation before this answers.
      await viewsChanged({ u: pair });
      if (created) void broadcastUpdate(conversation._id);
      return { conversation: await view(conversation, userId), created };
    },

    async createGroup(userId: string, title: string, memberIds: string[]): Promise<ConversationView> {
      const others = [...new Set(memberIds.filter((id) => id !== userId))];
      if (others.length + 1 > config.groupMaxMembers) throw chatErrors.groupFull(config.groupMaxMembers);
      await assertUsersExist(others);
      const id = new Types.ObjectId();
      const all = [userId, ...others];
      await Conversation.create({
        _id: id, type: 'group', title, directKey: `group:${String(id)}`, participantIds: all.map((u) => new Types.ObjectId(u)),
        createdBy: userId, lastSeq: 0, lastMessage: null, lastActivityAt: clock(),
      });
      await ensureMember(id, userId, 'admin');
      await Promise.all(others.map((other) => ensureMember(id, other, 'member')));
      // Every member's list (on every process) shows the group before this answers.
      await viewsChanged({ u: all });
      void broadcastUpdate(id);
      const conversation = await Conversation.findById(id).lean<ConversationDoc>();
      return view(conversation as ConversationDoc, userId);
    },

    /**
     * GET /conversations: two store round trips, at once, both equality lookups the local store
     * serves from an index: the page of the caller's conversations by last activity, and the
     * caller's own member rows (unread counts and mute). Other participants appear by id, the
     * first few of each with their profile summary from users' in-process cache (no round trip in
     * the steady state; one read by `_id` per person not cached yet); their roles and read
     * positions are on GET /conversations/:id.
     */
    async list(userId: string, options: { limit?: number; cursor?: string }) {
      const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
      const cursor = decodeCursor(options.cursor, isListCursor);
      if (!Types.ObjectId.isValid(userId)) return { data: [], page: { nextCursor: null, limit } };
      const viewer = new Types.ObjectId(userId);
      const filter: Record<string, unknown> = { participantIds: viewer };
      if (cursor) {
        const at = new Date(cursor.t);
        filter.$or = [{ lastActivityAt: { $lt: at } }, { lastActivityAt: at, _id: { $lt: new Types.ObjectId(cursor.id) } }];
      }
      const load = async (): Promise<{ value: ListRows; memberConversations: string[] }> => {
        const [rows, mine] = await Promise.all([
          Conversation.find(filter).sort({ lastActivityAt: -1, _id: -1 }).limit(limit + 1).batchSize(limit + 2).lean<ConversationDoc[]>(),
          // One reply for everyone with fewer than MEMBER_BATCH conversations (no getMore round trips).
          Member.find({ userId: viewer }).batchSize(MEMBER_BATCH).lean<MemberDoc[]>(),
        ]);
        const shown = new Set(rows.map((c) => String(c._id)));
        return { value: { rows, mine: mine.filter((m) => shown.has(String(m.conversationId))) }, memberConversations: mine.map((m) => String(m.conversationId)) };
      };
      const answer = async (value: ListRows) => {
        const prepared = preparedPage(value, limit, userId);
        const profiles = await users.summaries(prepared.items.flatMap((item) => item.shown));
        return { data: prepared.items.map((item) => withProfiles(item, profiles)), page: { nextCursor: prepared.nextCursor, limit } };
      };
      if (!lists?.enabled) return answer((await load()).value);
      // From the list cache (list-cache.ts): zero store round trips in the steady state (the
      // profiles come from users' cache). A miss is the two reads above, unchanged.
      await lists.settle();
      const shape = listShape(cursor ? `${cursor.t}:${cursor.id}` : undefined, limit);
      const cached = lists.get(userId, shape);
      if (cached) return answer(cached);
      const token = lists.begin();
      const { value, memberConversations } = await load();
      lists.store(userId, shape, value, memberConversations, token);
      return answer(value);
    },

    async get(userId: string, conversationId: string): Promise<ConversationView> {
      const { conversation } = await store.requireMember(conversationId, userId);
      return view(conversation, userId);
    },

    async setMuted(userId: string, conversationId: string, muted: boolean): Promise<ConversationView> {
      const { conversation } = await store.requireMember(conversationId, userId);
      const changeSeq = await store.nextChangeSeq();
      // Under the member row's lock, as receipts and the send's positions write it: FerretDB
      // rewrites the whole document, so an unserialised update could undo theirs or lose this one.
      const key = memberKey(conversationId, userId);
      await store.withLock(memberLockKey(key), () => Member.updateOne({ _id: key, leftAt: null }, { $set: { muted, changeSeq, changedAt: clock() } }));
      await viewsChanged({ u: [userId] });
      return view(conversation, userId);
    },

    async addMembers(actorId: string, conversationId: string, userIds: string[]): Promise<ConversationView> {
      const { conversation, member } = await store.requireMember(conversationId, actorId);
      if (conversation.type !== 'group') throw chatErrors.notGroup();
      if (member.role !== 'admin') throw chatErrors.notGroupAdmin();
      const adding = [...new Set(userIds)].filter((id) => !conversation.participantIds.some((p) => String(p) === id));
      if (conversation.participantIds.length + adding.length > config.groupMaxMembers) throw chatErrors.groupFull(config.groupMaxMembers);
      await assertUsersExist(adding);
      const now = clock();
      for (const userId of adding) {
        const changeSeq = await store.nextChangeSeq();
        // A former member comes back with fresh positions: they read from the present on.
        // Under the row's and the conversation's locks: FerretDB rewrites the whole document, so an
        // unlocked write could lose, or be lost under, a send's position or summary update.
        await store.withLock(memberLockKey(memberKey(conversationId, userId)), () => Member.updateOne(
          { _id: memberKey(conversationId, userId) },
          {
            $set: { role: 'member', joinedAt: now, leftAt: null, muted: false, changeSeq, changedAt: now,
              lastReadSeq: conversation.lastSeq, lastDeliveredSeq: conversation.lastSeq },
            $setOnInsert: { conversationId, userId },
          },
          { upsert: true },
        ));
        await store.withLock(conversationLockKey(conversationId), () =>
          Conversation.updateOne({ _id: conversationId }, { $addToSet: { participantIds: new Types.ObjectId(userId) } }));
      }
      // Cached participant lists, and the lists and pages that show the conversation or the added
      // people's conversations, are dropped on every process before this answers.
      await store.membershipChanged(conversationId);
      await viewsChanged({ c: [conversationId], u: adding });
      await broadcastUpdate(conversation._id);
      return this.get(actorId, conversationId);
    },

    /** Admins remove anyone; anyone may remove themselves (leave). */
    async removeMember(actorId: string, conversationId: string, userId: string): Promise<void> {
      const { conversation, member } = await store.requireMember(conversationId, actorId);
      if (conversation.type !== 'group') throw chatErrors.notGroup();
      if (actorId !== userId && member.role !== 'admin') throw chatErrors.notGroupAdmin();
      const now = clock();
      const changeSeq = await store.nextChangeSeq();
      // Out of the participant list first: it is what reads are checked against, so a crash between
      // the two writes leaves the user unable to read (and the member row is retried), never the reverse.
      // Both under their locks (FerretDB rewrites the whole document: see addMembers).
      await store.withLock(conversationLockKey(conversationId), () =>
        Conversation.updateOne({ _id: conversationId }, { $pull: { participantIds: new Types.ObjectId(userId) } }));
      // Cached participant lists are dropped on every process before anything else: from here on
      // the removed user can neither send nor read anywhere.
      await store.membershipChanged(conversationId);
      const removed = await store.withLock(memberLockKey(memberKey(conversationId, userId)), () => Member.findOneAndUpdate(
        { _id: memberKey(conversationId, userId), leftAt: null },
        { $set: { leftAt: now, changeSeq, changedAt: now } },
        { new: true },
      ).lean<MemberDoc>());
      // Every list showing the conversation (the removed user's included) is dropped on every
      // process, even when the member row was already closed (a retry after a crash before it).
      await viewsChanged({ c: [conversationId], u: [userId] });
      if (!removed) throw errors.notFound('Participant');
      // The removed user's sockets stop getting typing for this conversation on every process.
      notifier.io.in(userRoom(userId)).socketsLeave(conversationRoom(conversationId));
      await broadcastUpdate(conversation._id, [userId]);
    },

    async setRole(actorId: string, conversationId: string, userId: string, role: MemberRole): Promise<ConversationView> {
      const { conversation, member } = await store.requireMember(conversationId, actorId);
      if (conversation.type !== 'group') throw chatErrors.notGroup();
      if (member.role !== 'admin') throw chatErrors.notGroupAdmin();
      const changeSeq = await store.nextChangeSeq();
      const key = memberKey(conversationId, userId);
      const updated = await store.withLock(memberLockKey(key), () => Member.updateOne({ _id: key, leftAt: null }, { $set: { role, changeSeq, changedAt: clock() } }));
      if (updated.matchedCount === 0) throw errors.notFound('Participant');
      await viewsChanged({ u: [userId] });
      await broadcastUpdate(conversation._id);
      return this.get(actorId, conversationId);
    },

    isParticipant: (conversationId: string, userId: string): Promise<boolean> => store.isMember(conversationId, userId),

    /** The conversation's current participants (empty for an unknown id): who a notification is for. */
    async participantIds(conversationId: string): Promise<string[]> {
      if (!Types.ObjectId.isValid(conversationId)) return [];
      const conversation = await Conversation.findById(conversationId, { participantIds: 1 }).lean<ConversationDoc>();
      return (conversation?.participantIds ?? []).map(String);
    },

    /** Everyone who shares an active conversation with the user: who hears about their presence. */
    async contactsOf(userId: string): Promise<string[]> {
      const shared = await Conversation.find({ participantIds: new Types.ObjectId(userId) }, { participantIds: 1 }).lean<ConversationDoc[]>();
      return [...new Set(shared.flatMap((c) => c.participantIds.map(String)))].filter((id) => id !== userId);
    },
  };
}

export type ConversationsService = ReturnType<typeof createConversationsService>;

/**
 * GET /conversations/:id: the conversation with each participant's presence. Apart from the
 * service because presence announces changes to conversations' contacts, so it is built after it.
 */
export function createConversationDetails(
  conversations: Pick<ConversationsService, 'get'>,
  presence: { lookup(userIds: string[]): Promise<Record<string, PresenceState>> },
) {
  return async (userId: string, conversationId: string) => {
    const view = await conversations.get(userId, conversationId);
    const states = await presence.lookup(view.participants.map((p) => p.userId));
    return { ...view, participants: view.participants.map((p) => ({ ...p, ...states[p.userId] })) };
  };
}

import type { ProfileSummary } from '../users';
import type { ConversationDoc, MemberDoc, MessageDoc } from './chat.model';

export interface MessageView {
  id: string;
  conversationId: string;
  seq: number;
  changeSeq: number;
  senderId: string;
  clientMessageId: string;
  type: string;
  text: string | null;
  attachments: MessageDoc['attachments'];
  /** For `offer` messages: the summary of the offer round (ids, status, totals, whose turn). */
  offer: Record<string, unknown> | null;
  replyTo: { messageId: string; seq: number } | null;
  reactions: { userId: string; emoji: string }[];
  edited: boolean;
  editedAt: string | null;
  deleted: boolean;
  deletedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (date: Date | null | undefined) => (date ? new Date(date).toISOString() : null);

/** A deleted message keeps its place in the timeline but shows nobody its text or files. */
export function toMessageView(doc: MessageDoc): MessageView {
  const deleted = Boolean(doc.deletedAt);
  return {
    id: String(doc._id),
    conversationId: String(doc.conversationId),
    seq: doc.seq,
    changeSeq: doc.changeSeq,
    senderId: String(doc.senderId),
    clientMessageId: doc.clientMessageId,
    type: doc.type,
    text: deleted ? null : doc.text,
    attachments: deleted
      ? []
      : (doc.attachments ?? []).map((a) => {
          const { uploadId, kind, mimeType, size, width, height, durationMs, thumbnailUrl, fileName, url } = a;
          return Object.fromEntries(
            Object.entries({ uploadId, kind, mimeType, size, width, height, durationMs, thumbnailUrl, fileName, url }).filter(
              ([, v]) => v !== undefined && v !== null,
            ),
          ) as unknown as MessageDoc['attachments'][number];
        }),
    offer: deleted ? null : (doc.offer ?? null),
    replyTo: doc.replyTo?.messageId ? { messageId: String(doc.replyTo.messageId), seq: doc.replyTo.seq } : null,
    reactions: deleted ? [] : (doc.reactions ?? []).map((r) => ({ userId: r.userId, emoji: r.emoji })),
    edited: Boolean(doc.editedAt),
    editedAt: iso(doc.editedAt),
    deleted,
    deletedAt: iso(doc.deletedAt),
    createdAt: iso(doc.createdAt) as string,
    updatedAt: iso(doc.updatedAt) as string,
  };
}

export interface ParticipantView {
  userId: string;
  role: string;
  joinedAt: string;
  leftAt: string | null;
  lastReadSeq: number;
  lastDeliveredSeq: number;
}

/**
 * A member's read and delivered positions as every view shows them: their member row's, raised to
 * the last message they sent here (the conversation's `sentSeq`, written with its summary), since
 * a sender has read and holds everything up to their own message. A send writes no member row.
 */
export function effectivePositions(
  member: Pick<MemberDoc, 'userId' | 'lastReadSeq' | 'lastDeliveredSeq'>,
  conversation: Pick<ConversationDoc, 'sentSeq'> | null | undefined,
): { lastReadSeq: number; lastDeliveredSeq: number } {
  const sent = conversation?.sentSeq?.[String(member.userId)] ?? 0;
  return { lastReadSeq: Math.max(member.lastReadSeq, sent), lastDeliveredSeq: Math.max(member.lastDeliveredSeq, sent) };
}

export function toParticipantView(member: MemberDoc, conversation: Pick<ConversationDoc, 'sentSeq'> | null | undefined): ParticipantView {
  return {
    userId: String(member.userId),
    role: member.role,
    joinedAt: iso(member.joinedAt) as string,
    leftAt: iso(member.leftAt),
    ...effectivePositions(member, conversation),
  };
}

export function toConversationView(conversation: ConversationDoc, members: MemberDoc[], viewerId: string) {
  const mine = members.find((m) => String(m.userId) === viewerId);
  const last = conversation.lastMessage;
  return {
    id: String(conversation._id),
    type: conversation.type,
    title: conversation.title,
    participants: members.filter((m) => !m.leftAt).map((m) => toParticipantView(m, conversation)),
    lastSeq: conversation.lastSeq,
    lastMessage: last?.messageId
      ? {
          messageId: String(last.messageId),
          seq: conversation.lastSeq,
          senderId: String(last.senderId),
          type: last.type,
          preview: last.preview,
          createdAt: iso(last.createdAt),
        }
      : null,
    unreadCount: mine && !mine.leftAt ? Math.max(0, conversation.lastSeq - effectivePositions(mine, conversation).lastReadSeq) : 0,
    muted: mine?.muted ?? false,
    lastActivityAt: iso(conversation.lastActivityAt),
    createdAt: iso(conversation.createdAt),
  };
}

export type ConversationView = ReturnType<typeof toConversationView>;

/** How many other participants of one conversation the list shows with a profile (a list row shows a few faces at most). */
export const LIST_PROFILES_PER_CONVERSATION = 5;

/** The other participants whose profiles a list row shows: all of a direct chat's, the first few of a group's. */
export function listedProfileIds(conversation: ConversationDoc, viewerId: string): string[] {
  return conversation.participantIds
    .map(String)
    .filter((id) => id !== viewerId)
    .slice(0, LIST_PROFILES_PER_CONVERSATION);
}

/** A participant in a list row: the caller with their positions, the others by id with their profile summary. */
export type ListParticipant = ParticipantView | { userId: string; profile?: Omit<ProfileSummary, 'id'> | null };

/**
 * A conversation in the caller's list, from the conversation, the caller's own member row and the
 * profile summaries (served from users' cache): the caller appears with their positions, the
 * others by id, the first LIST_PROFILES_PER_CONVERSATION of them with `profile` (null when the
 * account is gone). The unread count is the same as the full view's: lastSeq − the caller's lastReadSeq (effectivePositions).
 */
export function toConversationListItem(
  conversation: ConversationDoc,
  mine: MemberDoc | undefined,
  viewerId: string,
  profiles: Map<string, ProfileSummary> = new Map(),
): ConversationListItem {
  return withProfiles(prepareListItem(conversation, mine, viewerId), profiles);
}

/** The part of a list row that does not depend on profiles: computed once per cached list (conversations.service.ts). */
export interface PreparedListItem {
  view: ConversationView;
  participantIds: string[];
  /** The others shown with a profile. */
  shown: string[];
  viewerId: string;
}

export function prepareListItem(conversation: ConversationDoc, mine: MemberDoc | undefined, viewerId: string): PreparedListItem {
  return {
    view: toConversationView(conversation, mine ? [mine] : [], viewerId),
    participantIds: conversation.participantIds.map(String),
    shown: listedProfileIds(conversation, viewerId),
    viewerId,
  };
}

/** A prepared row with the profiles as they are now (users' cache). */
export function withProfiles(item: PreparedListItem, profiles: Map<string, ProfileSummary>): ConversationListItem {
  const participants = item.participantIds.map((userId): ListParticipant => {
    const own = userId === item.viewerId ? item.view.participants[0] : undefined;
    if (own) return own;
    if (!item.shown.includes(userId)) return { userId };
    const summary = profiles.get(userId);
    if (!summary) return { userId, profile: null };
    const { id: _id, ...profile } = summary;
    return { userId, profile };
  });
  return { ...item.view, participants };
}

export type ConversationListItem = Omit<ConversationView, 'participants'> & { participants: ListParticipant[] };

import { createHash } from 'node:crypto';
import { Schema, Types, type Connection, type Model } from 'mongoose';
import type { Attachment } from '../uploads';

export type ConversationType = 'direct' | 'group';
export type MemberRole = 'admin' | 'member';
export type MessageType = 'text' | 'image' | 'document' | 'voice' | 'system' | 'offer';
export const MESSAGE_TYPES: MessageType[] = ['text', 'image', 'document', 'voice', 'system', 'offer'];

// A message stores its attachments as uploads' contract describes them (declared once, there).
export type { Attachment };

/** Written by the same update that hands out the message's seq, so its seq is the conversation's lastSeq. */
export interface LastMessageSummary {
  messageId: Types.ObjectId;
  senderId: Types.ObjectId;
  type: MessageType;
  preview: string;
  createdAt: Date;
}

export interface ConversationDoc {
  _id: Types.ObjectId;
  type: ConversationType;
  title: string | null;
  /** Sorted pair for direct chats, so the unique index makes "create" idempotent; unique id for groups. */
  directKey: string;
  participantIds: Types.ObjectId[];
  createdBy: Types.ObjectId;
  lastSeq: number;
  lastMessage: LastMessageSummary | null;
  /**
   * The highest seq each participant has sent here, by user id, written by the same update as the
   * summary (derived-state.ts). A sender has read and holds everything up to their own message, so
   * their positions are the higher of this and their member row's (effectivePositions in
   * chat.mappers.ts): a send writes no member row. Absent on conversations nobody sent to since.
   */
  sentSeq?: Record<string, number>;
  lastActivityAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * One row per (conversation, user): positions, role and mute live here so no positional updates
 * are needed. The _id is `<conversationId>:<userId>` (memberKey), so the membership checks on the
 * message path are primary-key lookups (FerretDB answers only _id filters without a scan).
 */
export interface MemberDoc {
  _id: string;
  conversationId: Types.ObjectId;
  userId: Types.ObjectId;
  role: MemberRole;
  joinedAt: Date;
  leftAt: Date | null;
  lastReadSeq: number;
  lastDeliveredSeq: number;
  muted: boolean;
  changeSeq: number;
  changedAt: Date;
}

export interface Reaction {
  userId: string;
  emoji: string;
}

export interface MessageDoc {
  _id: Types.ObjectId;
  conversationId: Types.ObjectId;
  /**
   * The message's number in its conversation, unique with conversationId: the insert of the
   * message is the claim of its number, so a number is taken exactly when a message is stored.
   * (Before that, 0 marked an unnumbered idempotency claim; none are made any more.)
   */
  seq: number;
  senderId: Types.ObjectId;
  clientMessageId: string;
  type: MessageType;
  text: string | null;
  attachments: Attachment[];
  /** An `offer` message's summary of the offer round it announces (written by the offers module). */
  offer?: Record<string, unknown> | null;
  replyTo: { messageId: Types.ObjectId; seq: number } | null;
  reactions: Reaction[];
  editedAt: Date | null;
  deletedAt: Date | null;
  changeSeq: number;
  /** The page windows the message's number falls in (message-pages.ts); absent on messages stored before them. */
  pageKeys?: string[];
  createdAt: Date;
  updatedAt: Date;
}

/**
 * One document per (message, user, emoji): the source of truth for reactions. Inserting against
 * the unique _id is exact under concurrency, where `$addToSet` on the message is not (FerretDB
 * 1.24); the message's `reactions` array is a copy rebuilt from these documents.
 */
export interface ReactionDoc {
  _id: string;
  messageId: Types.ObjectId;
  userId: string;
  emoji: string;
  at: Date;
}

export const reactionKey = (messageId: string | Types.ObjectId, userId: string, emoji: string) => `${String(messageId)}:${userId}:${emoji}`;

/**
 * One document per message that was handed to the adapter as `chat:message`: whoever inserts it
 * emits, so the sender's process and any retry that finds the message stored emit it once between
 * them. `_id` is the message's id.
 */
export interface EmitDoc {
  _id: Types.ObjectId;
  at: Date;
  /** The UTC day of `at` (emits-sweep.ts): the sweep deletes a day by this one equality. Absent on older claims. */
  day?: string;
}

export interface ChatModels {
  Conversation: Model<ConversationDoc>;
  Member: Model<MemberDoc>;
  Message: Model<MessageDoc>;
  Reaction: Model<ReactionDoc>;
  Emit: Model<EmitDoc>;
}

const emitSchema = new Schema<EmitDoc>(
  { _id: { type: Schema.Types.ObjectId, required: true }, at: { type: Date, required: true }, day: { type: String } },
  { collection: 'chat_message_emits', versionKey: false },
);
emitSchema.index({ day: 1 });

const reactionSchema = new Schema<ReactionDoc>(
  {
    _id: { type: String, required: true },
    messageId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: String, required: true },
    emoji: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'chat_reactions', versionKey: false },
);
reactionSchema.index({ messageId: 1, at: 1 });

const attachmentSchema = new Schema<Attachment>(
  {
    uploadId: { type: String, required: true },
    kind: { type: String, required: true },
    mimeType: { type: String, required: true },
    size: { type: Number, required: true },
    width: Number,
    height: Number,
    durationMs: Number,
    thumbnailUrl: String,
    fileName: String,
    url: { type: String, required: true },
  },
  { _id: false },
);

const conversationSchema = new Schema<ConversationDoc>(
  {
    type: { type: String, enum: ['direct', 'group'], required: true },
    title: { type: String, default: null },
    directKey: { type: String, required: true },
    participantIds: { type: [Schema.Types.ObjectId], default: [] },
    createdBy: { type: Schema.Types.ObjectId, required: true },
    lastSeq: { type: Number, default: 0 },
    lastMessage: {
      type: new Schema<LastMessageSummary>(
        {
          messageId: Schema.Types.ObjectId,
          senderId: Schema.Types.ObjectId,
          type: String,
          preview: String,
          createdAt: Date,
        },
        { _id: false },
      ),
      default: null,
    },
    // Only ever written by `$max` on `sentSeq.<userId>` (derived-state.ts); never through a Mongoose document.
    sentSeq: { type: Schema.Types.Mixed, default: undefined },
    lastActivityAt: { type: Date, required: true },
  },
  { collection: 'chat_conversations', timestamps: true, versionKey: false },
);
conversationSchema.index({ directKey: 1 }, { unique: true });
conversationSchema.index({ participantIds: 1, lastActivityAt: -1, _id: -1 });

const memberSchema = new Schema<MemberDoc>(
  {
    _id: { type: String, required: true },
    conversationId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    role: { type: String, enum: ['admin', 'member'], default: 'member' },
    joinedAt: { type: Date, required: true },
    leftAt: { type: Date, default: null },
    lastReadSeq: { type: Number, default: 0 },
    lastDeliveredSeq: { type: Number, default: 0 },
    muted: { type: Boolean, default: false },
    changeSeq: { type: Number, default: 0 },
    changedAt: { type: Date, required: true },
  },
  { collection: 'chat_members', versionKey: false },
);
memberSchema.index({ conversationId: 1, userId: 1 }, { unique: true });
memberSchema.index({ userId: 1, leftAt: 1 });
memberSchema.index({ conversationId: 1, changeSeq: 1 });

const messageSchema = new Schema<MessageDoc>(
  {
    conversationId: { type: Schema.Types.ObjectId, required: true },
    seq: { type: Number, default: 0 },
    senderId: { type: Schema.Types.ObjectId, required: true },
    clientMessageId: { type: String, required: true },
    type: { type: String, enum: MESSAGE_TYPES, required: true },
    text: { type: String, default: null },
    attachments: { type: [attachmentSchema], default: [] },
    offer: { type: Schema.Types.Mixed, default: null },
    replyTo: {
      type: new Schema({ messageId: Schema.Types.ObjectId, seq: Number }, { _id: false }),
      default: null,
    },
    reactions: { type: [new Schema<Reaction>({ userId: String, emoji: String }, { _id: false })], default: [] },
    editedAt: { type: Date, default: null },
    deletedAt: { type: Date, default: null },
    changeSeq: { type: Number, default: 0 },
    pageKeys: { type: [String], default: undefined },
  },
  { collection: 'chat_messages', timestamps: true, versionKey: false },
);
messageSchema.index({ senderId: 1, clientMessageId: 1 }, { unique: true });
// Unique: the message insert claims its number (see MessageDoc.seq). Serves pages in both directions.
messageSchema.index({ conversationId: 1, seq: 1 }, { unique: true });
messageSchema.index({ conversationId: 1, changeSeq: 1 });
// Pages by one equality (message-pages.ts): on FerretDB its GIN companion serves `pageKeys: <window>`.
messageSchema.index({ pageKeys: 1, seq: 1 });

export function getChatModels(mongo: Connection): ChatModels {
  return {
    Conversation: (mongo.models.ChatConversation as Model<ConversationDoc>) ?? mongo.model('ChatConversation', conversationSchema),
    Member: (mongo.models.ChatMember as Model<MemberDoc>) ?? mongo.model('ChatMember', memberSchema),
    Message: (mongo.models.ChatMessage as Model<MessageDoc>) ?? mongo.model('ChatMessage', messageSchema),
    Reaction: (mongo.models.ChatReaction as Model<ReactionDoc>) ?? mongo.model('ChatReaction', reactionSchema),
    Emit: (mongo.models.ChatMessageEmit as Model<EmitDoc>) ?? mongo.model('ChatMessageEmit', emitSchema),
  };
}

/**
 * Unnumbered claims (`seq: 0`) that the previous send path left behind after a crash would break
 * the unique `{ conversationId, seq }` index; they were never visible, so they are removed before
 * that index is first built (syncIndexes calls createIndexes once at start). Once it exists no
 * claim can be made any more, so later starts skip the scan.
 */
messageSchema.static('createIndexes', async function createIndexes(this: Model<MessageDoc>, ...args: unknown[]) {
  const existing = await this.collection.indexes().catch(() => [] as { name?: string }[]);
  if (!existing.some((index) => index.name === 'conversationId_1_seq_1')) await this.deleteMany({ seq: 0 });
  return (Object.getPrototypeOf(this) as { createIndexes: (...a: unknown[]) => Promise<unknown> }).createIndexes.apply(this, args);
});

/**
 * A message's `_id` follows from its sender and clientMessageId, so "was this send already
 * stored?" is a lookup by `_id` (the one FerretDB serves cheaply), and a duplicate key on insert
 * tells a retry from a lost race for a number with one such lookup.
 */
export function messageIdFor(senderId: string | Types.ObjectId, clientMessageId: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(`chat:message:${String(senderId)}:${clientMessageId}`).digest().subarray(0, 12));
}

export const toObjectId = (id: string) => new Types.ObjectId(id);
export const memberKey = (conversationId: string | Types.ObjectId, userId: string | Types.ObjectId) => `${String(conversationId)}:${String(userId)}`;

/**
 * The lock keys of chat's documents (src/platform/locks.ts): every writer of a document takes its
 * key, because FerretDB 1.24 rewrites the whole document on each update.
 */
export const conversationLockKey = (conversationId: string | Types.ObjectId) => `chat:conversation:${String(conversationId)}`;
export const memberLockKey = (memberId: string) => `chat:member:${memberId}`;
export const messageLockKey = (messageId: string | Types.ObjectId) => `chat:message:${String(messageId)}`;

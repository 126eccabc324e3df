import { Types } from 'mongoose';
import type { Collection } from 'mongodb';
import { AppError, errors, isDatabaseOutage, toAppError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import type { AttachmentsService } from '../uploads';
import { messageIdFor, type ChatModels, type ConversationDoc, type MessageDoc, type MessageType } from './chat.model';
import { createMessageNumbers } from './message-numbers';
import { createDerivedState } from './derived-state';
import type { EmitClaims } from './emit-claims';
import { chatErrors } from './chat.errors';
import { toMessageView, type MessageView } from './chat.mappers';
import { messagePageKeys, windowAfter, windowAtTop, windowBefore } from './message-pages';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isNonNegativeInt } from '../../platform/pagination';
import { escapeRegex, isDuplicateKey } from '../../platform/mongo';
import type { EventBus } from '../../platform/events';
import type { ChatStore, Notifier } from './chat.store';
import { pageShape, type PageCache } from './page-cache';
import type { ViewsInvalidation } from './views-channel';

export interface SendInput {
  clientMessageId: string;
  type?: MessageType;
  text?: string;
  attachmentIds?: string[];
  replyToId?: string;
  /** Only for `offer` messages, which only the offers module sends (postOfferMessage). */
  offer?: Record<string, unknown>;
}

export interface MessagesDeps {
  models: ChatModels;
  store: ChatStore;
  notifier: Notifier;
  /** Who emits a stored message (emit-claims.ts). */
  emitClaims: EmitClaims;
  consumeSendBudget: (userId: string) => Promise<void>;
  /** Uploads' contract; `kind` is passed as the message type, so every file must be of that kind. */
  attachments?: AttachmentsService;
  events?: Pick<EventBus, 'publish'>;
  logger?: Pick<Logger, 'warn'>;
  /** Sends this process works on at once; beyond it a send is refused SERVICE_UNAVAILABLE with a retry hint. */
  maxInFlightSends?: number;
  /** Fault injection for tests: runs after the message is stored, before it is emitted and acked. */
  hooks?: SendHooks;
  /** Lease of the lock documents the derived-state writes take (CHAT_LOCK_LEASE_MS). */
  lockLeaseMs?: number;
  /** Message pages cached in process (page-cache.ts); without it every page is read from the store. */
  pages?: PageCache;
  /** Publishes on the views channel (here and on every process), awaited: what a stored message makes stale. */
  publishViews?: (invalidation: ViewsInvalidation) => Promise<void>;
}

export interface SendHooks {
  afterStore?: (message: { id: string; clientMessageId: string; conversationId: string }) => Promise<void>;
}

const ATTACHMENT_TYPES: MessageType[] = ['image', 'document', 'voice'];
// Inserts one send may try before giving up on finding a free number (each lost race costs one).
const MAX_NUMBER_ATTEMPTS = 20;
// About two seconds of work at the local store's pace (a few dozen sends a second per process):
// more would only queue, and the client's retry after the hint does better than waiting here.
const DEFAULT_MAX_IN_FLIGHT = 64;
// A duplicate of a send still being worked on here waits this long for its answer, then is told
// to come back after about IN_FLIGHT_RETRY_MS.
const IN_FLIGHT_WAIT_MS = 2_000;
const IN_FLIGHT_RETRY_MS = 250;

type PageCursor = { s: number; d: 'backward' | 'forward' };
const isPageCursor = (v: Record<string, unknown>): v is PageCursor =>
  isNonNegativeInt(v.s) && (v.d === 'backward' || v.d === 'forward');

const preview = (message: Pick<MessageDoc, 'type' | 'text' | 'deletedAt'>) =>
  message.deletedAt ? '' : message.text ? message.text.slice(0, 120) : `[${message.type}]`;

/** SERVICE_UNAVAILABLE errors of a send carry a retry hint; other errors pass unchanged. */
function withRetryHint(err: unknown): unknown {
  const appError = err instanceof AppError ? err : isDatabaseOutage(err) ? toAppError(err) : null;
  if (!appError || appError.code !== 'SERVICE_UNAVAILABLE' || appError.details?.length) return err;
  return chatErrors.retryLater(appError.message, IN_FLIGHT_RETRY_MS * 4);
}

export function createMessagesService({
  models, store, notifier, emitClaims, consumeSendBudget, attachments, events, logger, maxInFlightSends = DEFAULT_MAX_IN_FLIGHT, hooks, lockLeaseMs = 3_000, pages, publishViews,
}: MessagesDeps) {
  const { Message, Conversation } = models;
  const messages = Message.collection as unknown as Collection<MessageDoc>;
  const numbers = createMessageNumbers();
  // The summary and the sender's positions: every send pending in this process in one batched, locked write (derived-state.ts).
  const derivedState = createDerivedState({ models, mongo: Conversation.db, locks: store.locks, leaseMs: lockLeaseMs, publishViews });
  const inFlight = new Map<string, Promise<MessageView>>();
  // The views of a page's rows, mapped once per rows array: a page served from the cache is the
  // same array every time, and mapping 50 messages (ids to hex, dates to ISO) was the largest
  // share of a cached page's CPU. Nothing changes a view once it is answered.
  const mappedViews = new WeakMap<MessageDoc[], MessageView[]>();
  const viewsOf = (rows: MessageDoc[]): MessageView[] => {
    let views = mappedViews.get(rows);
    if (!views) mappedViews.set(rows, (views = rows.map(toMessageView)));
    return views;
  };

  function checkShape(input: SendInput): MessageType {
    const type = input.type ?? (input.attachmentIds?.length ? 'image' : 'text');
    const ids = input.attachmentIds ?? [];
    if (ids.length && !attachments) throw chatErrors.attachmentsUnavailable();
    if (type === 'text' && !input.text?.trim()) throw errors.validation([{ field: 'text', message: 'A text message needs text' }]);
    if ((type === 'offer') !== Boolean(input.offer)) throw errors.validation([{ field: 'type', message: 'Only an offer message carries an offer' }]);
    if (ids.length && !ATTACHMENT_TYPES.includes(type)) {
      throw errors.validation([{ field: 'attachmentIds', message: `A ${type} message takes no attachments` }]);
    }
    if (ATTACHMENT_TYPES.includes(type) && !ids.length) {
      throw errors.validation([{ field: 'attachmentIds', message: `A ${type} message needs at least one attachment` }]);
    }
    return type;
  }

  /**
   * Makes sure a stored message was emitted once, and answers it. Whoever takes its emit claim (emit-claims.ts)
   * (the sender's process right after storing, or a retry that finds it stored) emits it and moves
   * the derived state forward (the summary and the sender's number, which only move forward, so
   * repeating them changes nothing); everyone else just answers the stored message.
   */
  async function complete(message: MessageDoc, conversation: { participantIds: string[] }, conversationId: string): Promise<MessageView> {
    if (String(message.conversationId) !== conversationId) throw chatErrors.clientMessageIdReused();
    // Cached pages of the conversation are dropped on every process before the message is emitted
    // or acked, so whoever got it and reads a page anywhere sees it. Before the emit claim, so a
    // retry after a crash between the insert and here publishes too (a second publish is harmless).
    await publishViews?.({ c: [conversationId], u: [] });
    const view = toMessageView(message);
    if (!(await emitClaims.claim(message._id))) return view;
    notifier.toUsers(conversation.participantIds, 'chat:message', view);
    events?.publish('message.sent', { messageId: view.id, conversationId: view.conversationId, senderId: view.senderId, seq: view.seq, type: view.type, at: view.createdAt });
    const summary = { messageId: message._id, senderId: message.senderId, type: message.type, preview: preview(message), createdAt: message.createdAt };
    // The message is stored and emitted: a summary or position that cannot move now (a lock held
    // too long) does not fail the send; the next message or receipt moves it past this one.
    // The summary carries the sender's number too: they have read and hold everything up to their own message.
    await derivedState
      .advanceSummary(conversationId, message.seq, { lastMessage: summary, lastActivityAt: message.createdAt }, String(message.senderId))
      .catch((err: unknown) => logger?.warn('A sent message left derived chat state behind', { messageId: view.id, error: String(err) }));
    return view;
  }

  async function findStored(senderId: string, clientMessageId: string): Promise<MessageDoc | null> {
    return Message.findById(messageIdFor(senderId, clientMessageId)).lean<MessageDoc>();
  }

  async function sendOnce(senderId: string, conversationId: string, input: SendInput): Promise<MessageView> {
    if (!Types.ObjectId.isValid(conversationId) || !Types.ObjectId.isValid(senderId)) throw chatErrors.conversationNotFound();
    // The participant list is the access check and the recipients: from the membership cache in the
    // steady state (invalidated across processes by every membership change), else one read by _id.
    const conversation = await store.participants(conversationId);
    if (!conversation || !conversation.participantIds.includes(senderId)) throw chatErrors.conversationNotFound();
    const type = checkShape(input);
    let replyTo: MessageDoc['replyTo'] = null;
    if (input.replyToId) {
      const target = Types.ObjectId.isValid(input.replyToId)
        ? await Message.findOne({ _id: input.replyToId, conversationId, seq: { $gt: 0 } }, { seq: 1 }).lean<MessageDoc>()
        : null;
      if (!target) throw errors.validation([{ field: 'replyToId', message: 'replyToId is not a message of this conversation' }]);
      replyTo = { messageId: target._id, seq: target.seq };
    }
    const attachmentIds = input.attachmentIds ?? [];
    if (attachmentIds.length) {
      // Attaching files is not repeatable, so a retry of a stored message with files stops here.
      const stored = await findStored(senderId, input.clientMessageId);
      if (stored) return complete(stored, conversation, conversationId);
    }
    try {
      // Offer messages follow an offer action, which has its own limits; they never spend the chat budget.
      if (type !== 'offer') await consumeSendBudget(senderId);
    } catch (err) {
      // A retry of a stored message is an answer, not a send: it is not refused for the budget.
      const stored = err instanceof AppError && err.code === 'RATE_LIMITED' ? await findStored(senderId, input.clientMessageId) : null;
      if (stored) return complete(stored, conversation, conversationId);
      throw err;
    }
    const files = attachmentIds.length && attachments ? await attachments.attach(attachmentIds, senderId, conversationId, type as 'image' | 'document' | 'voice') : [];
    const changeSeq = await store.nextChangeSeq();
    const _id = messageIdFor(senderId, input.clientMessageId);
    const conversationOid = new Types.ObjectId(conversationId);
    const senderOid = new Types.ObjectId(senderId);
    let lastSeq = conversation.lastSeq;
    for (let attempt = 1; attempt <= MAX_NUMBER_ATTEMPTS; attempt += 1) {
      const seq = numbers.take(conversationId, lastSeq);
      const now = new Date();
      // Every field the schema declares, as Mongoose would store it (its defaults and timestamps),
      // inserted through the driver: building and saving a Mongoose document was about a tenth of
      // the chat server's CPU per send (bench:chat profile), for a document nothing here changes.
      const message: MessageDoc = {
        _id, conversationId: conversationOid, seq, senderId: senderOid, clientMessageId: input.clientMessageId, type, text: input.text ?? null,
        attachments: files, offer: input.offer ?? null, replyTo, reactions: [], editedAt: null, deletedAt: null, changeSeq,
        pageKeys: messagePageKeys(conversationId, seq), createdAt: now, updatedAt: now,
      };
      try {
        await messages.insertOne(message);
      } catch (err) {
        if (!isDuplicateKey(err)) {
          numbers.release(conversationId, seq);
          throw err;
        }
        // Either this send is stored already (a retry, or a duplicate that won) or the number is taken
        // (another process sent here): both questions at once, by _id; the next try starts past
        // where the conversation stands (its lastSeq lags the stored messages by a write at most).
        const [stored, current] = await Promise.all([
          Message.findById(_id).lean<MessageDoc>(),
          Conversation.findById(conversationId, { lastSeq: 1 }).lean<ConversationDoc>(),
        ]);
        if (stored) {
          numbers.release(conversationId, seq);
          return complete(stored, conversation, conversationId);
        }
        lastSeq = Math.max(lastSeq, current?.lastSeq ?? 0);
        continue;
      }
      await hooks?.afterStore?.({ id: String(message._id), clientMessageId: message.clientMessageId, conversationId });
      return complete(message, conversation, conversationId);
    }
    // Stored before message ids followed from the clientMessageId: found by the compound unique index.
    const legacy = await Message.findOne({ senderId, clientMessageId: input.clientMessageId }).lean<MessageDoc>();
    if (legacy) return complete(legacy, conversation, conversationId);
    throw chatErrors.retryLater('The conversation is busy', IN_FLIGHT_RETRY_MS * 4);
  }

  return {
    /**
     * Stores and emits a message, idempotent on (sender, clientMessageId). A duplicate of a send
     * this process is still working on waits for that send's answer, up to IN_FLIGHT_WAIT_MS,
     * without touching the store; after that it is answered SERVICE_UNAVAILABLE with a retry hint.
     * A send beyond maxInFlightSends is refused the same way, so overload is answered, not queued.
     */
    async send(senderId: string, conversationId: string, input: SendInput): Promise<MessageView> {
      const key = `${senderId}:${input.clientMessageId}`;
      const running = inFlight.get(key);
      if (running) {
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          running.then((view) => ({ view }), () => ({ view: null })),
          new Promise<{ view: null }>((resolve) => (timer = setTimeout(() => resolve({ view: null }), IN_FLIGHT_WAIT_MS))),
        ]);
        clearTimeout(timer);
        if (outcome.view && outcome.view.conversationId !== conversationId) throw chatErrors.clientMessageIdReused();
        if (outcome.view) return outcome.view;
        throw chatErrors.retryLater('This message is still being sent; retry with the same clientMessageId', IN_FLIGHT_RETRY_MS);
      }
      if (inFlight.size >= maxInFlightSends) throw chatErrors.retryLater('The server is busy', IN_FLIGHT_RETRY_MS * 4);
      const attempt = sendOnce(senderId, conversationId, input).catch((err: unknown) => {
        throw withRetryHint(err);
      });
      inFlight.set(key, attempt);
      try {
        return await attempt;
      } finally {
        inFlight.delete(key);
      }
    },

    /**
     * A page of messages, newest first (`backward`) or oldest first (`forward`), by a cursor on
     * `seq`. Two store round trips at most: the conversation by `_id` (its participant list is the
     * access check, its `lastSeq` anchors the newest page) and one window of `pageKeys`
     * (message-pages.ts), so a page deep in a long history reads as few rows as the newest one.
     * After a cursor both run at once. Search and messages stored before page keys take the range
     * query on `{ conversationId, seq }`.
     */
    async list(userId: string, conversationId: string, options: { limit?: number; cursor?: string; direction?: 'backward' | 'forward'; search?: string }) {
      const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
      if (!Types.ObjectId.isValid(conversationId) || !Types.ObjectId.isValid(userId)) throw chatErrors.conversationNotFound();
      const cursor = decodeCursor(options.cursor, isPageCursor);
      const direction = cursor?.d ?? options.direction ?? 'backward';
      const order = direction === 'backward' ? -1 : 1;
      const answer = (rows: MessageDoc[]) => {
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        const nextCursor = rows.length > limit && last ? encodeCursor({ s: last.seq, d: direction }) : null;
        return { data: viewsOf(rows).slice(0, limit), page: { nextCursor, limit } };
      };
      const access = async () => {
        const conversation = await Conversation.findById(conversationId, { participantIds: 1, lastSeq: 1 }).lean<ConversationDoc>();
        if (!conversation || !conversation.participantIds.some((id) => String(id) === userId)) throw chatErrors.conversationNotFound();
        return conversation;
      };
      const rangeQuery = () => {
        const seqFilter: Record<string, number> = { $gt: 0 };
        if (cursor) seqFilter[direction === 'backward' ? '$lt' : '$gt'] = cursor.s;
        const filter: Record<string, unknown> = { conversationId, seq: seqFilter };
        if (options.search) {
          filter.text = { $regex: escapeRegex(options.search), $options: 'i' };
          filter.deletedAt = null;
        }
        return Message.find(filter).sort({ seq: order }).limit(limit + 1).batchSize(limit + 2).lean<MessageDoc[]>();
      };
      const windowQuery = (key: string, seq: Record<string, number>) =>
        // A batch one larger than the limit: the first reply closes the cursor (no getMore or killCursors).
        Message.find({ pageKeys: key, seq }).sort({ seq: order }).limit(limit + 1).batchSize(limit + 2).lean<MessageDoc[]>();
      /** Numbers are dense (a number is taken exactly when its message is stored): a gap means rows without page keys. */
      const dense = (rows: MessageDoc[], first: number) => rows.every((row, i) => row.seq === first + order * i);

      if (options.search) {
        await access();
        return answer(await rangeQuery());
      }
      /** The page's rows (limit + 1, to know whether there is a next page), with the access check. */
      const load = async (): Promise<MessageDoc[]> => {
        if (cursor) {
          const window = direction === 'backward' ? windowBefore(conversationId, cursor.s, limit) : windowAfter(conversationId, cursor.s, limit);
          if (!window) {
            await access();
            return rangeQuery();
          }
          const seq: Record<string, number> = direction === 'backward' ? { $gt: 0, $lt: cursor.s } : { $gt: cursor.s };
          const [conversation, rows] = await Promise.all([access(), windowQuery(window.key, seq)]);
          const complete = direction === 'backward'
            ? cursor.s <= 1 || (rows.length > 0 && dense(rows, cursor.s - 1) && (rows.length > limit || rows[rows.length - 1]?.seq === 1))
            : dense(rows, cursor.s + 1) && (rows.length > limit || (rows[rows.length - 1]?.seq ?? cursor.s) >= conversation.lastSeq);
          return complete ? rows : rangeQuery();
        }
        // The newest page, backward or forward from the start.
        if (direction === 'forward') {
          const window = windowAfter(conversationId, 0, limit);
          if (!window) {
            await access();
            return rangeQuery();
          }
          const [conversation, rows] = await Promise.all([access(), windowQuery(window.key, { $gt: 0 })]);
          const complete = dense(rows, 1) && (rows.length > limit || (rows[rows.length - 1]?.seq ?? 0) >= conversation.lastSeq);
          return complete ? rows : rangeQuery();
        }
        const conversation = await access();
        let anchor = conversation.lastSeq;
        // lastSeq can lag the newest stored messages by a few: the window reaches a bucket above it,
        // and one whose top row is the window's own top is followed upward (rare, a burst in flight).
        for (let attempt = 0; attempt < 4; attempt += 1) {
          const window = windowAtTop(conversationId, anchor, limit);
          if (!window) break;
          const rows = await windowQuery(window.key, { $gt: 0 });
          const top = rows[0]?.seq ?? 0;
          if (top === window.top) {
            anchor = top;
            continue;
          }
          const complete = rows.length === 0 ? conversation.lastSeq === 0 : top >= conversation.lastSeq && dense(rows, top) && (rows.length > limit || rows[rows.length - 1]?.seq === 1);
          if (complete) return rows;
          break;
        }
        return rangeQuery();
      };
      if (!pages?.enabled) return answer(await load());
      // From the page cache (page-cache.ts): zero store round trips when the page and the
      // participant list are cached. Access is checked first, against the participant list (the
      // membership cache, which reads the conversation only on its own miss); the entry is looked
      // up again after that check, since an invalidation may have dropped it meanwhile. Without a
      // cached page the cold path runs unchanged (its own access check), so it stays at two trips.
      await pages.settle();
      const shape = pageShape(direction, cursor ? cursor.s : null, limit);
      if (pages.peek(conversationId, shape)) {
        const membership = await store.participants(conversationId);
        if (!membership || !membership.participantIds.includes(userId)) throw chatErrors.conversationNotFound();
        const rows = pages.peek(conversationId, shape);
        if (rows) {
          pages.served(conversationId, shape);
          return answer(rows);
        }
      }
      const token = pages.begin();
      const rows = await load();
      pages.store(conversationId, shape, rows, token);
      return answer(rows);
    },
  };
}

export type MessagesService = ReturnType<typeof createMessagesService>;

import { createHash } from 'node:crypto';
import { Types, type Model } from 'mongoose';
import { errors, type ErrorDetail } from '../../platform/errors';
import { parseObjectId, isDuplicateKey } from '../../platform/mongo';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isObjectIdHex } from '../../platform/pagination';
import type { AttachmentsService } from '../uploads';
import type { UserDirectory } from '../users';
import type { OffersConfig } from './offers.config';
import type { OfferChat } from './offers.ports';
import type { GuardedWrites } from './guarded-write';
import type { OfferAnnouncer } from './offers.notify';
import type { OfferDoc, OfferRound, OfferStatus, OfferTerms } from './offers.model';
import { normaliseTerms, totalOf, type TermsInput } from './offer-terms';
import { isDue, toOfferView, type OfferView } from './offers.mapper';
import { offersErrors } from './offers.errors';

export interface CreateOfferInput extends TermsInput {
  conversationId: string;
  buyerId: string;
  vendorId: string;
  currency: string;
  attachmentIds?: string[];
  expiresAt?: string;
}

export interface ListOffersQuery {
  status?: OfferStatus;
  role?: 'buyer' | 'vendor';
  counterpartyId?: string;
  conversationId?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

export interface OffersCoreDeps {
  Offer: Model<OfferDoc>;
  guarded: GuardedWrites<OfferDoc>;
  users: UserDirectory;
  chat: OfferChat;
  attachments?: AttachmentsService;
  announce: OfferAnnouncer;
  config: OffersConfig;
  clock: () => Date;
  /** Called for an accepted offer whose order may be missing (a failure after the acceptance was stored). */
  ensureOrder: (offer: OfferDoc) => Promise<void>;
}

const HOUR_MS = 3_600_000;
type IdCursor = { i: string };
const isIdCursor = (v: Record<string, unknown>): v is IdCursor => isObjectIdHex(v.i);

/** The offer id a create with an Idempotency-Key gets: a retry inserts the same `_id`, so the store decides. */
export function offerIdFor(userId: string, key: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(`offers:create:${userId}:${key}`).digest().subarray(0, 12));
}

/** An expiry the client asked for, or the default; in the future and within the maximum. */
export function resolveExpiry(raw: string | undefined, fallback: Date | null, now: Date, config: OffersConfig, field = 'expiresAt'): Date {
  if (raw === undefined) return fallback ?? new Date(now.getTime() + config.defaultExpiryHours * HOUR_MS);
  const at = new Date(raw);
  if (Number.isNaN(at.getTime())) throw errors.validation([{ field, message: `${field} must be an ISO 8601 time` }]);
  if (at.getTime() <= now.getTime()) throw errors.validation([{ field, message: `${field} must be in the future` }]);
  if (at.getTime() > now.getTime() + config.maxExpiryHours * HOUR_MS) {
    throw errors.validation([{ field, message: `${field} must be within ${config.maxExpiryHours} hours` }]);
  }
  return at;
}

export function createOffersCore(deps: OffersCoreDeps) {
  const { Offer, guarded, users, chat, attachments, announce, config, clock } = deps;

  /** The offer, if the user is one of its parties; anyone else is told it does not exist. */
  async function loadForParty(userId: string, offerId: string): Promise<OfferDoc> {
    const id = parseObjectId(offerId);
    const offer = id ? await Offer.findById(id).lean<OfferDoc>() : null;
    if (!offer || !offer.parties.includes(userId)) throw offersErrors.offerNotFound();
    return offer;
  }

  /** Marks an offer past its expiry as expired (once: the guarded write decides) and tells both parties. */
  async function expire(offerId: Types.ObjectId): Promise<OfferDoc | null> {
    const result = await guarded.run(
      offerId,
      (current) => {
        if (!isDue(current, clock())) return null;
        const now = clock();
        return { action: 'expire', actorId: null, set: { status: 'expired', live: false, turn: null, closedAt: now, closedBy: null } };
      },
      () => errors.conflict('The offer changed while it expired'),
    );
    if (!result) return null;
    if (result.step) await announce.offer(result.after, 'expire', null);
    return result.after;
  }

  async function refreshed(offer: OfferDoc): Promise<OfferDoc> {
    if (isDue(offer, clock())) return (await expire(offer._id)) ?? offer;
    return offer;
  }

  function checkCreate(userId: string, input: CreateOfferInput, now: Date) {
    const problems: ErrorDetail[] = [];
    if (input.buyerId === input.vendorId) problems.push({ field: 'vendorId', message: 'The buyer and the vendor must be different people' });
    else if (userId !== input.buyerId && userId !== input.vendorId) problems.push({ field: 'buyerId', message: 'You must be the buyer or the vendor' });
    const currency = input.currency.toUpperCase();
    if (!config.supportedCurrencies.includes(currency)) {
      problems.push({ field: 'currency', message: `currency must be one of ${config.supportedCurrencies.join(', ')}` });
    }
    if (input.attachmentIds?.length && !attachments) problems.push({ field: 'attachmentIds', message: 'Attachments are not supported on this server' });
    if (problems.length) throw errors.validation(problems);
    const terms = normaliseTerms(input);
    const total = totalOf(terms.items, currency);
    const expiresAt = resolveExpiry(input.expiresAt, null, now, config);
    return { currency, terms, total, expiresAt };
  }

  function hashOf(input: CreateOfferInput): string {
    return createHash('sha256').update(JSON.stringify(input)).digest('hex');
  }

  /** A stored create answered again: the same key with the same request is the first answer; with another, a conflict. */
  function replay(existing: OfferDoc, userId: string, hash: string): { view: OfferView; created: boolean } {
    if (existing.createdBy !== userId || existing.requestHash !== hash) throw offersErrors.idempotencyKeyReused();
    return { view: toOfferView(existing, clock()), created: false };
  }

  return {
    loadForParty,
    expire,
    refreshed,

    /** Creates an offer in a conversation both parties are in; the caller proposes the first round and the turn passes. */
    async create(userId: string, input: CreateOfferInput, idempotencyKey?: string): Promise<{ view: OfferView; created: boolean }> {
      const now = clock();
      // Every refusal that needs no store comes first: a refused input writes nothing.
      const { currency, terms, total, expiresAt } = checkCreate(userId, input, now);
      const hash = hashOf(input);
      const _id = idempotencyKey ? offerIdFor(userId, idempotencyKey) : new Types.ObjectId();
      if (idempotencyKey) {
        const existing = await Offer.findById(_id).lean<OfferDoc>();
        if (existing) return replay(existing, userId, hash);
      }
      const counterpartyId = userId === input.buyerId ? input.vendorId : input.buyerId;
      // The caller is signed in, so active; the other party's account is asked for.
      const [buyerIn, vendorIn, counterparty] = await Promise.all([
        chat.isParticipant(input.conversationId, input.buyerId),
        chat.isParticipant(input.conversationId, input.vendorId),
        users.notificationProfile(counterpartyId),
      ]);
      if (!buyerIn || !vendorIn) throw offersErrors.conversationNotFound();
      if (counterparty?.status !== 'active') {
        throw errors.validation([{ field: userId === input.buyerId ? 'vendorId' : 'buyerId', message: 'The other party has no active account' }]);
      }
      const files = input.attachmentIds?.length && attachments ? await attachments.attach(input.attachmentIds, userId, input.conversationId) : [];
      const fullTerms: OfferTerms = { ...terms, attachments: files };
      const round: OfferRound = {
        version: 1, action: 'create', proposedBy: userId, at: now.toISOString(), terms: fullTerms, total, expiresAt: expiresAt.toISOString(), diff: [],
      };
      let doc: OfferDoc;
      try {
        const created = await Offer.create({
          _id, conversationId: input.conversationId, buyerId: input.buyerId, vendorId: input.vendorId, parties: [input.buyerId, input.vendorId],
          createdBy: userId, currency, terms: fullTerms, total, firstTotal: total, status: 'open', live: true, turn: counterpartyId, version: 1,
          expiresAt, rounds: [round], roundCount: 1, orderId: null, closedAt: null, closedBy: null, closeReason: null, acceptedAt: null,
          requestHash: idempotencyKey ? hash : null, openedAt: now,
        });
        doc = created.toObject() as OfferDoc;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const existing = await Offer.findById(_id).lean<OfferDoc>();
        if (!existing) throw err;
        return replay(existing, userId, hash);
      }
      return { view: await announce.offer(doc, 'create', userId), created: true };
    },

    async get(userId: string, offerId: string): Promise<OfferView> {
      const offer = await refreshed(await loadForParty(userId, offerId));
      if (offer.status === 'accepted') await deps.ensureOrder(offer);
      return toOfferView(offer, clock());
    },

    async list(userId: string, query: ListOffersQuery) {
      const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
      const now = clock();
      const filter: Record<string, unknown> = { parties: userId };
      if (query.role === 'buyer') filter.buyerId = userId;
      if (query.role === 'vendor') filter.vendorId = userId;
      if (query.counterpartyId) filter.parties = { $all: [userId, query.counterpartyId] };
      if (query.conversationId) filter.conversationId = query.conversationId;
      if (query.status === 'expired') filter.$or = [{ status: 'expired' }, { live: true, expiresAt: { $lte: now } }];
      else if (query.status === 'open' || query.status === 'countered') Object.assign(filter, { status: query.status, expiresAt: { $gt: now } });
      else if (query.status) filter.status = query.status;
      const created: Record<string, Date> = {};
      if (query.from) created.$gte = new Date(query.from);
      if (query.to) created.$lt = new Date(query.to);
      if (Object.keys(created).length) filter.openedAt = created;
      const cursor = decodeCursor(query.cursor, isIdCursor);
      if (cursor) filter._id = { $lt: new Types.ObjectId(cursor.i) };
      const rows = await Offer.find(filter).sort({ _id: -1 }).limit(limit + 1).lean<OfferDoc[]>();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        data: page.map((doc) => toOfferView(doc, now, { rounds: false })),
        page: { nextCursor: rows.length > limit && last ? encodeCursor({ i: String(last._id) }) : null, limit },
      };
    },

    /** Every offer, newest first, for the admin dashboard (filters are equalities on indexed fields). */
    async listForAdmin(query: { status?: OfferStatus; buyerId?: string; vendorId?: string; conversationId?: string; limit?: number; cursor?: string }) {
      const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
      const filter: Record<string, unknown> = {};
      if (query.status) filter.status = query.status;
      if (query.buyerId) filter.buyerId = query.buyerId;
      if (query.vendorId) filter.vendorId = query.vendorId;
      if (query.conversationId) filter.conversationId = query.conversationId;
      const cursor = decodeCursor(query.cursor, isIdCursor);
      if (cursor) filter._id = { $lt: new Types.ObjectId(cursor.i) };
      const rows = await Offer.find(filter).sort({ _id: -1 }).limit(limit + 1).lean<OfferDoc[]>();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const now = clock();
      return {
        data: page.map((doc) => toOfferView(doc, now, { rounds: false })),
        page: { nextCursor: rows.length > limit && last ? encodeCursor({ i: String(last._id) }) : null, limit },
      };
    },

    /** Offers open on paper but past their expiry, for the sweep (oldest expiry first, a bounded batch). */
    async findDue(now: Date, limit = 200): Promise<Array<{ id: string; version: number }>> {
      const rows = await Offer.find({ live: true, expiresAt: { $lte: now } }, { _id: 1, version: 1 }).sort({ expiresAt: 1 }).limit(limit).lean<OfferDoc[]>();
      return rows.map((row) => ({ id: String(row._id), version: row.version }));
    },
  };
}

export type OffersCore = ReturnType<typeof createOffersCore>;

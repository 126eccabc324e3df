import { Types } from 'mongoose';
import { errors, type ErrorDetail } from '../../platform/errors';
import type { InputOf } from '../../platform/http/validate';
import type { counterBody } from './offers.schemas';
import type { Logger } from '../../platform/logger';
import type { AttachmentsService } from '../uploads';
import type { OffersConfig } from './offers.config';
import type { CreditHolds } from './offers.ports';
import type { GuardedWrites, Step } from './guarded-write';
import type { OfferAnnouncer } from './offers.notify';
import type { OfferDoc, OfferRound, OfferTerms } from './offers.model';
import { diffRounds, normaliseTerms, totalOf, type TermsInput } from './offer-terms';
import { isDue, toOfferView, type OfferView } from './offers.mapper';
import { offersErrors } from './offers.errors';
import { resolveExpiry, type OffersCore } from './offers.service';

export type RespondAction = 'accept' | 'reject' | 'counter' | 'withdraw';

export type CounterInput = Omit<InputOf<typeof counterBody>, 'version'>;

export type RespondInput = CounterInput & { version: number; reason?: string };

/** A counter's nested objects replace the current ones whole, so they must be complete. */
function completeParts(input: CounterInput): Pick<Partial<TermsInput>, 'delivery' | 'payment'> {
  const problems: ErrorDetail[] = [];
  if (input.delivery && !input.delivery.place) problems.push({ field: 'delivery.place', message: 'delivery.place is required' });
  if (input.payment && !input.payment.kind) problems.push({ field: 'payment.kind', message: 'payment.kind is required' });
  if (problems.length) throw errors.validation(problems);
  return {
    ...(input.delivery ? { delivery: { ...input.delivery, place: input.delivery.place as string } } : {}),
    ...(input.payment ? { payment: { ...input.payment, kind: input.payment.kind as 'prepaid' | 'credit' } } : {}),
  };
}

export interface OfferActionsDeps {
  core: OffersCore;
  guarded: GuardedWrites<OfferDoc>;
  announce: OfferAnnouncer;
  attachments?: AttachmentsService;
  /** Finance's port; unset: credit offers are accepted without a hold. */
  credit?: CreditHolds;
  /** Creates the accepted offer's order (exactly once: the order's offerId is unique). */
  createOrder: (offer: OfferDoc) => Promise<void>;
  config: OffersConfig;
  clock: () => Date;
  logger: Logger;
}

const proposerOf = (offer: OfferDoc) => offer.rounds[offer.rounds.length - 1]?.proposedBy ?? offer.createdBy;
const otherParty = (offer: OfferDoc, userId: string) => (offer.buyerId === userId ? offer.vendorId : offer.buyerId);

export function createOfferActions(deps: OfferActionsDeps) {
  const { core, guarded, announce, attachments, credit, config, clock, logger } = deps;
  const view = (offer: OfferDoc) => toOfferView(offer, clock());

  /**
   * The rules every response passes, in the order a client can act on: expired, then stale
   * version (409 with the current state: whoever lost a race lands here), then closed, then whose
   * move it is. Run once before any side effect and again under the offer's lock.
   */
  function check(offer: OfferDoc, userId: string, action: RespondAction, version: number): void {
    if (offer.status === 'expired' || isDue(offer, clock())) throw offersErrors.expired(view(offer));
    if (offer.version !== version) throw offersErrors.stale(view(offer));
    if (!offer.live) throw offersErrors.closed(view(offer));
    if (action === 'withdraw') {
      if (proposerOf(offer) !== userId) throw offersErrors.notProposer(view(offer));
    } else if (offer.turn !== userId) {
      throw offersErrors.notYourTurn(view(offer));
    }
    if (action === 'counter' && offer.roundCount >= config.maxRounds) throw offersErrors.tooManyRounds(config.maxRounds, view(offer));
  }

  /** The counter's round: the current terms with what the counter changes, and its diff. */
  function counterRound(offer: OfferDoc, userId: string, input: CounterInput, files: OfferTerms['attachments'] | null, now: Date, requireChange = true) {
    const base = offer.terms;
    const parts = completeParts(input);
    const merged: TermsInput = {
      items: input.items ?? base.items.map((item) => ({
        name: item.name, quantity: item.quantity, unit: item.unit, unitPrice: item.unitPrice,
        ...(item.sku !== null ? { sku: item.sku } : {}), ...(item.description !== null ? { description: item.description } : {}),
      })),
      delivery: parts.delivery ?? {
        place: base.delivery.place,
        ...(base.delivery.date !== null ? { date: base.delivery.date } : {}),
        ...(base.delivery.leadTimeDays !== null ? { leadTimeDays: base.delivery.leadTimeDays } : {}),
        ...(base.delivery.incoterm !== null ? { incoterm: base.delivery.incoterm } : {}),
      },
      payment: parts.payment ?? { kind: base.payment.kind, ...(base.payment.creditDays !== null ? { creditDays: base.payment.creditDays } : {}) },
      ...(input.termsText !== undefined ? { termsText: input.termsText } : base.termsText !== null ? { termsText: base.termsText } : {}),
      ...(input.notes !== undefined ? { notes: input.notes } : base.notes !== null ? { notes: base.notes } : {}),
    };
    const terms: OfferTerms = { ...normaliseTerms(merged), attachments: files ?? base.attachments };
    const total = totalOf(terms.items, offer.currency);
    const expiresAt = resolveExpiry(input.expiresAt, new Date(offer.expiresAt), now, config);
    const previous = offer.rounds[offer.rounds.length - 1];
    const round: OfferRound = {
      version: offer.version + 1, action: 'counter', proposedBy: userId, at: now.toISOString(), terms, total, expiresAt: expiresAt.toISOString(),
      diff: previous ? diffRounds(previous, { terms, total, expiresAt: expiresAt.toISOString() }) : [],
    };
    if (requireChange && round.diff.length === 0) throw errors.validation([{ field: 'items', message: 'A counter must change at least one term' }]);
    return { terms, total, expiresAt, round };
  }

  function stepFor(offer: OfferDoc, userId: string, action: RespondAction, input: RespondInput, files: OfferTerms['attachments'] | null): Step {
    const now = clock();
    const closing = { live: false, turn: null, closedAt: now, closedBy: userId };
    switch (action) {
      case 'counter': {
        const { terms, total, expiresAt, round } = counterRound(offer, userId, input, files, now);
        return {
          action, actorId: userId,
          set: { terms, total, expiresAt, status: 'countered', turn: otherParty(offer, userId), roundCount: offer.roundCount + 1 },
          push: { field: 'rounds', value: round },
        };
      }
      case 'accept':
        return { action, actorId: userId, set: { ...closing, status: 'accepted', acceptedAt: now, orderId: new Types.ObjectId().toHexString() } };
      case 'reject':
        return { action, actorId: userId, set: { ...closing, status: 'rejected', closeReason: input.reason ?? null } };
      case 'withdraw':
        return { action, actorId: userId, set: { ...closing, status: 'withdrawn', closeReason: input.reason ?? null } };
    }
  }

  async function transition(offer: OfferDoc, userId: string, action: RespondAction, input: RespondInput, files: OfferTerms['attachments'] | null) {
    const result = await guarded.run(
      offer._id,
      (current) => {
        check(current, userId, action, input.version);
        return stepFor(current, userId, action, input, files);
      },
      (current) => offersErrors.stale(view(current)),
    );
    if (!result) throw offersErrors.offerNotFound();
    return result.after;
  }

  /** Accept: a credit offer's hold comes first; if the acceptance is then not stored, the hold is released. */
  async function accept(offer: OfferDoc, userId: string, input: RespondInput): Promise<OfferDoc> {
    const payment = offer.terms.payment;
    const needsHold = Boolean(credit) && payment.kind === 'credit';
    if (needsHold && credit) {
      await credit.hold({
        offerId: String(offer._id), buyerId: offer.buyerId, vendorId: offer.vendorId, amount: offer.total, creditDays: payment.creditDays ?? 0, actorId: userId,
      });
    }
    try {
      return await transition(offer, userId, 'accept', input, null);
    } catch (err) {
      if (needsHold && credit) {
        // The hold is keyed by the offer: if another acceptance of it won, the hold is that acceptance's.
        const now = await core.loadForParty(userId, String(offer._id)).catch(() => null);
        if (now?.status !== 'accepted') {
          await credit.release(String(offer._id), 'The acceptance was not stored').catch((releaseErr: Error) =>
            logger.error('Could not release a credit hold after a failed acceptance', { offerId: String(offer._id), error: releaseErr.message }),
          );
        }
      }
      throw err;
    }
  }

  return {
    /** accept | reject | counter | withdraw, from REST or the socket: one guarded write, then the announcements. */
    async respond(userId: string, offerId: string, action: RespondAction, input: RespondInput): Promise<OfferView> {
      const loaded = await core.loadForParty(userId, offerId);
      if (isDue(loaded, clock())) {
        const expired = (await core.expire(loaded._id)) ?? loaded;
        throw offersErrors.expired(view(expired));
      }
      check(loaded, userId, action, input.version);
      let after: OfferDoc;
      if (action === 'accept') {
        after = await accept(loaded, userId, input);
      } else {
        let files: OfferTerms['attachments'] | null = null;
        if (action === 'counter') {
          // Checked before any write: the counter's terms must stand on their own (its files are not attached yet).
          counterRound(loaded, userId, input, null, clock(), input.attachmentIds === undefined);
          if (input.attachmentIds !== undefined) {
            if (input.attachmentIds.length && !attachments) throw errors.validation([{ field: 'attachmentIds', message: 'Attachments are not supported on this server' }]);
            files = input.attachmentIds.length && attachments ? await attachments.attach(input.attachmentIds, userId, loaded.conversationId) : [];
          }
        }
        after = await transition(loaded, userId, action, input, files);
      }
      if (action === 'accept') {
        try {
          await deps.createOrder(after);
        } catch (err) {
          // The acceptance is stored; the order is created again on the next read of the offer.
          logger.error('An accepted offer has no order yet', { offerId, error: err instanceof Error ? err.message : String(err) });
        }
      }
      return announce.offer(after, action, userId);
    },
  };
}

export type OfferActions = ReturnType<typeof createOfferActions>;

import { AppError, type PlatformErrorCode } from '../../platform/errors';

/** Codes of offers' own, beyond the platform's: part of its contract (index.ts). */
export const OFFERS_ERROR_CODES = [
  'OFFER_EXPIRED',
  'OFFER_NOT_YOUR_TURN',
  'OFFER_CLOSED',
  'OFFER_TOO_MANY_ROUNDS',
  'ORDER_WRONG_PARTY',
  'ORDER_INVALID_TRANSITION',
] as const;
export type OffersErrorCode = PlatformErrorCode | (typeof OFFERS_ERROR_CODES)[number];

/**
 * A refused transition answers with the resource's current state (`error.current`), so the client
 * that lost a race or held a stale version redraws without another read.
 */
const withCurrent = (code: OffersErrorCode, message: string, status: number, current: unknown) =>
  new AppError(code, message, status, undefined, undefined, current);

export const offersErrors = {
  offerNotFound: () => new AppError('NOT_FOUND', 'Offer not found', 404),
  orderNotFound: () => new AppError('NOT_FOUND', 'Order not found', 404),
  conversationNotFound: () => new AppError('NOT_FOUND', 'Conversation not found', 404),
  stale: (current: unknown) => withCurrent('CONFLICT', 'The offer changed since you saw it', 409, current),
  staleOrder: (current: unknown) => withCurrent('CONFLICT', 'The order changed since you saw it', 409, current),
  expired: (current: unknown) => withCurrent('OFFER_EXPIRED', 'The offer has expired', 409, current),
  closed: (current: unknown) => withCurrent('OFFER_CLOSED', 'The offer is closed', 409, current),
  notYourTurn: (current: unknown) => withCurrent('OFFER_NOT_YOUR_TURN', 'It is the other party’s turn', 403, current),
  notProposer: (current: unknown) =>
    withCurrent('OFFER_NOT_YOUR_TURN', 'Only the party who proposed the current round may withdraw it', 403, current),
  tooManyRounds: (max: number, current: unknown) =>
    withCurrent('OFFER_TOO_MANY_ROUNDS', `A negotiation has at most ${max} rounds`, 409, current),
  wrongParty: (message: string, current: unknown) => withCurrent('ORDER_WRONG_PARTY', message, 403, current),
  invalidOrderTransition: (from: string, to: string, current: unknown) =>
    withCurrent('ORDER_INVALID_TRANSITION', `An order that is ${from} cannot become ${to}`, 409, current),
  idempotencyKeyReused: () => new AppError('CONFLICT', 'This Idempotency-Key was already used for a different offer', 409),
};

// What offers needs from other modules, named by capability. The composition root injects them.
import type { ConversationAccess, OfferMessages } from '../chat';

/** Finance's port: a hold on the buyer's credit line for a credit acceptance. */
export interface CreditHolds {
  /** Places a hold for the offer's total on the buyer's credit line with this vendor, keyed by offerId (idempotent: the same offerId twice holds once). Throws AppError code CREDIT_LIMIT_EXCEEDED (status 409) when available credit is short, or CREDIT_LINE_UNAVAILABLE (409) when there is no active line. */
  hold(request: { offerId: string; buyerId: string; vendorId: string; amount: { amount: number; currency: string }; creditDays: number; actorId: string }): Promise<void>;
  /** Voids the offer's hold if there is one (the acceptance lost a race or failed after the hold). Idempotent. */
  release(offerId: string, reason: string): Promise<void>;
}

/** Chat's contract as offers uses it: who is in a conversation, and an offer message in it (each round). */
export type OfferChat = ConversationAccess & OfferMessages;

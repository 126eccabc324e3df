import type { Server as IoServer } from 'socket.io';
import { userRoom } from '../../platform/auth-context';
import type { EventBus } from '../../platform/events';
import type { Logger } from '../../platform/logger';
import type { OfferChat } from './offers.ports';
import type { OfferAction, OfferDoc } from './offers.model';
import type { OrderDoc } from './orders.model';
import { offerEventPayload, offerSummary, toOfferView, toOrderView, type OfferView } from './offers.mapper';

const EVENT_OF: Record<Exclude<OfferAction, 'accept'>, 'offer.created' | 'offer.countered' | 'offer.rejected' | 'offer.withdrawn' | 'offer.expired'> = {
  create: 'offer.created',
  counter: 'offer.countered',
  reject: 'offer.rejected',
  withdraw: 'offer.withdrawn',
  expire: 'offer.expired',
};

/**
 * What follows a stored offer or order change: the domain event, `offer:updated` / `order:updated`
 * to every device of both parties, and (offers) the round as an `offer` message in the conversation.
 * None of it fails the write it follows: a chat message that cannot be posted is logged, and a
 * repeat of the same version posts nothing twice (its clientMessageId is `offer:<id>:<version>`).
 */
export function createOfferAnnouncer(deps: { io: IoServer; events: EventBus; chat: OfferChat; logger: Logger; clock: () => Date }) {
  const { io, events, chat, logger, clock } = deps;

  function toParties(doc: { buyerId: string; vendorId: string }, event: string, payload: unknown): void {
    io.to([userRoom(doc.buyerId), userRoom(doc.vendorId)]).emit(event, payload);
  }

  return {
    async offer(doc: OfferDoc, action: OfferAction, actorId: string | null): Promise<OfferView> {
      const now = clock();
      const view = toOfferView(doc, now);
      if (action === 'accept') {
        events.publish('offer.accepted', { ...offerEventPayload(doc, actorId, now), orderId: doc.orderId ?? '' });
      } else {
        events.publish(EVENT_OF[action], offerEventPayload(doc, actorId, now));
      }
      toParties(doc, 'offer:updated', view);
      // Expiry has no sender; both parties get offer:updated, and the last round's message stays as it was.
      if (actorId) {
        try {
          await chat.postOfferMessage(actorId, doc.conversationId, { clientMessageId: `offer:${String(doc._id)}:${doc.version}`, offer: offerSummary(doc, action) });
        } catch (err) {
          logger.warn('Could not post an offer message in its conversation', { offerId: String(doc._id), version: doc.version, error: err instanceof Error ? err.message : String(err) });
        }
      }
      return view;
    },

    order(doc: OrderDoc): void {
      toParties(doc, 'order:updated', toOrderView(doc));
    },
  };
}

export type OfferAnnouncer = ReturnType<typeof createOfferAnnouncer>;

import type { Socket } from 'socket.io';
import type { Logger } from '../../platform/logger';
import { onEvent } from '../../platform/socket/events';
import { getSocketAuth } from '../../platform/auth-context';
import type { OffersServices } from './offers.services';
import * as s from './offers.schemas';

/** Thin: validate (onEvent), call the same services as REST, answer the ack. `offer:updated` goes out from the service. */
export function registerOffersEvents(socket: Socket, offers: OffersServices, logger: Logger): void {
  const { userId } = getSocketAuth(socket);

  onEvent(socket, 'offer:create', s.createOfferEvent, async ({ input }) => {
    const { idempotencyKey, ...body } = input;
    return (await offers.core.create(userId, body, idempotencyKey)).view;
  }, logger);

  onEvent(socket, 'offer:respond', s.respondEvent, async ({ input }) => {
    const { offerId, action, ...body } = input;
    return offers.actions.respond(userId, offerId, action, body);
  }, logger);
}

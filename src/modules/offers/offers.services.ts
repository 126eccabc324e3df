import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../../platform/context';
import { createLocks } from '../../platform/locks';
import type { AttachmentsService } from '../uploads';
import type { UserDirectory } from '../users';
import type { OffersConfig } from './offers.config';
import type { CreditHolds, OfferChat } from './offers.ports';
import { getOfferModel, type OfferDoc } from './offers.model';
import { getOrderModel, type OrderDoc } from './orders.model';
import { createGuardedWrites } from './guarded-write';
import { createOfferAnnouncer } from './offers.notify';
import { createOffersCore } from './offers.service';
import { createOfferActions } from './offer-actions.service';
import { createOrdersService } from './orders.service';
import { createOfferAnalytics } from './analytics.service';

export interface OffersServiceDeps {
  ctx: AppContext;
  io: IoServer;
  config: OffersConfig;
  users: UserDirectory;
  chat: OfferChat;
  attachments?: AttachmentsService;
  credit?: CreditHolds;
}

/** Wires every offers and orders use case on one context; two app instances get two independent sets. */
export function createOffersServices({ ctx, io, config, users, chat, attachments, credit }: OffersServiceDeps) {
  const { clock, logger, events } = ctx;
  const Offer = getOfferModel(ctx.mongo);
  const Order = getOrderModel(ctx.mongo);
  const locks = createLocks(ctx.mongo, { leaseMs: config.lockLeaseMs });
  const offerWrites = createGuardedWrites<OfferDoc>({ model: Offer, mongo: ctx.mongo, claimsCollection: 'offer_transitions', lockPrefix: 'offers:offer', locks, clock });
  const orderWrites = createGuardedWrites<OrderDoc>({ model: Order, mongo: ctx.mongo, claimsCollection: 'offer_order_transitions', lockPrefix: 'offers:order', locks, clock });
  const announce = createOfferAnnouncer({ io, events, chat, logger, clock });
  const orders = createOrdersService({ Order, guarded: orderWrites, announce, events, clock });
  const core = createOffersCore({
    Offer, guarded: offerWrites, users, chat, attachments, announce, config, clock,
    ensureOrder: (offer) => orders.ensureForOffer(offer),
  });
  const actions = createOfferActions({
    core, guarded: offerWrites, announce, attachments, credit, config, clock, logger,
    createOrder: (offer) => orders.createForOffer(offer),
  });
  const analytics = createOfferAnalytics({ Offer, clock });
  return { Offer, Order, core, actions, orders, analytics };
}

export type OffersServices = ReturnType<typeof createOffersServices>;

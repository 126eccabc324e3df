import type { RequestHandler } from 'express';
import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import type { AttachmentsService } from '../uploads';
import type { UserDirectory } from '../users';
import type { OffersConfig } from './offers.config';
import type { CreditHolds, OfferChat } from './offers.ports';
import type { OfferStatus } from './offers.model';
import type { OrderStatus } from './orders.model';
import type { OfferView, OrderView } from './offers.mapper';
import type { ShipmentUpdate } from './orders.service';
import { createOffersServices } from './offers.services';
import { createOffersRouter } from './offers.routes';
import { registerOffersEvents } from './offers.socket';

// The offers module's contract (offers and the orders they end in). Other modules import only from here.
export { OFFERS_ERROR_CODES, type OffersErrorCode } from './offers.errors';
export { readOffersConfig, type OffersConfig } from './offers.config';
export type { CreditHolds, OfferChat } from './offers.ports';
export type { OfferView, OfferRoundView, OfferItemView, OrderView } from './offers.mapper';
export type { OfferStatus } from './offers.model';
export type { OrderStatus } from './orders.model';
export type { ShipmentUpdate } from './orders.service';

/** Orders as finance and admin read them. */
export interface OrdersDirectory {
  getOrder(orderId: string): Promise<OrderView | null>;
  /** Null when the user is neither the buyer nor the vendor. */
  getOrderForParty(orderId: string, userId: string): Promise<OrderView | null>;
}

export interface OffersPage<T> {
  data: T[];
  page: { nextCursor: string | null; limit: number };
}

/** For the admin dashboard (the admin module mounts the routes and checks the role). */
export interface OffersAdmin {
  listOffers(filters: { status?: OfferStatus; buyerId?: string; vendorId?: string; conversationId?: string; limit?: number; cursor?: string }): Promise<OffersPage<OfferView>>;
  listOrders(filters: { status?: OrderStatus; buyerId?: string; vendorId?: string; limit?: number; cursor?: string }): Promise<OffersPage<OrderView>>;
  /** Cancels any order not yet delivered; the history records the admin and the reason. */
  cancelOrder(orderId: string, actorId: string, reason: string): Promise<OrderView>;
}

export interface OffersModule extends AppModule {
  orders: OrdersDirectory;
  admin: OffersAdmin;
  /**
   * A carrier's callback (the webhook inbox): every event (late, failed and returned ones too) is
   * stored once in the order's shipment timeline, in the carrier's time order; in_transit /
   * out_for_delivery (and created / picked_up) move it to shipped, delivered to delivered, never
   * backwards. 'ignored' for a repeat, an unknown order, or an event older than a full timeline keeps.
   */
  applyShipmentUpdate(update: ShipmentUpdate): Promise<'processed' | 'ignored'>;
}

export function createOffersModule(deps: {
  ctx: AppContext;
  config: OffersConfig;
  io: IoServer;
  auth: { requireAuth: RequestHandler };
  users: UserDirectory;
  /** Chat's contract: both parties must be in the conversation, and every round is posted there as an `offer` message. */
  chat: OfferChat;
  attachments?: AttachmentsService;
  /** Finance's credit holds; without it, credit offers are accepted without a hold. */
  credit?: CreditHolds;
}): OffersModule {
  const { ctx, config } = deps;
  const offers = createOffersServices({ ctx, io: deps.io, config, users: deps.users, chat: deps.chat, attachments: deps.attachments, credit: deps.credit });
  // Expiry: a reconciliation schedule finds offers past expiresAt still open on paper and enqueues one
  // job per offer version (durable with Redis); the job's guarded write expires it once and tells both parties.
  const expiry = ctx.jobs.queue<{ offerId: string }>('offers-expiry', async ({ offerId }) => {
    const { Types } = await import('mongoose');
    await offers.core.expire(new Types.ObjectId(offerId));
  }, { concurrency: 4 });
  ctx.jobs.reconcile(expiry, {
    everyMs: config.expirySweepMs,
    // The app's clock, not the tick's: tests move it to cross an expiry.
    findPending: async () => (await offers.core.findDue(ctx.clock())).map(({ id, version }) => ({ key: `${id}:v${version}`, data: { offerId: id } })),
  });
  return {
    name: 'offers',
    http: createOffersRouter(offers, deps.auth.requireAuth),
    onSocket: (socket) => registerOffersEvents(socket, offers, ctx.logger),
    orders: { getOrder: offers.orders.getOrder, getOrderForParty: offers.orders.getOrderForParty },
    admin: {
      listOffers: (filters) => offers.core.listForAdmin(filters),
      listOrders: (filters) => offers.orders.listForAdmin(filters),
      cancelOrder: (orderId, actorId, reason) => offers.orders.cancelByAdmin(orderId, actorId, reason),
    },
    applyShipmentUpdate: (update) => offers.orders.applyShipmentUpdate(update),
  };
}

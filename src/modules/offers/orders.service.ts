import { Types, type Model } from 'mongoose';
import { errors } from '../../platform/errors';
import type { EventBus } from '../../platform/events';
import { isDuplicateKey, parseObjectId } from '../../platform/mongo';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isObjectIdHex } from '../../platform/pagination';
import type { GuardedWrites } from './guarded-write';
import type { OfferAnnouncer } from './offers.notify';
import type { OfferDoc } from './offers.model';
import { ORDER_RANK, type OrderDoc, type OrderHistoryEntry, type OrderStatus, type ShipmentEvent } from './orders.model';
import { withShipmentEvent } from './shipment-timeline';
import { orderEventPayload, toOrderView, type OrderView } from './offers.mapper';
import { offersErrors } from './offers.errors';

export type OrderAction = 'confirm' | 'ship' | 'deliver' | 'complete' | 'cancel';

export interface OrderActionInput {
  version: number;
  reason?: string;
  carrier?: string;
  trackingNumber?: string;
}

export interface ShipmentUpdate {
  orderId: string;
  status: 'in_transit' | 'out_for_delivery' | 'delivered' | 'exception';
  carrier: string;
  trackingNumber: string | null;
  /** The carrier's time for the event: the timeline is ordered by it. */
  at: string;
  /** The carrier's own status (created, picked_up, …); the normalised status when absent. */
  carrierStatus?: string;
  location?: string | null;
  /** The provider's event id: a timeline stores each once. Without one, the status and time identify the event. */
  eventId?: string;
}

export interface ListOrdersQuery {
  status?: OrderStatus;
  role?: 'buyer' | 'vendor';
  limit?: number;
  cursor?: string;
}

export interface AdminOrdersQuery {
  status?: OrderStatus;
  buyerId?: string;
  vendorId?: string;
  limit?: number;
  cursor?: string;
}

/** Who may take each step, and from where. Cancelling is for either party, before shipping. */
const RULES: Record<OrderAction, { to: OrderStatus; from: OrderStatus[]; by: 'buyer' | 'vendor' | 'either' }> = {
  confirm: { to: 'confirmed', from: ['placed'], by: 'vendor' },
  ship: { to: 'shipped', from: ['confirmed'], by: 'vendor' },
  deliver: { to: 'delivered', from: ['shipped'], by: 'vendor' },
  complete: { to: 'completed', from: ['delivered'], by: 'buyer' },
  cancel: { to: 'cancelled', from: ['placed', 'confirmed'], by: 'either' },
};

const CARRIER_TARGET: Record<ShipmentUpdate['status'], OrderStatus | null> = {
  in_transit: 'shipped',
  out_for_delivery: 'shipped',
  delivered: 'delivered',
  exception: null,
};

type IdCursor = { i: string };
const isIdCursor = (v: Record<string, unknown>): v is IdCursor => isObjectIdHex(v.i);

export function createOrdersService(deps: {
  Order: Model<OrderDoc>;
  guarded: GuardedWrites<OrderDoc>;
  announce: OfferAnnouncer;
  events: EventBus;
  clock: () => Date;
}) {
  const { Order, guarded, announce, events, clock } = deps;

  async function load(orderId: string): Promise<OrderDoc | null> {
    const id = parseObjectId(orderId);
    return id ? Order.findById(id).lean<OrderDoc>() : null;
  }

  async function loadForParty(userId: string, orderId: string): Promise<OrderDoc> {
    const order = await load(orderId);
    if (!order || !order.parties.includes(userId)) throw offersErrors.orderNotFound();
    return order;
  }

  function entry(from: OrderStatus, to: OrderStatus, actorId: string | null, source: OrderHistoryEntry['source'], reason: string | null, at: Date): OrderHistoryEntry {
    return { from, to, actorId, source, reason, at: at.toISOString() };
  }

  function announced(before: OrderDoc, after: OrderDoc, actorId: string | null, reason: string | null): OrderView {
    const now = clock();
    events.publish('order.status_changed', { ...orderEventPayload(after, now), from: before.status, to: after.status, actorId, reason });
    // A cancelled credit order's hold is finance's to void: it follows order.status_changed with a durable job.
    announce.order(after);
    return toOrderView(after);
  }

  async function move(order: OrderDoc, action: OrderAction, actorId: string, input: OrderActionInput, source: 'party' | 'admin'): Promise<OrderView> {
    const rule = RULES[action];
    const decide = (current: OrderDoc) => {
      if (current.version !== input.version) throw offersErrors.staleOrder(toOrderView(current));
      if (source === 'party') {
        const role = current.buyerId === actorId ? 'buyer' : 'vendor';
        if (rule.by !== 'either' && rule.by !== role) throw offersErrors.wrongParty(`Only the ${rule.by} may ${action} this order`, toOrderView(current));
      }
      const allowed = source === 'admin' && action === 'cancel' ? ['placed', 'confirmed', 'shipped'] : rule.from;
      if (!allowed.includes(current.status)) throw offersErrors.invalidOrderTransition(current.status, rule.to, toOrderView(current));
      if (action === 'cancel' && !input.reason) throw errors.validation([{ field: 'reason', message: 'A cancellation needs a reason' }]);
      const now = clock();
      const set: Record<string, unknown> = { status: rule.to };
      if (action === 'cancel') set.cancelReason = input.reason ?? null;
      if (action === 'ship') {
        set.shipment = { ...current.shipment, carrier: input.carrier ?? current.shipment.carrier, trackingNumber: input.trackingNumber ?? current.shipment.trackingNumber };
      }
      return { action, actorId, set, push: { field: 'history', value: entry(current.status, rule.to, actorId, source, input.reason ?? null, now) } };
    };
    const result = await guarded.run(order._id, decide, (current) => offersErrors.staleOrder(toOrderView(current)));
    if (!result) throw offersErrors.orderNotFound();
    return announced(result.before, result.after, actorId, input.reason ?? null);
  }

  async function list(filter: Record<string, unknown>, query: { limit?: number; cursor?: string }) {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const cursor = decodeCursor(query.cursor, isIdCursor);
    if (cursor) filter._id = { $lt: new Types.ObjectId(cursor.i) };
    const rows = await Order.find(filter).sort({ _id: -1 }).limit(limit + 1).lean<OrderDoc[]>();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { data: page.map((doc) => toOrderView(doc, { timeline: false })), page: { nextCursor: rows.length > limit && last ? encodeCursor({ i: String(last._id) }) : null, limit } };
  }

  return {
    /** The order of an accepted offer, created once: its `_id` is the offer's `orderId` and its offerId is unique. */
    async createForOffer(offer: OfferDoc): Promise<void> {
      if (offer.status !== 'accepted' || !offer.orderId) return;
      const now = clock();
      let doc: OrderDoc;
      try {
        const created = await Order.create({
          _id: new Types.ObjectId(offer.orderId), offerId: String(offer._id), conversationId: offer.conversationId,
          buyerId: offer.buyerId, vendorId: offer.vendorId, parties: [offer.buyerId, offer.vendorId], currency: offer.currency,
          items: offer.terms.items, total: offer.total, delivery: offer.terms.delivery, payment: offer.terms.payment, termsText: offer.terms.termsText,
          status: 'placed', version: 1, history: [{ from: null, to: 'placed', actorId: offer.closedBy, source: 'party', reason: null, at: now.toISOString() }],
          shipment: { carrier: null, trackingNumber: null, lastStatus: null, lastUpdateAt: null }, cancelReason: null,
        });
        doc = created.toObject() as OrderDoc;
      } catch (err) {
        if (isDuplicateKey(err)) return;
        throw err;
      }
      events.publish('order.created', orderEventPayload(doc, now));
      announce.order(doc);
    },

    /** Creates the order if an accepted offer lacks it (a failure after the acceptance); a read by _id otherwise. */
    async ensureForOffer(offer: OfferDoc): Promise<void> {
      if (offer.status !== 'accepted' || !offer.orderId) return;
      if (await Order.exists({ _id: new Types.ObjectId(offer.orderId) })) return;
      await this.createForOffer(offer);
    },

    async get(userId: string, orderId: string): Promise<OrderView> {
      return toOrderView(await loadForParty(userId, orderId));
    },

    listMine(userId: string, query: ListOrdersQuery) {
      const filter: Record<string, unknown> = { parties: userId };
      if (query.role === 'buyer') filter.buyerId = userId;
      if (query.role === 'vendor') filter.vendorId = userId;
      if (query.status) filter.status = query.status;
      return list(filter, query);
    },

    async act(userId: string, orderId: string, action: OrderAction, input: OrderActionInput): Promise<OrderView> {
      return move(await loadForParty(userId, orderId), action, userId, input, 'party');
    },

    // ---- for other modules (index.ts): finance, admin, logistics webhooks -------------------------

    async getOrder(orderId: string): Promise<OrderView | null> {
      const order = await load(orderId);
      return order ? toOrderView(order) : null;
    },

    async getOrderForParty(orderId: string, userId: string): Promise<OrderView | null> {
      const order = await load(orderId);
      return order && order.parties.includes(userId) ? toOrderView(order) : null;
    },

    listForAdmin(query: AdminOrdersQuery) {
      const filter: Record<string, unknown> = {};
      if (query.status) filter.status = query.status;
      if (query.buyerId) filter.buyerId = query.buyerId;
      if (query.vendorId) filter.vendorId = query.vendorId;
      return list(filter, query);
    },

    /** An admin cancels any order not yet delivered, with a reason (the history records the admin). */
    async cancelByAdmin(orderId: string, actorId: string, reason: string): Promise<OrderView> {
      const order = await load(orderId);
      if (!order) throw offersErrors.orderNotFound();
      return move(order, 'cancel', actorId, { version: order.version, reason }, 'admin');
    },

    /**
     * A carrier's event: stored once in the order's shipment timeline (by event id, in carrier-time
     * order, the summary from the latest), and in_transit / out_for_delivery → shipped, delivered →
     * delivered when that is forward. Never moves an order backwards or out of cancelled/completed;
     * 'ignored' for a repeat, an unknown order, or an event older than all a full timeline keeps.
     * Runs as one guarded write (the order's lock and a version claim), like every order step.
     */
    async applyShipmentUpdate(update: ShipmentUpdate): Promise<'processed' | 'ignored'> {
      const id = parseObjectId(update.orderId);
      const target = CARRIER_TARGET[update.status];
      if (!id) return 'ignored';
      const result = await guarded.run(
        id,
        (current) => {
          const now = clock();
          const at = new Date(update.at);
          const stamp = Number.isNaN(at.getTime()) ? now : at;
          const carrierStatus = update.carrierStatus ?? update.status;
          const event: ShipmentEvent = {
            eventId: update.eventId ?? `${carrierStatus}@${stamp.toISOString()}`,
            status: carrierStatus,
            carrier: update.carrier,
            trackingNumber: update.trackingNumber,
            location: update.location ?? null,
            at: stamp.toISOString(),
            receivedAt: now.toISOString(),
          };
          const shipment = withShipmentEvent(current.shipment, event);
          if (!shipment) return null;
          const moves = target !== null && current.status !== 'cancelled' && ORDER_RANK[target] > ORDER_RANK[current.status];
          return {
            action: moves ? `carrier:${update.status}` : 'carrier:event',
            actorId: null,
            set: moves ? { status: target, shipment } : { shipment },
            ...(moves ? { push: { field: 'history', value: entry(current.status, target, null, 'logistics', null, stamp) } } : {}),
          };
        },
        () => errors.serviceUnavailable('The order is being updated, try again shortly'),
      );
      if (!result?.step) return 'ignored';
      if (result.after.status !== result.before.status) announced(result.before, result.after, null, null);
      else announce.order(result.after);
      return 'processed';
    },
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;

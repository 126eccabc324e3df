import { CARRIER_STATUSES, type CarrierStatus, type InboxEvent, type ShipmentUpdate, type ShipmentsPort, type WebhookHandler } from './webhooks.types';

const NORMALISED: Record<CarrierStatus, ShipmentUpdate['status']> = {
  created: 'in_transit',
  picked_up: 'in_transit',
  in_transit: 'in_transit',
  out_for_delivery: 'out_for_delivery',
  delivered: 'delivered',
  failed: 'exception',
  returned: 'exception',
};

const text = (value: unknown, max: number): string | null =>
  typeof value === 'string' && value.trim().length > 0 && value.length <= max ? value.trim() : null;

/**
 * A carrier's Standard Webhooks body: `{ type: "shipment.<status>", timestamp, data: { orderId,
 * carrier, trackingNumber, status, location?, occurredAt, eventId? } }` (docs/openapi/webhooks.yaml), as the
 * update the offers module applies, or why it is not one (retrying cannot fix that).
 */
export function toShipmentUpdate(event: InboxEvent): ShipmentUpdate | string {
  const body = event.payload as { data?: unknown };
  const data = body && typeof body.data === 'object' && body.data !== null ? (body.data as Record<string, unknown>) : null;
  if (!data) return 'The body has no data object';
  const orderId = text(data.orderId, 100);
  const carrier = text(data.carrier, 100);
  const trackingNumber = text(data.trackingNumber, 100);
  const status = typeof data.status === 'string' && (CARRIER_STATUSES as readonly string[]).includes(data.status) ? (data.status as CarrierStatus) : null;
  const at = typeof data.occurredAt === 'string' ? new Date(data.occurredAt) : null;
  if (!orderId || !carrier || !trackingNumber) return 'orderId, carrier and trackingNumber are required';
  if (!status) return `status must be one of ${CARRIER_STATUSES.join(', ')}`;
  if (!at || Number.isNaN(at.getTime())) return 'occurredAt must be an ISO 8601 time';
  return {
    orderId,
    status: NORMALISED[status],
    carrier,
    trackingNumber,
    at: at.toISOString(),
    carrierStatus: status,
    location: text(data.location, 200),
    // The carrier's own event id when it sends one (a carrier may re-send an event under a new delivery id), else the delivery's.
    eventId: text(data.eventId, 200) ?? event.eventId,
  };
}

/** The built-in handler for provider 'logistics': normalise, then hand the update to the offers module's port. */
export function createLogisticsHandler(shipments: ShipmentsPort): WebhookHandler {
  return async (event) => {
    const update = toShipmentUpdate(event);
    if (typeof update === 'string') return { outcome: 'ignored', note: `Not a shipment update: ${update}` };
    const applied = await shipments.applyShipmentUpdate(update);
    return applied === 'processed' ? { outcome: 'processed' } : { outcome: 'ignored', note: 'The order did not take this update' };
  };
}

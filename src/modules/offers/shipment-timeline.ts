import { SHIPMENT_TIMELINE_MAX, type Shipment, type ShipmentEvent } from './orders.model';

const timeOf = (event: ShipmentEvent) => Date.parse(event.at);

/** Carrier time first; arrival and then the event id only break ties, so the order is the same on every replay. */
function byCarrierTime(a: ShipmentEvent, b: ShipmentEvent): number {
  return timeOf(a) - timeOf(b) || a.receivedAt.localeCompare(b.receivedAt) || a.eventId.localeCompare(b.eventId);
}

/**
 * The shipment with one more carrier event: stored once per event id, kept in carrier-time order
 * (an event arriving late lands where it happened), bounded to the latest SHIPMENT_TIMELINE_MAX,
 * and the summary taken from the latest event by carrier time, so a late arrival never rewinds it.
 * Null when nothing changes: a duplicate, or an event older than everything a full timeline keeps.
 */
export function withShipmentEvent(shipment: Shipment, event: ShipmentEvent): Shipment | null {
  const timeline = shipment.timeline ?? [];
  if (timeline.some((known) => known.eventId === event.eventId)) return null;
  const merged = [...timeline, event].sort(byCarrierTime).slice(-SHIPMENT_TIMELINE_MAX);
  if (!merged.includes(event)) return null;
  const latest = merged[merged.length - 1] as ShipmentEvent;
  return {
    carrier: latest.carrier,
    trackingNumber: latest.trackingNumber ?? shipment.trackingNumber,
    lastStatus: latest.status,
    lastUpdateAt: latest.at,
    lastLocation: latest.location,
    timeline: merged,
  };
}

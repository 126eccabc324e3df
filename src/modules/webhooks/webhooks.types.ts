import type { Provider, WebhookStatus } from './webhooks.model';

/** The inbox's contract types, re-exported by index.ts (kept here so internal files need not import index.ts). */
export type WebhookProvider = Provider;

export interface InboxEvent {
  /** The inbox's own id (also the processing job's key). */
  id: string;
  provider: WebhookProvider;
  /** The provider's id for the event: Stripe's evt_…, X-Razorpay-Event-Id, `<mihpayid>:<status>` (PayU), `<MessageSid>:<status>` (Twilio), webhook-id (Standard Webhooks). */
  eventId: string;
  type: string;
  receivedAt: string;
  /** Handler runs so far, this one excluded. */
  attempts: number;
  /** The verified, parsed body: Stripe's event object, Razorpay's JSON, PayU's or Twilio's form fields as an object of strings, the Standard Webhooks JSON. */
  payload: unknown;
  /** The provider's own time for the event when its payload carries one. */
  occurredAt: string | null;
}

export interface WebhookOutcome {
  outcome: 'processed' | 'ignored';
  note?: string;
}

/** Throwing means "retry with backoff"; after the last attempt the event is failed (and 'webhook.failed' is published). Must be idempotent: a replay runs it again. */
export type WebhookHandler = (event: InboxEvent) => Promise<WebhookOutcome>;

export interface WebhookHandlers {
  /**
   * One handler per provider (it dispatches on `event.type`); a second registration for a provider
   * throws. With `types`, events of any other type are stored and marked ignored without calling it.
   */
  register(provider: WebhookProvider, handler: WebhookHandler, options?: { types?: readonly string[] }): void;
}

// ---- admin contract (mounted by the admin module under /api/admin/webhooks) ----------------------

export interface WebhookEventListQuery {
  provider?: WebhookProvider;
  type?: string;
  outcome?: WebhookStatus;
  /** ISO times bounding receivedAt: from inclusive, to exclusive. */
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

export interface WebhookAttemptView {
  at: string;
  by: 'job' | 'replay';
  result: 'processed' | 'ignored' | 'error';
  note: string | null;
  durationMs: number;
}

export interface WebhookEventSummary {
  id: string;
  provider: WebhookProvider;
  eventId: string;
  type: string;
  receivedAt: string;
  occurredAt: string | null;
  /** pending (waiting for or between attempts), processed, ignored (no handler, or the handler said so), failed (attempts spent). */
  outcome: WebhookStatus;
  note: string | null;
  attempts: number;
  settledAt: string | null;
}

export interface WebhookEventDetail extends WebhookEventSummary {
  verification: string;
  headers: Record<string, string>;
  payload: unknown;
  attemptLog: WebhookAttemptView[];
}

export interface WebhookEventPage {
  data: WebhookEventSummary[];
  page: { nextCursor: string | null; limit: number };
}

export interface WebhooksAdmin {
  /** Newest first; VALIDATION_FAILED on a bad cursor or dates. */
  list(query: WebhookEventListQuery): Promise<WebhookEventPage>;
  /** NOT_FOUND for an unknown or malformed id. */
  get(id: string): Promise<WebhookEventDetail>;
  /** Runs the handler again now, whatever the outcome so far, and records the run; answers the event as it ends. */
  replay(id: string): Promise<WebhookEventDetail>;
}

// ---- ports the inbox calls (implemented by other modules, wired by the composition root) -------

/** A carrier's tracking event, normalised. */
export interface ShipmentUpdate {
  orderId: string;
  status: 'in_transit' | 'out_for_delivery' | 'delivered' | 'exception';
  carrier: string;
  trackingNumber: string;
  /** The carrier's time for the event (ISO): order the timeline by it, never by arrival. */
  at: string;
  /** The carrier's own status: created, picked_up, in_transit, out_for_delivery, delivered, failed, returned. */
  carrierStatus: CarrierStatus;
  location: string | null;
  /** The carrier's event id (`data.eventId`) when sent, else the delivery's webhook-id: the order's timeline stores each once. */
  eventId: string;
}

export const CARRIER_STATUSES = ['created', 'picked_up', 'in_transit', 'out_for_delivery', 'delivered', 'failed', 'returned'] as const;
export type CarrierStatus = (typeof CARRIER_STATUSES)[number];

/** The offers module's side: apply one update to the order's shipment timeline (idempotent on eventId). */
export interface ShipmentsPort {
  applyShipmentUpdate(update: ShipmentUpdate): Promise<'processed' | 'ignored'>;
}

/** An AI provider's callback, normalised. */
export interface AiTaskResult {
  /** The id the server gave the provider when it started the task. */
  correlationId: string;
  task: string;
  status: 'succeeded' | 'failed';
  output: unknown;
  error: string | null;
  at: string;
  eventId: string;
}

/** Whoever started the AI task: match the result to it; 'ignored' for an unknown or finished task. */
export interface AiTasksPort {
  applyAiResult(result: AiTaskResult): Promise<'processed' | 'ignored'>;
}

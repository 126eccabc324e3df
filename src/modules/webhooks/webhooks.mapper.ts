import { parseForm } from './verifiers/types';
import type { WebhookEventDoc } from './webhooks.model';
import type { InboxEvent, WebhookEventDetail, WebhookEventSummary } from './webhooks.types';

const FORM_PROVIDERS = new Set(['payu', 'twilio']);

/** The stored raw body as handlers see it: parsed JSON, or form fields as an object of strings. */
export function parsePayload(doc: Pick<WebhookEventDoc, 'provider' | 'body'>): unknown {
  return FORM_PROVIDERS.has(doc.provider) ? parseForm(doc.body) : (JSON.parse(doc.body) as unknown);
}

export function toInboxEvent(doc: WebhookEventDoc): InboxEvent {
  return {
    id: doc._id.toHexString(),
    provider: doc.provider,
    eventId: doc.eventId,
    type: doc.type,
    receivedAt: doc.receivedAt.toISOString(),
    attempts: doc.attempts,
    payload: parsePayload(doc),
    occurredAt: doc.occurredAt ? doc.occurredAt.toISOString() : null,
  };
}

export function toEventSummary(doc: WebhookEventDoc): WebhookEventSummary {
  return {
    id: doc._id.toHexString(),
    provider: doc.provider,
    eventId: doc.eventId,
    type: doc.type,
    receivedAt: doc.receivedAt.toISOString(),
    occurredAt: doc.occurredAt ? doc.occurredAt.toISOString() : null,
    outcome: doc.status,
    note: doc.note ?? null,
    attempts: doc.attempts,
    settledAt: doc.settledAt ? doc.settledAt.toISOString() : null,
  };
}

export function toEventDetail(doc: WebhookEventDoc): WebhookEventDetail {
  return {
    ...toEventSummary(doc),
    verification: doc.verification,
    headers: { ...(doc.headers ?? {}) },
    payload: parsePayload(doc),
    attemptLog: (doc.attemptLog ?? []).map((a) => ({
      at: a.at.toISOString(),
      by: a.by,
      result: a.result,
      note: a.note ?? null,
      durationMs: a.durationMs,
    })),
  };
}

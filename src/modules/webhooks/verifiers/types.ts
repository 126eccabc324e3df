import type { IncomingHttpHeaders } from 'node:http';
import { WebhookRefusal } from '../webhooks.errors';

/** What a provider posted, before anything trusted it. */
export interface RawDelivery {
  body: Buffer;
  /** The body as text (checked to be UTF-8 without NUL bytes before any verifier runs). */
  text: string;
  headers: IncomingHttpHeaders;
  /** Path and query as received (Twilio signs the full public URL). */
  originalUrl: string;
  now: Date;
}

/** A delivery whose signature holds: what the inbox stores. */
export interface VerifiedDelivery {
  eventId: string;
  type: string;
  /** The parsed body handed to handlers: JSON for Stripe, Razorpay and Standard Webhooks; form fields for PayU and Twilio. */
  payload: unknown;
  /** The provider's own time for the event, when its payload carries one. */
  occurredAt: string | null;
  /** Headers worth keeping for an admin (never a signature). */
  headers: Record<string, string>;
}

/** Verifies one provider's scheme; throws WebhookRefusal. Built only when the provider is configured. */
export type Verifier = (delivery: RawDelivery) => VerifiedDelivery;

export const MAX_EVENT_ID = 255;
export const MAX_TYPE = 200;

export function header(delivery: RawDelivery, name: string): string | null {
  const value = delivery.headers[name];
  if (typeof value !== 'string' || value.length === 0) return null;
  return value;
}

export function requireHeader(delivery: RawDelivery, name: string): string {
  const value = header(delivery, name);
  if (value === null) throw new WebhookRefusal('signature', `The ${name} header is missing`);
  return value;
}

export function checkIdAndType(eventId: unknown, type: unknown): { eventId: string; type: string } {
  if (typeof eventId !== 'string' || eventId.length === 0 || eventId.length > MAX_EVENT_ID) {
    throw new WebhookRefusal('malformed', 'The event has no usable id');
  }
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE) {
    throw new WebhookRefusal('malformed', 'The event has no usable type');
  }
  return { eventId, type };
}

export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WebhookRefusal('malformed', 'The body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new WebhookRefusal('malformed', 'The body is not a JSON object');
  return value as Record<string, unknown>;
}

/** An application/x-www-form-urlencoded body as an object of strings; a repeated field is refused. */
export function parseForm(text: string): Record<string, string> {
  const entries = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(text)) {
    if (entries.has(key)) throw new WebhookRefusal('malformed', `The form field ${key} is repeated`);
    entries.set(key, value);
  }
  return Object.fromEntries(entries);
}

export function pickHeaders(delivery: RawDelivery, names: string[]): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of ['content-type', 'user-agent', ...names]) {
    const value = header(delivery, name);
    if (value !== null) kept[name] = value.slice(0, 500);
  }
  return kept;
}

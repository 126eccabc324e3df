import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRefusal } from '../webhooks.errors';
import { checkIdAndType, parseJsonObject, pickHeaders, requireHeader, type RawDelivery, type Verifier } from './types';

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-signature` holds space-separated `v1,<base64
 * HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">`; secrets are `whsec_<base64 key>`.
 * The scheme (a dozen lines of HMAC) is written here rather than taken from the `standardwebhooks`
 * package because the package checks the timestamp against the real clock with a fixed tolerance,
 * and the inbox judges staleness on the app's injected clock with a configured one. The package is a
 * dev dependency: tests/webhooks/standard-webhooks-compat.test.ts signs with it and verifies with
 * this, and the other way round.
 * Every configured secret verifies, so a provider can rotate without downtime, and a timestamp
 * outside the tolerance is refused, so a captured delivery cannot be replayed later.
 */
export function decodeSecret(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', decodeSecret(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

function verifySignature(delivery: RawDelivery, keys: Buffer[], id: string, timestamp: string, signatures: string): boolean {
  const candidates = signatures
    .split(' ')
    .map((part) => part.split(','))
    .filter(([version, value]) => version === 'v1' && value)
    .map(([, value]) => Buffer.from(value as string, 'utf8'));
  for (const key of keys) {
    const hmac = createHmac('sha256', key);
    hmac.update(`${id}.${timestamp}.`);
    hmac.update(delivery.body);
    const expected = Buffer.from(hmac.digest('base64'), 'utf8');
    if (candidates.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) return true;
  }
  return false;
}

export function standardWebhooksVerifier(secrets: string[], toleranceSeconds: number): Verifier {
  const keys = secrets.map(decodeSecret);
  return (delivery) => {
    const id = requireHeader(delivery, 'webhook-id');
    const timestamp = requireHeader(delivery, 'webhook-timestamp');
    const signatures = requireHeader(delivery, 'webhook-signature');
    if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookRefusal('signature', 'The webhook-timestamp is not a number of seconds');
    if (!verifySignature(delivery, keys, id, timestamp, signatures)) throw new WebhookRefusal('signature', 'The webhook-signature does not match');
    const age = Math.floor(delivery.now.getTime() / 1000) - Number(timestamp);
    if (Math.abs(age) > toleranceSeconds) throw new WebhookRefusal('stale', 'The webhook-timestamp is outside the tolerance window');
    const body = parseJsonObject(delivery.text);
    const checked = checkIdAndType(id, body.type);
    const at = typeof body.timestamp === 'string' ? new Date(body.timestamp) : null;
    return {
      ...checked,
      payload: body,
      occurredAt: at && !Number.isNaN(at.getTime()) ? at.toISOString() : null,
      headers: pickHeaders(delivery, ['webhook-id', 'webhook-timestamp']),
    };
  };
}

import { validateWebhookSignature } from 'razorpay/dist/utils/razorpay-utils';
import { WebhookRefusal } from '../webhooks.errors';
import { checkIdAndType, parseJsonObject, pickHeaders, requireHeader, type Verifier } from './types';

/**
 * X-Razorpay-Signature through the SDK's validateWebhookSignature (HMAC-SHA256 of the raw body).
 * The event id is X-Razorpay-Event-Id, the same on each of Razorpay's retries. Razorpay signs no
 * timestamp and retries for up to a day with the same body, so there is no freshness window here:
 * a replayed delivery is stopped by the (provider, event id) dedupe, and handlers stay idempotent
 * on the payment's own id.
 */
export function razorpayVerifier(secret: string): Verifier {
  return (delivery) => {
    const signature = requireHeader(delivery, 'x-razorpay-signature');
    const headerId = requireHeader(delivery, 'x-razorpay-event-id');
    let valid: boolean;
    try {
      valid = validateWebhookSignature(delivery.text, signature, secret);
    } catch {
      valid = false;
    }
    if (!valid) throw new WebhookRefusal('signature', 'The X-Razorpay-Signature does not match the body');
    const body = parseJsonObject(delivery.text);
    const { eventId, type } = checkIdAndType(headerId, body.event);
    const created = typeof body.created_at === 'number' && Number.isFinite(body.created_at) ? new Date(body.created_at * 1000) : null;
    return {
      eventId,
      type,
      payload: body,
      occurredAt: created && !Number.isNaN(created.getTime()) ? created.toISOString() : null,
      headers: pickHeaders(delivery, ['x-razorpay-event-id']),
    };
  };
}

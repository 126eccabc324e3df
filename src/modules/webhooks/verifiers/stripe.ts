import Stripe from 'stripe';
import { WebhookRefusal } from '../webhooks.errors';
import { checkIdAndType, pickHeaders, requireHeader, type Verifier } from './types';

/**
 * Stripe-Signature through the SDK's constructEvent: HMAC-SHA256 of `<t>.<raw body>` with the
 * endpoint secret, any of the `v1` signatures, and the timestamp within the tolerance of our clock.
 */
export function stripeVerifier(secret: string, toleranceSeconds: number): Verifier {
  return (delivery) => {
    const signature = requireHeader(delivery, 'stripe-signature');
    let event: { id?: unknown; type?: unknown; created?: unknown };
    try {
      event = Stripe.webhooks.constructEvent(delivery.body, signature, secret, toleranceSeconds, undefined, delivery.now.getTime()) as typeof event;
    } catch (err) {
      if (err instanceof SyntaxError) throw new WebhookRefusal('malformed', 'The body is not valid JSON');
      const message = err instanceof Error ? err.message : '';
      if (/tolerance/i.test(message)) throw new WebhookRefusal('stale', 'The signature timestamp is outside the tolerance window');
      throw new WebhookRefusal('signature', 'The Stripe-Signature does not match the body');
    }
    if (!event || typeof event !== 'object' || Array.isArray(event)) throw new WebhookRefusal('malformed', 'The body is not a Stripe event');
    const { eventId, type } = checkIdAndType(event.id, event.type);
    const created = typeof event.created === 'number' && Number.isFinite(event.created) ? new Date(event.created * 1000) : null;
    return {
      eventId,
      type,
      payload: event,
      occurredAt: created && !Number.isNaN(created.getTime()) ? created.toISOString() : null,
      headers: pickHeaders(delivery, []),
    };
  };
}

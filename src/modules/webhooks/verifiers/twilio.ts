import twilio from 'twilio';
import { WebhookRefusal } from '../webhooks.errors';
import { checkIdAndType, parseForm, pickHeaders, requireHeader, type Verifier } from './types';

/**
 * X-Twilio-Signature through the SDK's validateRequest: HMAC-SHA1 of the public URL Twilio called
 * plus the sorted form fields. Behind a proxy the app does not see that URL, so it is rebuilt from
 * PUBLIC_BASE_URL and the path and query as received. One message sends several status callbacks
 * (queued, sent, delivered…), so the event is the message's sid and its status.
 */
export function twilioVerifier(authToken: string, publicBaseUrl: string): Verifier {
  const base = publicBaseUrl.replace(/\/+$/, '');
  return (delivery) => {
    const signature = requireHeader(delivery, 'x-twilio-signature');
    const fields = parseForm(delivery.text);
    let valid: boolean;
    try {
      valid = twilio.validateRequest(authToken, signature, `${base}${delivery.originalUrl}`, fields);
    } catch {
      valid = false;
    }
    if (!valid) throw new WebhookRefusal('signature', 'The X-Twilio-Signature does not match the request');
    const sid = fields.MessageSid ?? fields.SmsSid ?? fields.CallSid;
    const status = fields.MessageStatus ?? fields.SmsStatus ?? fields.CallStatus ?? 'received';
    const { eventId, type } = checkIdAndType(sid ? `${sid}:${status}` : undefined, `message.${status}`);
    return { eventId, type, payload: fields, occurredAt: null, headers: pickHeaders(delivery, ['i-twilio-idempotency-token']) };
  };
}

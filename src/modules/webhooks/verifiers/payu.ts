import { createHash, timingSafeEqual } from 'node:crypto';
import { WebhookRefusal } from '../webhooks.errors';
import { checkIdAndType, parseForm, pickHeaders, type Verifier } from './types';

/**
 * PayU's response ("reverse") hash, as PayU publishes it:
 *   sha512([additionalCharges|]SALT|status|udf10|udf9|udf8|udf7|udf6|udf5|udf4|udf3|udf2|udf1|email|firstname|productinfo|amount|txnid|key)
 * (with udf6..udf10 empty this is the familiar `SALT|status||||||udf5|…`), compared in constant time.
 */
export function payuReverseHash(fields: Record<string, string>, salt: string): string {
  const f = (name: string) => fields[name] ?? '';
  const additional = fields.additionalCharges ?? fields.additional_charges;
  const parts = [
    ...(additional ? [additional] : []),
    salt,
    f('status'),
    f('udf10'), f('udf9'), f('udf8'), f('udf7'), f('udf6'),
    f('udf5'), f('udf4'), f('udf3'), f('udf2'), f('udf1'),
    f('email'),
    f('firstname'),
    f('productinfo'),
    f('amount'),
    f('txnid'),
    f('key'),
  ];
  return createHash('sha512').update(parts.join('|')).digest('hex');
}

/** PayU posts its transaction callback as form fields; the event is one status of one payment. */
export function payuVerifier(merchantKey: string, salt: string): Verifier {
  return (delivery) => {
    const fields = parseForm(delivery.text);
    const presented = (fields.hash ?? '').toLowerCase();
    const expected = payuReverseHash(fields, salt);
    const a = Buffer.from(presented, 'utf8');
    const b = Buffer.from(expected, 'utf8');
    const matches = a.length === b.length && timingSafeEqual(a, b);
    if (!matches || fields.key !== merchantKey) throw new WebhookRefusal('signature', 'The PayU hash does not match the fields');
    if (!fields.txnid || !fields.status) throw new WebhookRefusal('malformed', 'The callback has no txnid or status');
    const reference = fields.mihpayid || fields.txnid;
    const { eventId, type } = checkIdAndType(`${reference}:${fields.status}`, `payment.${fields.status}`);
    return { eventId, type, payload: fields, occurredAt: null, headers: pickHeaders(delivery, []) };
  };
}

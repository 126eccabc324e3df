import { Webhook } from 'standardwebhooks';
import { signStandardWebhook, standardWebhooksVerifier } from '../../src/modules/webhooks/verifiers/standard-webhooks';
import type { RawDelivery } from '../../src/modules/webhooks/verifiers/types';

/**
 * Our Standard Webhooks verifier is written against the specification (it takes the app's clock,
 * which the package cannot); this checks it against the reference package both ways.
 */
describe('Standard Webhooks: compatible with the standardwebhooks package', () => {
  const secret = `whsec_${Buffer.from('a-32-byte-secret-for-the-compat!').toString('base64')}`;
  const other = `whsec_${Buffer.from('another-secret-that-is-32-bytes!').toString('base64')}`;
  const at = new Date('2026-12-01T10:00:00Z');
  const body = JSON.stringify({ type: 'shipment.updated', timestamp: at.toISOString(), data: { orderId: 'o1' } });

  const delivery = (headers: Record<string, string>, text = body, now = at): RawDelivery => ({
    body: Buffer.from(text),
    text,
    headers,
    originalUrl: '/api/webhooks/logistics',
    now,
  });

  it('accepts a delivery signed by the package, with any of the active secrets', () => {
    const signature = new Webhook(secret).sign('msg_1', at, body);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(at.getTime() / 1000), 'webhook-signature': signature };
    expect(standardWebhooksVerifier([other, secret], 300)(delivery(headers))).toMatchObject({ eventId: 'msg_1', type: 'shipment.updated' });
  });

  it('refuses the package-signed delivery with a tampered body, a wrong secret or a stale timestamp', () => {
    const signature = new Webhook(secret).sign('msg_2', at, body);
    const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(at.getTime() / 1000), 'webhook-signature': signature };
    expect(() => standardWebhooksVerifier([secret], 300)(delivery(headers, body.replace('o1', 'o2')))).toThrow(/does not match/);
    expect(() => standardWebhooksVerifier([other], 300)(delivery(headers))).toThrow(/does not match/);
    expect(() => standardWebhooksVerifier([secret], 300)(delivery(headers, body, new Date(at.getTime() + 301_000)))).toThrow(/tolerance/);
  });

  it('signs what the package verifies', () => {
    const now = new Date();
    const seconds = Math.floor(now.getTime() / 1000);
    const headers = { 'webhook-id': 'msg_3', 'webhook-timestamp': String(seconds), 'webhook-signature': signStandardWebhook(secret, 'msg_3', seconds, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
  });
});

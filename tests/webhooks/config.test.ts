import { EnvReader } from '../../src/platform/config';
import { readWebhooksConfig } from '../../src/modules/webhooks';
import { payuReverseHash } from '../../src/modules/webhooks/verifiers/payu';
import { signStandardWebhook } from '../../src/modules/webhooks/verifiers/standard-webhooks';
import { createHash, createHmac } from 'node:crypto';

function read(env: Record<string, string>) {
  const reader = new EnvReader(env);
  return { config: readWebhooksConfig(reader), problems: reader.problems };
}

describe('webhooks configuration', () => {
  it('switches every provider off by default, with the documented defaults', () => {
    const { config, problems } = read({});
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      stripe: { secret: null, toleranceSeconds: 300 },
      razorpay: { secret: null },
      payu: { merchantKey: null, merchantSalt: null },
      twilio: { authToken: null, publicBaseUrl: null },
      logistics: { secrets: [] },
      ai: { secrets: [], providerUrl: null },
      retry: { attempts: 8, baseDelayMs: 2_000, maxDelayMs: 600_000 },
      bodyLimitBytes: 524_288,
    });
  });

  it('lists the current and previous Standard Webhooks secrets, current first', () => {
    const a = `whsec_${Buffer.from('a'.repeat(24)).toString('base64')}`;
    const b = `whsec_${Buffer.from('b'.repeat(24)).toString('base64')}`;
    const { config, problems } = read({ LOGISTICS_WEBHOOK_SECRET: a, LOGISTICS_WEBHOOK_PREVIOUS_SECRETS: ` ${b} ,` });
    expect(problems).toEqual([]);
    expect(config.logistics.secrets).toEqual([a, b]);
  });

  it('names every problem: a short secret, PayU key without salt, Twilio without a public URL, a bad number', () => {
    const { problems } = read({
      AI_WEBHOOK_SECRET: 'whsec_c2hvcnQ=',
      PAYU_MERCHANT_KEY: 'key',
      TWILIO_AUTH_TOKEN: 'token',
      WEBHOOK_JOB_ATTEMPTS: '0',
      PUBLIC_BASE_URL: '',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AI_WEBHOOK_SECRET/),
        expect.stringMatching(/PAYU_MERCHANT_KEY and PAYU_MERCHANT_SALT/),
        expect.stringMatching(/PUBLIC_BASE_URL is required with TWILIO_AUTH_TOKEN/),
        expect.stringMatching(/^WEBHOOK_JOB_ATTEMPTS/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });
});

describe('signature formulas, checked against independent computations', () => {
  it("PayU's reverse hash, with udf6..udf10 and additional charges", () => {
    const fields = { key: 'K', txnid: 't1', amount: '10.00', productinfo: 'p', firstname: 'f', email: 'e@x', status: 'success', udf1: 'u1', udf6: 'u6' };
    const plain = createHash('sha512').update('SALT|success|||||u6|||||u1|e@x|f|p|10.00|t1|K').digest('hex');
    expect(payuReverseHash(fields, 'SALT')).toBe(plain);
    const charged = createHash('sha512').update('5.00|SALT|success|||||u6|||||u1|e@x|f|p|10.00|t1|K').digest('hex');
    expect(payuReverseHash({ ...fields, additionalCharges: '5.00' }, 'SALT')).toBe(charged);
  });

  it('Standard Webhooks: v1, base64 HMAC-SHA256 of id.timestamp.body keyed by the decoded secret', () => {
    const key = Buffer.from('0123456789abcdef0123');
    const secret = `whsec_${key.toString('base64')}`;
    const expected = createHmac('sha256', key).update('msg_1.1700000000.{"a":1}').digest('base64');
    expect(signStandardWebhook(secret, 'msg_1', 1_700_000_000, '{"a":1}')).toBe(`v1,${expected}`);
  });
});

import Stripe from 'stripe';

/**
 * stripe-mock, Stripe's official API mock, started by scripts/services.sh (STRIPE_MOCK_URL, put in
 * the environment by tests/helpers/global-setup.ts). It validates every request against Stripe's
 * OpenAPI spec (401 without a `sk_test_…` key, 400 with Stripe's error shape for a bad parameter)
 * and answers fixtures with the request's scalar parameters reflected (amount, currency). It keeps
 * no state: a retrieve answers the fixture with the id asked for, a list never shows what a create
 * made. Webhooks are not sent.
 */
export function stripeMockUrl(): string {
  const url = process.env.STRIPE_MOCK_URL;
  if (!url) {
    throw new Error('STRIPE_MOCK_URL is not set: run jest (its global setup runs scripts/services.sh up) or eval "$(scripts/services.sh up)"');
  }
  return url;
}

/** The host, port and protocol options of the Stripe SDK's constructor that point it at stripe-mock. */
export function stripeMockConnection(url = stripeMockUrl()): { host: string; port: number; protocol: 'http' | 'https' } {
  const parsed = new URL(url);
  const protocol = parsed.protocol === 'https:' ? 'https' : 'http';
  return { host: parsed.hostname, port: Number(parsed.port || (protocol === 'https' ? 443 : 80)), protocol };
}

/** The real `stripe` SDK talking to stripe-mock; any key of the form sk_test_<no underscore> (or rk_test_…) is accepted. */
export function stripeMockClient(options: { apiKey?: string; url?: string } = {}): Stripe {
  return new Stripe(options.apiKey ?? 'sk_test_stripemock', {
    ...stripeMockConnection(options.url),
    maxNetworkRetries: 0,
    telemetry: false,
  });
}

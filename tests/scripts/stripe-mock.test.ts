import Stripe from 'stripe';
import { stripeMockClient, stripeMockConnection, stripeMockUrl } from '../helpers/stripe-mock';

// The real `stripe` SDK against the stripe-mock that scripts/services.sh started: how a test of
// code that calls Stripe gets a real peer (requests validated against Stripe's spec) without a
// network or an account.
describe('stripe-mock through the stripe SDK', () => {
  const stripe = stripeMockClient();

  it('is reached through the host, port and protocol options of the SDK constructor', () => {
    const url = new URL(stripeMockUrl());
    expect(stripeMockConnection()).toEqual({ host: url.hostname, port: Number(url.port), protocol: 'http' });
  });

  it('creates a PaymentIntent, answering with the amount and currency sent', async () => {
    const intent = await stripe.paymentIntents.create({ amount: 1234, currency: 'eur' });
    expect(intent).toMatchObject({ object: 'payment_intent', amount: 1234, currency: 'eur' });
    expect(intent.id).toMatch(/^pi_/);
    expect(intent.client_secret).toEqual(expect.any(String));
  });

  it('refuses a request Stripe would refuse, with Stripe’s error types', async () => {
    const missingAmount = stripe.paymentIntents.create({ currency: 'eur' } as unknown as Stripe.PaymentIntentCreateParams);
    await expect(missingAmount).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    await expect(missingAmount).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('amount') });

    const liveKey = stripeMockClient({ apiKey: 'sk_live_notatestkey' });
    await expect(liveKey.paymentIntents.create({ amount: 100, currency: 'eur' })).rejects.toBeInstanceOf(
      Stripe.errors.StripeAuthenticationError,
    );
  });
});

import { createHash } from 'node:crypto';
import Razorpay from 'razorpay';
import Stripe from 'stripe';
import type { FinanceConfig } from '../finance.config';
import { financeErrors } from '../finance.errors';
import type { Provider } from '../finance.model';
import { toMajorText } from './money';

export interface CreatePaymentRequest {
  paymentId: string;
  amount: number;
  currency: string;
  description: string;
  payer: { id: string; email: string | null; name: string | null };
}

export interface PaymentProvider {
  name: Provider;
  enabled: boolean;
  /** Creates the provider's object for a payment; idempotent on paymentId. */
  createPayment(request: CreatePaymentRequest): Promise<{ providerRef: string; checkout: Record<string, unknown> }>;
  /** Refunds part of a captured payment; idempotent on refundId. */
  refund(request: { refundId: string; providerRef: string; providerPaymentId: string | null; amount: number; currency: string }): Promise<{ providerRef: string }>;
}

const sha512 = (text: string) => createHash('sha512').update(text, 'utf8').digest('hex');

function stripeProvider(config: FinanceConfig['stripe']): PaymentProvider {
  const url = config.apiUrl ? new URL(config.apiUrl) : null;
  const client = config.secretKey
    ? new Stripe(config.secretKey, {
        maxNetworkRetries: 1,
        timeout: 20_000,
        telemetry: false,
        ...(url ? { host: url.hostname, port: url.port || (url.protocol === 'https:' ? 443 : 80), protocol: url.protocol.replace(':', '') as 'http' | 'https' } : {}),
      })
    : null;
  const need = () => {
    if (!client) throw financeErrors.providerUnavailable('stripe');
    return client;
  };
  return {
    name: 'stripe',
    enabled: client !== null,
    async createPayment(request) {
      const intent = await need().paymentIntents.create(
        { amount: request.amount, currency: request.currency.toLowerCase(), description: request.description, metadata: { paymentId: request.paymentId } },
        { idempotencyKey: `payment:${request.paymentId}` },
      );
      return { providerRef: intent.id, checkout: { paymentIntentId: intent.id, clientSecret: intent.client_secret } };
    },
    async refund(request) {
      const refund = await need().refunds.create(
        { payment_intent: request.providerRef, amount: request.amount, metadata: { refundId: request.refundId } },
        { idempotencyKey: `refund:${request.refundId}` },
      );
      return { providerRef: refund.id };
    },
  };
}

function razorpayProvider(config: FinanceConfig['razorpay']): PaymentProvider {
  const client = config.keyId && config.keySecret ? new Razorpay({ key_id: config.keyId, key_secret: config.keySecret }) : null;
  // The SDK has no host option; its requests go through one axios instance whose base URL we point
  // elsewhere when RAZORPAY_API_URL is set (a local stub in tests, a proxy in production).
  const api = (client as unknown as { api?: { rq?: { defaults: { baseURL?: string } } } } | null)?.api?.rq;
  if (api && config.apiUrl) api.defaults.baseURL = config.apiUrl.replace(/\/$/, '');
  const need = () => {
    if (!client) throw financeErrors.providerUnavailable('razorpay');
    return client;
  };
  return {
    name: 'razorpay',
    enabled: client !== null,
    async createPayment(request) {
      // Razorpay has no idempotency header; `receipt` carries our id and a retry of a stored
      // payment reuses the order it already made (payments.service stores providerRef first).
      const order = await need().orders.create({ amount: request.amount, currency: request.currency, receipt: request.paymentId, notes: { paymentId: request.paymentId } });
      return { providerRef: String(order.id), checkout: { orderId: order.id, keyId: config.keyId, amount: request.amount, currency: request.currency } };
    },
    async refund(request) {
      if (!request.providerPaymentId) throw financeErrors.notRefundable('uncaptured');
      const refund = await need().payments.refund(request.providerPaymentId, { amount: request.amount, receipt: request.refundId, notes: { refundId: request.refundId } });
      return { providerRef: String(refund.id) };
    },
  };
}

/**
 * PayU's hosted checkout: the form parameters and their hash per PayU's published scheme,
 * sha512(key|txnid|amount|productinfo|firstname|email|udf1|…|udf10|salt), posted by the client.
 */
function payuProvider(config: FinanceConfig['payu'], returnUrl: string): PaymentProvider {
  const enabled = Boolean(config.merchantKey && config.merchantSalt);
  const need = () => {
    if (!enabled) throw financeErrors.providerUnavailable('payu');
    return { key: config.merchantKey as string, salt: config.merchantSalt as string };
  };
  return {
    name: 'payu',
    enabled,
    async createPayment(request) {
      const { key, salt } = need();
      const fields = {
        key,
        txnid: request.paymentId,
        amount: toMajorText(request.amount, request.currency),
        productinfo: request.description.slice(0, 100),
        firstname: (request.payer.name ?? 'Buyer').slice(0, 60),
        email: request.payer.email ?? `${request.payer.id}@users.invalid`,
        udf1: request.paymentId,
        surl: returnUrl,
        furl: returnUrl,
      };
      const hash = sha512([fields.key, fields.txnid, fields.amount, fields.productinfo, fields.firstname, fields.email, fields.udf1, '', '', '', '', '', '', '', '', '', salt].join('|'));
      return { providerRef: request.paymentId, checkout: { action: config.paymentUrl, method: 'POST', fields: { ...fields, hash } } };
    },
    async refund(request) {
      const { key, salt } = need();
      if (!request.providerPaymentId) throw financeErrors.notRefundable('uncaptured');
      const command = 'cancel_refund_transaction';
      const form = new URLSearchParams({
        key,
        command,
        var1: request.providerPaymentId,
        var2: request.refundId,
        var3: toMajorText(request.amount, request.currency),
        hash: sha512([key, command, request.providerPaymentId, salt].join('|')),
      });
      const response = await fetch(`${config.apiUrl}/merchant/postservice.php?form=2`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: AbortSignal.timeout(20_000),
      });
      const body = (await response.json().catch(() => null)) as { status?: unknown; request_id?: unknown; msg?: unknown } | null;
      if (!response.ok || !body || Number(body.status) !== 1) throw new Error(`PayU refused the refund: ${String(body?.msg ?? response.status)}`);
      return { providerRef: String(body.request_id ?? request.refundId) };
    },
  };
}

export function createProviders(config: FinanceConfig): Record<Provider, PaymentProvider> {
  return {
    stripe: stripeProvider(config.stripe),
    razorpay: razorpayProvider(config.razorpay),
    payu: payuProvider(config.payu, config.payu.returnUrl),
  };
}

export type Providers = ReturnType<typeof createProviders>;

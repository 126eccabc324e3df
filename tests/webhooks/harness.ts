import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import Stripe from 'stripe';
import twilio from 'twilio';
import { createApp } from '../../src/app';
import { composeConfig, EnvReader } from '../../src/platform/config';
import { closeConnections, openConnections } from '../../src/platform/connections';
import { createLogger } from '../../src/platform/logger';
import type { AppContext } from '../../src/platform/context';
import { createEventBus, type DomainEvents } from '../../src/platform/events';
import { createJobRunner } from '../../src/platform/jobs';
import { createMetrics } from '../../src/platform/metrics';
import { syncIndexes } from '../../src/platform/mongo';
import {
  createWebhooksModule,
  readWebhooksConfig,
  type AiResultSinks,
  type AiTasksPort,
  type NotifyUser,
  type ShipmentsPort,
  type WebhooksModule,
} from '../../src/modules/webhooks';
import { getWebhookEventModel } from '../../src/modules/webhooks/webhooks.model';
import { testEnv } from '../helpers/env';

/**
 * The inbox alone on the real stores (MongoDB and Redis, in a database and key prefix of its own),
 * with its own job runner, bus and metrics, so a test owns its secrets, ports (shipments, AI),
 * clock and retry timings. Mounted through the real createApp, so the raw body arrives exactly as
 * in production (the JSON parser skips /api/webhooks/). tests/webhooks/wiring.test.ts checks the
 * module inside the full server.
 */
export const secrets = {
  stripe: 'whsec_test_stripe_secret_0123456789',
  razorpay: 'razorpay-webhook-secret-0123456789',
  payuKey: 'gtKFFx',
  payuSalt: 'eCwWELxi',
  twilio: 'twilio-auth-token-0123456789abcdef',
  publicBaseUrl: 'https://api.trade.example',
  logistics: `whsec_${Buffer.from('logistics-secret-key-0123456789').toString('base64')}`,
  logisticsOld: `whsec_${Buffer.from('logistics-old-secret-key-98765').toString('base64')}`,
  ai: `whsec_${Buffer.from('ai-provider-secret-key-01234567').toString('base64')}`,
};

export const testSecretsEnv: Record<string, string> = {
  STRIPE_WEBHOOK_SECRET: secrets.stripe,
  RAZORPAY_WEBHOOK_SECRET: secrets.razorpay,
  PAYU_MERCHANT_KEY: secrets.payuKey,
  PAYU_MERCHANT_SALT: secrets.payuSalt,
  TWILIO_AUTH_TOKEN: secrets.twilio,
  PUBLIC_BASE_URL: secrets.publicBaseUrl,
  LOGISTICS_WEBHOOK_SECRET: secrets.logistics,
  LOGISTICS_WEBHOOK_PREVIOUS_SECRETS: secrets.logisticsOld,
  AI_WEBHOOK_SECRET: secrets.ai,
  UPLOAD_SIGNING_SECRET: 'upload-signing-secret-for-tests-0123456789',
  WEBHOOK_JOB_ATTEMPTS: '4',
  WEBHOOK_RETRY_BASE_DELAY_MS: '20',
  WEBHOOK_RETRY_MAX_DELAY_MS: '100',
};

export interface Inbox {
  url: string;
  module: WebhooksModule;
  ctx: AppContext;
  published: Array<DomainEvents['webhook.failed']>;
  events: ReturnType<typeof getWebhookEventModel>;
  // The answer's JSON, read loosely as supertest's res.body is.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  post(path: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; body: any }>;
  metricsText(): Promise<string>;
  close(): Promise<void>;
}

export async function startInbox(
  options: {
    env?: Record<string, string | undefined>;
    shipments?: ShipmentsPort;
    ai?: AiTasksPort;
    aiSinks?: AiResultSinks;
    notifyUser?: NotifyUser;
    clock?: () => Date;
    /** Platform variables on top of the test environment (e.g. REDIS_URL: undefined for the in-process job mode). */
    platformEnv?: Record<string, string | undefined>;
  } = {},
): Promise<Inbox> {
  const id = randomBytes(5).toString('hex');
  const base = testEnv();
  const mongoUri = new URL(base.MONGODB_URI ?? '');
  mongoUri.pathname = `/t_${id}`;
  const platform = composeConfig(
    { ...base, MONGODB_URI: mongoUri.toString(), POSTGRES_URL: undefined, REDIS_KEY_PREFIX: `t:${id}:`, RATE_LIMIT_MAX: '1000000', ...options.platformEnv },
    {},
  );
  const logger = createLogger({ level: platform.logLevel, json: false });
  const connections = await openConnections(platform, logger);
  const clock = options.clock ?? (() => new Date());
  const metrics = createMetrics();
  const bus = createEventBus({ logger, metrics, clock });
  const jobs = createJobRunner({ redisUrl: platform.redis.url, keyPrefix: platform.redis.keyPrefix, logger, metrics, clock });
  const ctx: AppContext = {
    config: platform,
    logger,
    mongo: connections.mongo,
    postgres: null,
    redis: connections.redis,
    metrics,
    events: bus,
    jobs,
    clock,
    startedAt: new Date(),
  };
  const env = { ...testSecretsEnv, ...options.env };
  const read = new EnvReader(env);
  const config = readWebhooksConfig(read);
  if (read.problems.length) throw new Error(read.problems.join('; '));
  const module = createWebhooksModule({
    ctx,
    config,
    shipments: options.shipments,
    ai: options.ai,
    aiSinks: options.aiSinks,
    notifyUser: options.notifyUser,
  });
  await syncIndexes(ctx.mongo);
  const published: Array<DomainEvents['webhook.failed']> = [];
  bus.subscribe('webhook.failed', (payload) => {
    published.push(payload);
  });
  const app = createApp(ctx, { modules: [module], openApiDocument: {} });
  const httpServer = http.createServer(app);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const address = httpServer.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  await jobs.start();
  return {
    url,
    module,
    ctx,
    published,
    events: getWebhookEventModel(ctx.mongo),
    async post(path, body, headers) {
      const res = await fetch(`${url}${path}`, { method: 'POST', body, headers });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Left as text.
      }
      return { status: res.status, body: parsed };
    },
    metricsText: () => metrics.registry.metrics(),
    async close() {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await jobs.close();
      await bus.drain();
      metrics.stop();
      await ctx.mongo.dropDatabase().catch(() => undefined);
      const redis = ctx.redis;
      if (redis) {
        const keys = await redis.keys(`${platform.redis.keyPrefix}*`).catch(() => [] as string[]);
        if (keys.length) await redis.del(...keys).catch(() => undefined);
      }
      await closeConnections(connections, logger);
    },
  };
}

/** Polls until `check` holds: waits for an outcome, never measures one. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// ---- signing, each with the provider's SDK or its published scheme ----------------------------

export function stripeDelivery(event: Record<string, unknown>, options: { secret?: string; timestamp?: number } = {}) {
  const body = JSON.stringify({ object: 'event', created: Math.floor(Date.now() / 1000), ...event });
  const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: options.secret ?? secrets.stripe, timestamp: options.timestamp });
  return { body, headers: { 'Content-Type': 'application/json', 'Stripe-Signature': signature } };
}

export function razorpayDelivery(eventId: string, payload: Record<string, unknown>, options: { secret?: string } = {}) {
  const body = JSON.stringify({ entity: 'event', created_at: Math.floor(Date.now() / 1000), ...payload });
  const signature = createHmac('sha256', options.secret ?? secrets.razorpay).update(body).digest('hex');
  return { body, headers: { 'Content-Type': 'application/json', 'X-Razorpay-Signature': signature, 'X-Razorpay-Event-Id': eventId } };
}

/** PayU's published reverse hash, spelt out here independently of the code under test. */
export function payuDelivery(fields: Record<string, string>, options: { salt?: string } = {}) {
  const f: Record<string, string> = { key: secrets.payuKey, udf1: '', udf2: '', udf3: '', udf4: '', udf5: '', ...fields };
  const hashString = `${options.salt ?? secrets.payuSalt}|${f.status}||||||${f.udf5}|${f.udf4}|${f.udf3}|${f.udf2}|${f.udf1}|${f.email}|${f.firstname}|${f.productinfo}|${f.amount}|${f.txnid}|${f.key}`;
  const hash = createHash('sha512').update(hashString).digest('hex');
  const body = new URLSearchParams({ ...f, hash }).toString();
  const signed: Record<string, string> = { ...f, hash };
  return { body, fields: signed, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
}

export function twilioDelivery(path: string, fields: Record<string, string>, options: { authToken?: string } = {}) {
  const signature = twilio.getExpectedTwilioSignature(options.authToken ?? secrets.twilio, `${secrets.publicBaseUrl}${path}`, fields);
  return { body: new URLSearchParams(fields).toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature } };
}

/** Standard Webhooks, per the specification: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"> with the base64 key after whsec_. */
export function standardDelivery(payload: Record<string, unknown>, options: { id?: string; secret?: string; timestamp?: number } = {}) {
  const body = JSON.stringify(payload);
  const id = options.id ?? `msg_${randomBytes(8).toString('hex')}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const key = Buffer.from((options.secret ?? secrets.logistics).replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { id, body, headers: { 'Content-Type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` } };
}

export const uniqueId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

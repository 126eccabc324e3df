import type { EnvReader } from '../../platform/config';

/**
 * The inbox's settings. A provider whose secret is unset is switched off: its path answers 503
 * PROVIDER_UNAVAILABLE and stores nothing (never "accept unverified").
 */
export interface WebhooksConfig {
  stripe: { secret: string | null; toleranceSeconds: number };
  razorpay: { secret: string | null };
  payu: { merchantKey: string | null; merchantSalt: string | null };
  /** Twilio signs the public URL it called, so the app behind a proxy needs its public base URL. */
  twilio: { authToken: string | null; publicBaseUrl: string | null };
  /** Standard Webhooks providers: every listed secret verifies (the first is current), for rotation without downtime. */
  logistics: { secrets: string[] };
  ai: { secrets: string[]; providerUrl: string | null };
  /** The URL providers call (PUBLIC_BASE_URL): Twilio's signed URL and the AI callback URL are built from it. */
  publicBaseUrl: string | null;
  /** Standard Webhooks timestamps (and Razorpay's created_at) older or newer than this are refused. */
  timestampToleranceSeconds: number;
  /** Bodies over this many bytes are refused (413) before any verification. */
  bodyLimitBytes: number;
  retry: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  concurrency: number;
  /** An event still pending this long after it was stored is enqueued again by the reconciliation. */
  pendingDeadlineMs: number;
  reconcileEveryMs: number;
}

function secrets(read: EnvReader, current: string, previous: string): string[] {
  const list = [read.optionalString(current), ...read.list(previous)].filter((s): s is string => Boolean(s));
  for (const secret of list) {
    const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
    if (key.length < 16) read.problems.push(`${current}/${previous}: each secret must be base64 (optionally prefixed whsec_) of at least 16 bytes`);
  }
  return list;
}

export function readWebhooksConfig(read: EnvReader): WebhooksConfig {
  const publicBaseUrl = read.url('PUBLIC_BASE_URL', ['http:', 'https:'], false);
  const config: WebhooksConfig = {
    stripe: {
      secret: read.optionalString('STRIPE_WEBHOOK_SECRET'),
      toleranceSeconds: read.int('STRIPE_WEBHOOK_TOLERANCE_SECONDS', 300, 1, 3_600),
    },
    razorpay: { secret: read.optionalString('RAZORPAY_WEBHOOK_SECRET') },
    payu: { merchantKey: read.optionalString('PAYU_MERCHANT_KEY'), merchantSalt: read.optionalString('PAYU_MERCHANT_SALT') },
    twilio: {
      authToken: read.optionalString('TWILIO_AUTH_TOKEN'),
      publicBaseUrl,
    },
    logistics: { secrets: secrets(read, 'LOGISTICS_WEBHOOK_SECRET', 'LOGISTICS_WEBHOOK_PREVIOUS_SECRETS') },
    ai: {
      secrets: secrets(read, 'AI_WEBHOOK_SECRET', 'AI_WEBHOOK_PREVIOUS_SECRETS'),
      providerUrl: read.url('AI_PROVIDER_URL', ['http:', 'https:'], false),
    },
    publicBaseUrl,
    timestampToleranceSeconds: read.int('WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS', 300, 1, 86_400),
    bodyLimitBytes: read.int('WEBHOOK_BODY_LIMIT_BYTES', 512 * 1024, 1_024, 10 * 1024 * 1024),
    retry: {
      attempts: read.int('WEBHOOK_JOB_ATTEMPTS', 8, 1, 50),
      baseDelayMs: read.int('WEBHOOK_RETRY_BASE_DELAY_MS', 2_000, 1, 3_600_000),
      maxDelayMs: read.int('WEBHOOK_RETRY_MAX_DELAY_MS', 10 * 60_000, 1, 86_400_000),
    },
    concurrency: read.int('WEBHOOK_JOB_CONCURRENCY', 4, 1, 100),
    pendingDeadlineMs: read.int('WEBHOOK_PENDING_DEADLINE_MS', 15 * 60_000, 1_000, 7 * 86_400_000),
    reconcileEveryMs: read.int('WEBHOOK_RECONCILE_EVERY_MS', 5 * 60_000, 100, 86_400_000),
  };
  if (Boolean(config.payu.merchantKey) !== Boolean(config.payu.merchantSalt)) {
    read.problems.push('PAYU_MERCHANT_KEY and PAYU_MERCHANT_SALT are set together or not at all');
  }
  if (config.twilio.authToken && !config.twilio.publicBaseUrl) {
    read.problems.push('PUBLIC_BASE_URL is required with TWILIO_AUTH_TOKEN (Twilio signs the public URL it calls)');
  }
  if (config.ai.providerUrl && config.ai.secrets.length === 0) {
    read.problems.push('AI_WEBHOOK_SECRET is required with AI_PROVIDER_URL (its callbacks could not be verified)');
  }
  return config;
}

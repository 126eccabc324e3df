import type { EnvReader, PlatformConfig } from '../../platform/config';

/**
 * The notifications module's configuration. A channel whose provider is not configured is not an
 * error: its deliveries are recorded as suppressed with the reason "channel not configured".
 */

export interface NotificationsConfig {
  twilio: {
    accountSid: string | null;
    authToken: string | null;
    from: string | null;
    /** Where Twilio posts delivery status (the webhook inbox's twilio route); default APP_URL + /api/webhooks/twilio. */
    statusCallbackUrl: string;
    /** Another origin for Twilio's REST API (tests: a local stub; the SDK builds every request). */
    apiUrl: string | null;
  };
  fcm: {
    projectId: string | null;
    clientEmail: string | null;
    /** PEM; `\n` escapes in the variable are turned into newlines. */
    privateKey: string | null;
    /** Overridable for tests and emulators. */
    apiUrl: string;
    tokenUrl: string;
  };
  /** Unread chat messages of an offline user become one email after this long (unless read first). */
  digestDelayMs: number;
  /** Attempts per channel send, and the first retry's delay (doubling, capped at 5 minutes). */
  retryAttempts: number;
  retryBaseDelayMs: number;
  /** How often delayed and stuck deliveries are looked for and enqueued again. */
  reconcileEveryMs: number;
  /** Recipients per campaign batch job. */
  campaignBatchSize: number;
}

export function readNotificationsConfig(read: EnvReader, platform: Pick<PlatformConfig, 'mail'>): NotificationsConfig {
  const privateKey = read.optionalString('FCM_PRIVATE_KEY');
  return {
    twilio: {
      accountSid: read.optionalString('TWILIO_ACCOUNT_SID'),
      authToken: read.optionalString('TWILIO_AUTH_TOKEN'),
      from: read.optionalString('TWILIO_FROM'),
      statusCallbackUrl:
        read.url('TWILIO_STATUS_CALLBACK_URL', ['http:', 'https:'], false) ?? `${platform.mail.appUrl.replace(/\/$/, '')}/api/webhooks/twilio`,
      apiUrl: read.url('TWILIO_API_URL', ['http:', 'https:'], false),
    },
    fcm: {
      projectId: read.optionalString('FCM_PROJECT_ID'),
      clientEmail: read.optionalString('FCM_CLIENT_EMAIL'),
      privateKey: privateKey ? privateKey.replace(/\\n/g, '\n') : null,
      apiUrl: read.url('FCM_API_URL', ['http:', 'https:'], false) ?? 'https://fcm.googleapis.com',
      tokenUrl: read.url('FCM_TOKEN_URL', ['http:', 'https:'], false) ?? 'https://oauth2.googleapis.com/token',
    },
    digestDelayMs: read.int('NOTIFICATIONS_DIGEST_DELAY_MS', 15 * 60_000, 1_000, 7 * 86_400_000),
    retryAttempts: read.int('NOTIFICATIONS_RETRY_ATTEMPTS', 5, 1, 20),
    retryBaseDelayMs: read.int('NOTIFICATIONS_RETRY_BASE_DELAY_MS', 2_000, 10, 600_000),
    reconcileEveryMs: read.int('NOTIFICATIONS_RECONCILE_EVERY_MS', 60_000, 1_000, 3_600_000),
    campaignBatchSize: read.int('NOTIFICATIONS_CAMPAIGN_BATCH_SIZE', 500, 1, 10_000),
  };
}

import { generateKeyPairSync } from 'node:crypto';
import type { NotificationsModule, DeliveryView } from '../../src/modules/notifications';
import type { TestServer } from '../helpers/server';
import type { ProviderStub } from './provider-stub';

/** A service account key made for the test: FCM's token endpoint is stubbed, so only its shape matters. */
export const fcmKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

export const TWILIO = { sid: 'AC00000000000000000000000000000001', token: 'twilio-test-auth-token', from: '+15005550006' };

/** Every channel configured: email to `smtpUrl`, SMS and push to Twilio and FCM stand-ins at `stubUrl`. */
export function notificationEnv(smtpUrl: string | undefined, stubUrl: string): Record<string, string | undefined> {
  return {
    TWILIO_API_URL: stubUrl,
    FCM_API_URL: stubUrl,
    FCM_TOKEN_URL: `${stubUrl}/token`,
    RATE_LIMIT_MAX: '100000',
    SMTP_URL: smtpUrl,
    APP_URL: 'https://app.example.test',
    TWILIO_ACCOUNT_SID: TWILIO.sid,
    TWILIO_AUTH_TOKEN: TWILIO.token,
    TWILIO_FROM: TWILIO.from,
    PUBLIC_BASE_URL: 'https://api.example.test',
    FCM_PROJECT_ID: 'trade-test',
    FCM_CLIENT_EMAIL: 'push@trade-test.iam.gserviceaccount.com',
    FCM_PRIVATE_KEY: fcmKey,
    NOTIFICATIONS_RETRY_BASE_DELAY_MS: '50',
    NOTIFICATIONS_RETRY_ATTEMPTS: '3',
    NOTIFICATIONS_DIGEST_DELAY_MS: '60000',
  };
}

export function notificationsOf(app: TestServer): NotificationsModule {
  const found = app.server.modules.find((m) => m.name === 'notifications');
  if (!found) throw new Error('notifications module not mounted');
  return found as NotificationsModule;
}

/** Polls a notification's deliveries until `done` holds (jobs run in the background), or fails naming what it saw. */
export async function waitForDeliveries(
  module: NotificationsModule,
  notificationId: string,
  done: (byChannel: Record<string, DeliveryView>) => boolean,
  timeoutMs = 10_000,
): Promise<Record<string, DeliveryView>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const byChannel = Object.fromEntries((await module.admin.deliveries(notificationId)).map((d) => [d.channel, d]));
    if (done(byChannel)) return byChannel;
    if (Date.now() > deadline) throw new Error(`deliveries never reached the expected state: ${JSON.stringify(byChannel)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const TWILIO_MESSAGES = `/2010-04-01/Accounts/${TWILIO.sid}/Messages.json`;
export const FCM_SEND = '/v1/projects/trade-test/messages:send';

/** FCM's OAuth token endpoint, answering every request. */
export function stubFcmToken(stub: ProviderStub): void {
  stub.always('POST', '/token', { status: 200, body: { access_token: 'ya29.test-token', expires_in: 3600, token_type: 'Bearer' } });
}

export function twilioMessage(sid: string, to: string) {
  return { sid, status: 'queued', to, from: TWILIO.from, account_sid: TWILIO.sid, body: 'x', num_segments: '1', date_created: new Date().toUTCString() };
}

/** The next 18:00 UTC from now: 23:30 in Asia/Kolkata. */
export function msUntilNextUtc(hour: number, minute: number): number {
  const now = new Date();
  const target = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, minute));
  if (target.getTime() <= now.getTime()) target.setUTCDate(target.getUTCDate() + 1);
  return target.getTime() - now.getTime();
}

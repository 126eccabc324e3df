import jwt from 'jsonwebtoken';
import type { DeviceDoc } from '../notifications.model';
import { PermanentChannelError, type ChannelSender } from './types';

export interface FcmSettings {
  projectId: string | null;
  clientEmail: string | null;
  privateKey: string | null;
  apiUrl: string;
  tokenUrl: string;
}

export interface PushDevices {
  list(userId: string): Promise<DeviceDoc[]>;
  /** The provider said this token no longer reaches an app install. */
  remove(token: string): Promise<void>;
}

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/**
 * Push through FCM HTTP v1. The access token comes from the service account by the OAuth 2.0
 * JWT-bearer grant (RFC 7523): an RS256 assertion signed with jsonwebtoken, exchanged at Google's
 * token endpoint and reused until a minute before it expires. (google-auth-library does exactly
 * this; it is not installed here, and this project may not add packages.)
 */
export function createPushChannel(settings: FcmSettings, devices: PushDevices, clock: () => Date): ChannelSender {
  const configured = Boolean(settings.projectId && settings.clientEmail && settings.privateKey);
  let cached: { token: string; expiresAt: number } | null = null;

  async function accessToken(): Promise<string> {
    const now = clock().getTime();
    if (cached && cached.expiresAt - 60_000 > now) return cached.token;
    const iat = Math.floor(now / 1000);
    const assertion = jwt.sign({ iss: settings.clientEmail, scope: SCOPE, aud: settings.tokenUrl, iat, exp: iat + 3600 }, settings.privateKey ?? '', {
      algorithm: 'RS256',
    });
    const res = await fetch(settings.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
    });
    if (!res.ok) {
      if (res.status === 400 || res.status === 401) throw new PermanentChannelError(`FCM credentials were refused (${res.status})`);
      throw new Error(`FCM token endpoint answered ${res.status}`);
    }
    const body = (await res.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new Error('FCM token endpoint answered without an access token');
    cached = { token: body.access_token, expiresAt: now + (body.expires_in ?? 3600) * 1000 };
    return cached.token;
  }

  /** FCM's error detail code, e.g. UNREGISTERED or INVALID_ARGUMENT. */
  function errorCode(body: unknown): string | null {
    const details = (body as { error?: { details?: Array<{ errorCode?: string }>; status?: string } } | null)?.error;
    return details?.details?.find((d) => d.errorCode)?.errorCode ?? details?.status ?? null;
  }

  return {
    channel: 'push',
    configured,
    async send({ notification, recipient }) {
      if (!configured) return { status: 'suppressed', reason: 'channel not configured' };
      const tokens = await devices.list(recipient.userId);
      if (tokens.length === 0) return { status: 'suppressed', reason: 'no device registered' };
      const bearer = await accessToken();
      const data = { ...notification.data, notificationId: String(notification._id), category: notification.category };
      const names: string[] = [];
      let removed = 0;
      let retryable: string | null = null;
      for (const device of tokens) {
        const res = await fetch(`${settings.apiUrl.replace(/\/$/, '')}/v1/projects/${encodeURIComponent(settings.projectId ?? '')}/messages:send`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            message: {
              token: device._id,
              notification: { title: notification.title, body: notification.body },
              data,
              android: { priority: notification.priority === 'critical' ? 'high' : 'normal' },
              apns: { headers: { 'apns-priority': notification.priority === 'critical' ? '10' : '5' } },
            },
          }),
        });
        const body = (await res.json().catch(() => null)) as { name?: string } | null;
        if (res.ok) {
          if (body?.name) names.push(body.name);
          continue;
        }
        const code = errorCode(body);
        if (res.status === 404 || code === 'UNREGISTERED') {
          await devices.remove(device._id);
          removed += 1;
        } else if (res.status === 429 || res.status >= 500) {
          retryable = `FCM answered ${res.status}${code ? ` (${code})` : ''}`;
        } else if (res.status === 401) {
          cached = null;
          retryable = 'FCM refused the access token';
        }
        // Other 4xx (INVALID_ARGUMENT for one token) leave that device out of this send.
      }
      if (names.length > 0) return { status: 'sent', providerId: names.join(','), reason: removed ? `${removed} unregistered token(s) removed` : null };
      if (retryable) throw new Error(retryable);
      if (removed === tokens.length) return { status: 'suppressed', reason: 'no device registered (unregistered tokens removed)' };
      throw new PermanentChannelError('FCM refused the message for every device');
    },
  };
}

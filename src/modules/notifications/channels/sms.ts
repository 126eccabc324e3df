import twilio from 'twilio';
import { PermanentChannelError, type ChannelSender } from './types';

export interface SmsSettings {
  accountSid: string | null;
  authToken: string | null;
  from: string | null;
  statusCallbackUrl: string;
  /** Another origin for Twilio's REST API (a local stub in tests); null: api.twilio.com. */
  apiUrl: string | null;
}

/** The SDK's own HTTP client, sending to another origin: the SDK still builds every request. */
class RebasedRequestClient extends twilio.RequestClient {
  constructor(private readonly origin: URL) {
    super();
  }

  override request<TData>(opts: Parameters<twilio.RequestClient['request']>[0] & { data?: TData }) {
    const uri = new URL(opts.uri);
    uri.protocol = this.origin.protocol;
    uri.host = this.origin.host;
    return super.request<TData>({ ...opts, uri: uri.href });
  }
}

/** SMS is short: the title, then as much of the body as fits two segments. */
export function smsText(title: string, body: string): string {
  const text = `${title}: ${body}`;
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/**
 * SMS through the twilio SDK. Every message carries the status callback URL, so Twilio's later
 * "delivered" or "undelivered" arrives through the webhook inbox and moves the delivery's status.
 * A 4xx from Twilio (an invalid or unreachable number, a refused sender) is permanent; 5xx,
 * 429 and network errors are retried by the job.
 */
export function createSmsChannel(settings: SmsSettings): ChannelSender {
  const configured = Boolean(settings.accountSid && settings.authToken && settings.from);
  const client = configured
    ? twilio(settings.accountSid ?? undefined, settings.authToken ?? undefined, settings.apiUrl ? { httpClient: new RebasedRequestClient(new URL(settings.apiUrl)) } : {})
    : null;
  return {
    channel: 'sms',
    configured,
    async send({ notification, recipient }) {
      if (!client || !settings.from) return { status: 'suppressed', reason: 'channel not configured' };
      if (!recipient.phone) return { status: 'suppressed', reason: 'no phone number' };
      try {
        const message = await client.messages.create({
          to: recipient.phone,
          from: settings.from,
          body: smsText(notification.title, notification.body),
          statusCallback: settings.statusCallbackUrl,
        });
        return { status: 'sent', providerId: message.sid };
      } catch (err) {
        const status = (err as { status?: unknown }).status;
        if (typeof status === 'number' && status >= 400 && status < 500 && status !== 429) {
          const code = (err as { code?: unknown }).code;
          throw new PermanentChannelError(`Twilio refused the message (${status}${code ? `, code ${String(code)}` : ''})`);
        }
        throw err;
      }
    },
  };
}

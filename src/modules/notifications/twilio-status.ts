import type { NotificationModels } from './notifications.model';
import type { DeliveryStore } from './deliveries';
import type { DeliveryStatus } from './notifications.types';

/** The part of the webhook inbox's event a status handler reads. */
export interface TwilioStatusEvent {
  payload: unknown;
}

export type WebhookOutcome = { outcome: 'processed' | 'ignored'; note?: string };

const STATUS: Record<string, DeliveryStatus | null> = {
  accepted: null,
  scheduled: null,
  queued: null,
  sending: null,
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

/**
 * Twilio's status callback (verified and de-duplicated by the webhook inbox): moves the SMS
 * delivery whose MessageSid it names. Statuses only move forward, so callbacks arriving out of
 * order (a late "sent" after "delivered") change nothing.
 */
export function createTwilioStatusHandler(deps: { models: NotificationModels; store: DeliveryStore }) {
  return async (event: TwilioStatusEvent): Promise<WebhookOutcome> => {
    const fields = (event.payload && typeof event.payload === 'object' ? event.payload : {}) as Record<string, unknown>;
    const sid = typeof fields.MessageSid === 'string' ? fields.MessageSid : typeof fields.SmsSid === 'string' ? fields.SmsSid : null;
    const raw = typeof fields.MessageStatus === 'string' ? fields.MessageStatus : typeof fields.SmsStatus === 'string' ? fields.SmsStatus : null;
    if (!sid || !raw) return { outcome: 'ignored', note: 'no MessageSid or MessageStatus' };
    if (!(raw in STATUS)) return { outcome: 'ignored', note: `unknown status ${raw.slice(0, 40)}` };
    const status = STATUS[raw];
    if (!status) return { outcome: 'ignored', note: `interim status ${raw}` };
    const delivery = await deps.models.deliveries.findOne({ providerId: sid, channel: 'sms' }, { _id: 1 }).lean();
    if (!delivery) return { outcome: 'ignored', note: 'no SMS delivery with this MessageSid' };
    const code = typeof fields.ErrorCode === 'string' && fields.ErrorCode ? ` (error ${fields.ErrorCode})` : '';
    await deps.store.apply(delivery._id, { status, reason: status === 'failed' ? `Twilio: ${raw}${code}` : null });
    return { outcome: 'processed', note: `sms ${delivery._id} ${status}` };
  };
}

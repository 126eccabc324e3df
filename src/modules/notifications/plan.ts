import { CHANNELS, DEFAULT_CHANNELS, type Channel, type DeliveryStatus, type NotificationCategory, type Priority } from './notifications.types';
import { quietUntil } from './quiet-hours';
import type { RecipientProfile } from './ports';

export interface PlannedDelivery {
  channel: Channel;
  status: Extract<DeliveryStatus, 'queued' | 'delayed' | 'suppressed' | 'delivered'>;
  reason: string | null;
  notBefore: Date | null;
}

/** The channels a user has on for a category: their choice, or the category's defaults. */
export function chosenChannels(recipient: Pick<RecipientProfile, 'notifications'>, category: NotificationCategory): Channel[] {
  const chosen = recipient.notifications?.[category];
  return Array.isArray(chosen) ? (chosen.filter((c) => (CHANNELS as readonly string[]).includes(c)) as Channel[]) : DEFAULT_CHANNELS[category];
}

/**
 * Decides each channel of one notification, at `now`:
 * - in-app is always stored (it is the inbox, delivered as it is stored), whatever the preferences;
 * - a channel the user has off for the category is suppressed ("preference"), unless critical;
 * - a channel without a provider is suppressed ("channel not configured"), one with nowhere to
 *   send (no phone, no device) too;
 * - inside the user's quiet hours a non-critical push, SMS or email is delayed to the window's
 *   end — never dropped; critical ones go at once.
 */
export function planDeliveries(input: {
  recipient: RecipientProfile;
  category: NotificationCategory;
  priority: Priority;
  channels: Channel[];
  configured: Record<Channel, boolean>;
  hasDevice: boolean;
  now: Date;
  /** A digest: the user's digest switch already decided, so category choices do not apply. */
  ignoreChoices?: boolean;
}): PlannedDelivery[] {
  const { recipient, category, priority, now } = input;
  const critical = priority === 'critical';
  const chosen = new Set(chosenChannels(recipient, category));
  const wanted = new Set<Channel>(['inApp', ...input.channels]);
  const until = critical ? null : quietUntil(now, recipient.timezone, recipient.quietHours);
  return CHANNELS.filter((c) => wanted.has(c)).map((channel): PlannedDelivery => {
    // In-app is delivered by being stored; the socket event to the user's devices is a signal on top.
    if (channel === 'inApp') return { channel, status: 'delivered', reason: null, notBefore: null };
    const suppressed = (reason: string): PlannedDelivery => ({ channel, status: 'suppressed', reason, notBefore: null });
    if (!critical && !input.ignoreChoices && !chosen.has(channel)) return suppressed('preference');
    if (!input.configured[channel]) return suppressed('channel not configured');
    if (channel === 'sms' && !recipient.phone) return suppressed('no phone number');
    if (channel === 'push' && !input.hasDevice) return suppressed('no device registered');
    if (until) return { channel, status: 'delayed', reason: 'quiet hours', notBefore: until };
    return { channel, status: 'queued', reason: null, notBefore: null };
  });
}

/**
 * The vocabulary of notifications. Category names are the keys users store their channel choices
 * under (users' preferences.notifications), so one record holds a person's choices.
 */
export const NOTIFICATION_CATEGORIES = ['chat', 'offers', 'orders', 'finance', 'system', 'marketing'] as const;
export type NotificationCategory = (typeof NOTIFICATION_CATEGORIES)[number];

export const CHANNELS = ['inApp', 'push', 'email', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];
/** Channels that leave the app (a provider sends them): quiet hours and opt-outs apply to these. */
export type ExternalChannel = Exclude<Channel, 'inApp'>;
export const EXTERNAL_CHANNELS: readonly ExternalChannel[] = ['push', 'email', 'sms'];

export const PRIORITIES = ['normal', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const DELIVERY_STATUSES = ['queued', 'delayed', 'sent', 'delivered', 'failed', 'suppressed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const ACTION_KINDS = ['open', 'accept', 'reject', 'reply', 'dismiss'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface NotificationAction {
  id: string;
  label: string;
  kind: ActionKind;
}

/** What a caller asks for; `notify(userId, input)` decides the channels. */
export interface NotifyInput {
  category: NotificationCategory;
  priority?: Priority;
  title: string;
  body: string;
  /** Deep link (`link`, a path in the app) and entity ids. Strings only: it travels to push payloads. */
  data?: Record<string, string>;
  actions?: NotificationAction[];
  /** The same key for the same user makes one notification, however often it is asked for. */
  dedupeKey?: string;
  /** Channels this kind of notification is meant for; preferences narrow them. Default: all. */
  channels?: Channel[];
  campaignId?: string;
  /** Set by the digest job: the user's digest switch is the choice, so category choices do not apply. */
  digest?: boolean;
}

/**
 * Which channels each category uses when the user has not chosen. SMS costs money and wakes
 * people: only for payments and security, and for anything critical.
 */
export const DEFAULT_CHANNELS: Record<NotificationCategory, Channel[]> = {
  chat: ['inApp', 'push'],
  offers: ['inApp', 'push', 'email'],
  orders: ['inApp', 'push', 'email'],
  finance: ['inApp', 'push', 'email', 'sms'],
  system: ['inApp', 'push', 'email'],
  marketing: ['inApp', 'email'],
};

/** The chatty categories whose email goes out as a digest rather than one mail per event. */
export const DIGEST_CATEGORIES: readonly NotificationCategory[] = ['chat'];

import type { RequestHandler } from 'express';
import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../../platform/context';
import type { EventBus } from '../../platform/events';
import type { AppModule } from '../../platform/module';
import type { NotificationsConfig } from './notifications.config';
import { createNotificationServices, type ActionHandler } from './notifications.services';
import { createNotificationsRouter } from './notifications.routes';
import { subscribeNotificationEvents } from './subscribers';
import { deliveryStats, type StatsRow } from './stats';
import type { ChannelSender } from './channels/types';
import type { Channel, NotificationCategory, NotifyInput } from './notifications.types';
import type { ChatPresence, NotificationRecipients } from './ports';
import type { NotifyResult } from './notify.service';
import type { CampaignStats, CampaignView, NewCampaign } from './campaigns';
import type { TwilioStatusEvent, WebhookOutcome } from './twilio-status';
import { toDeliveryView, type DeliveryView } from './notifications.mapper';

// The notifications module's contract. Other modules import only from here (a lint rule enforces it).
export { readNotificationsConfig, type NotificationsConfig } from './notifications.config';
export { NOTIFICATION_ERROR_CODES, type NotificationErrorCode } from './notifications.errors';
export { NOTIFICATION_CATEGORIES, CHANNELS, PRIORITIES, DELIVERY_STATUSES, DEFAULT_CHANNELS } from './notifications.types';
export type { NotifyInput, NotificationCategory, Channel, Priority, DeliveryStatus, NotificationAction } from './notifications.types';
export type { NotificationRecipients, RecipientProfile, RecipientSegment, ChatPresence } from './ports';
export type { NotifyResult } from './notify.service';
export type { NotificationView, DeliveryView } from './notifications.mapper';
export type { CampaignStats, CampaignView, NewCampaign } from './campaigns';
export type { StatsRow } from './stats';
export type { TwilioStatusEvent, WebhookOutcome } from './twilio-status';
export type { ActionHandler } from './notifications.services';
export { isQuiet, quietUntil, type QuietHours } from './quiet-hours';
export { planDeliveries } from './plan';

/** The admin module's part: campaigns and delivery figures (it mounts the /api/admin routes). */
export interface NotificationsAdmin {
  createCampaign(adminId: string, input: NewCampaign): Promise<CampaignView>;
  campaign(id: string): Promise<CampaignView & { stats: CampaignStats }>;
  stats(range: { from: Date; to: Date }): Promise<{ rows: StatsRow[]; truncated: boolean }>;
  deliveries(notificationId: string): Promise<DeliveryView[]>;
}

export interface NotificationsModule extends AppModule {
  /** The one way anything reaches a person; modules normally publish domain events instead. */
  notify(userId: string, input: NotifyInput): Promise<NotifyResult>;
  /** Register with the webhook inbox: `webhooks.register('twilio', notifications.twilioStatusHandler)`. */
  twilioStatusHandler(event: TwilioStatusEvent): Promise<WebhookOutcome>;
  /** A module's answer to actions tapped on its category's notifications. */
  registerActionHandler(category: NotificationCategory, handler: ActionHandler): void;
  admin: NotificationsAdmin;
  /** Enqueues what is due now by the app's clock (quiet hours ended, digests due); the reconcile schedules do this every tick. */
  releaseDue(): Promise<number>;
  /** @internal for subscribeNotifications */
  readonly queues: ReturnType<typeof createNotificationServices>['queues'];
}

export function createNotificationsModule(deps: {
  ctx: AppContext;
  config: NotificationsConfig;
  io: IoServer;
  auth: { requireAuth: RequestHandler };
  recipients: NotificationRecipients;
  chat?: ChatPresence;
  /** Tests: a channel sender in place of the configured one. */
  channelOverrides?: Partial<Record<Channel, ChannelSender>>;
}): NotificationsModule {
  const services = createNotificationServices(deps);
  return {
    name: 'notifications',
    http: createNotificationsRouter({ inbox: services.inbox, preferences: services.preferences, devices: services.devices, requireAuth: deps.auth.requireAuth }),
    stop: () => services.close(),
    notify: (userId, input) => services.notify.notify(userId, input),
    twilioStatusHandler: services.twilioStatus,
    registerActionHandler: services.registerActionHandler,
    releaseDue: services.releaseDue,
    queues: services.queues,
    admin: {
      createCampaign: (adminId, input) => services.campaigns.create(adminId, input),
      campaign: (id) => services.campaigns.stats(id),
      stats: (range) => deliveryStats(services.models, range),
      deliveries: async (notificationId) => (await services.models.deliveries.find({ notificationId }).lean()).map(toDeliveryView),
    },
  };
}

/**
 * Wires notifications to the domain events (composition root): each handler only enqueues a
 * durable job; returns a function that unsubscribes them.
 */
export function subscribeNotifications(events: EventBus, notifications: Pick<NotificationsModule, 'queues'>): () => void {
  return subscribeNotificationEvents(events, notifications.queues);
}

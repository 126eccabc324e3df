import type { EventBus } from '../../platform/events';
import type { DeliveryDoc, NotificationDoc } from './notifications.model';

/**
 * The notification lifecycle on the domain-event bus (analytics counts deliveries and reads from
 * it). Published after the write that makes it true, at least once: only a notify resumed after
 * a crash between its writes publishes an in-app delivery a second time.
 */
export function createLifecycleEvents(events: EventBus) {
  return {
    delivered(delivery: Pick<DeliveryDoc, '_id' | 'notificationId' | 'userId' | 'channel' | 'category'>, at: Date): void {
      events.publish('notification.delivered', {
        notificationId: delivery.notificationId,
        deliveryId: delivery._id,
        userId: delivery.userId,
        channel: delivery.channel,
        category: delivery.category,
        at: at.toISOString(),
      });
    },
    read(notification: Pick<NotificationDoc, '_id' | 'userId' | 'category'>, at: Date): void {
      events.publish('notification.read', { notificationId: String(notification._id), userId: notification.userId, category: notification.category, at: at.toISOString() });
    },
  };
}

export type LifecycleEvents = ReturnType<typeof createLifecycleEvents>;

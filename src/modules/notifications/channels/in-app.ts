import type { Server as IoServer } from 'socket.io';
import { userRoom } from '../../../platform/auth-context';
import { toNotificationView } from '../notifications.mapper';
import type { ChannelSender, OutgoingMessage } from './types';

/**
 * In-app: the notification is already stored (it is the inbox entry); this tells the user's
 * devices, through their `user:<id>` room on every process, and gives them the new unread count.
 */
export function createInAppChannel(deps: { io: IoServer; unreadCount: (userId: string) => Promise<number> }): ChannelSender & {
  /** Tells the user's devices at once (no job: an emit is not a provider call and cannot fail the write). */
  announce(notification: OutgoingMessage['notification'], options: { withCount: boolean }): Promise<void>;
} {
  async function announce(notification: OutgoingMessage['notification'], options: { withCount: boolean }): Promise<void> {
    const room = userRoom(notification.userId);
    deps.io.to(room).emit('system:notification', toNotificationView(notification));
    if (options.withCount) deps.io.to(room).emit('notification:unread_count', { count: await deps.unreadCount(notification.userId) });
  }
  return {
    announce,
    channel: 'inApp',
    configured: true,
    async send({ notification }) {
      await announce(notification, { withCount: true });
      return { status: 'delivered' };
    },
  };
}

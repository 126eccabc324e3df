import type { Channel } from '../notifications.types';
import type { NotificationDoc } from '../notifications.model';
import type { RecipientProfile } from '../ports';

/** What a channel is asked to send: one notification to one person. */
export interface OutgoingMessage {
  deliveryId: string;
  notification: NotificationDoc;
  recipient: RecipientProfile;
}

export interface SendResult {
  /** `sent`: the provider accepted it; `delivered`: it reached the person (in-app); `suppressed`: nothing to send to. */
  status: 'sent' | 'delivered' | 'suppressed';
  providerId?: string | null;
  reason?: string | null;
}

/** A send that retrying cannot fix (a rejected address, a refused number): recorded as failed at once. */
export class PermanentChannelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentChannelError';
  }
}

/** Every channel behind one interface; each send runs inside a durable job with retries. */
export interface ChannelSender {
  readonly channel: Channel;
  /** False when the provider is not configured: deliveries are suppressed, not failed. */
  readonly configured: boolean;
  send(message: OutgoingMessage): Promise<SendResult>;
  close?(): void;
}

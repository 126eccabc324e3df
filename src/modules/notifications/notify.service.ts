import { Types } from 'mongoose';
import type { Logger } from '../../platform/logger';
import { isDuplicateKey } from '../../platform/mongo';
import type { JobQueue } from '../../platform/jobs';
import type { DeliveryDoc, NotificationDoc, NotificationModels } from './notifications.model';
import { toNotificationView, type NotificationView } from './notifications.mapper';
import { CHANNELS, type Channel, type NotifyInput } from './notifications.types';
import { planDeliveries } from './plan';
import type { NotificationRecipients } from './ports';

export interface DeliverJob {
  deliveryId: string;
}

export interface NotifyResult {
  notification: NotificationView | null;
  /** True when the dedupe key had already made this notification: nothing new was stored or sent. */
  deduplicated: boolean;
  /** Why nothing was stored (no such recipient). */
  skipped?: string;
}

export const deliveryId = (notificationId: string, channel: Channel) => `${notificationId}:${channel}`;

/** Job keys of a delivery: its first send, the wait for its quiet hours to end, and the run once due. */
export const deliveryJobKeys = {
  send: (id: string) => id,
  wait: (id: string) => `${id}:wait`,
  due: (id: string) => `${id}:due`,
};

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * `notify(userId, input)`: the one way anything reaches a person. It stores the notification (the
 * in-app inbox entry) and one delivery per channel as the plan decided, then enqueues each
 * pending delivery as a durable job. It never sends: channel jobs do, off the request path.
 */
export function createNotifyService(deps: {
  models: NotificationModels;
  recipients: NotificationRecipients;
  configured: Record<Channel, boolean>;
  deliverQueue: JobQueue<DeliverJob>;
  clock: () => Date;
  logger: Logger;
}) {
  const { models, recipients, clock, logger } = deps;

  async function enqueue(delivery: Pick<DeliveryDoc, '_id' | 'status' | 'notBefore'>, now: Date): Promise<void> {
    try {
      if (delivery.status === 'queued') await deps.deliverQueue.enqueue(deliveryJobKeys.send(delivery._id), { deliveryId: delivery._id });
      else if (delivery.status === 'delayed' && delivery.notBefore) {
        const delayMs = Math.max(0, delivery.notBefore.getTime() - now.getTime());
        await deps.deliverQueue.enqueue(deliveryJobKeys.wait(delivery._id), { deliveryId: delivery._id }, { delayMs });
      }
    } catch (err) {
      // The delivery is stored as pending: reconciliation enqueues it once the queue is back.
      logger.warn('Notifications: could not enqueue a delivery; reconciliation will', { deliveryId: delivery._id, error: err instanceof Error ? err.message : String(err) });
    }
  }

  async function existing(notificationId: string): Promise<NotificationDoc | null> {
    return models.notifications.findById(notificationId).lean();
  }

  return {
    async notify(userId: string, input: NotifyInput): Promise<NotifyResult> {
      const recipient = await recipients.profile(userId);
      if (!recipient || recipient.status === 'deleted') return { notification: null, deduplicated: false, skipped: 'recipient not found' };
      const now = clock();
      let id = new Types.ObjectId();

      if (input.dedupeKey) {
        const claimId = `${userId}:${input.dedupeKey}`;
        try {
          await models.claims.create({ _id: claimId, notificationId: String(id), createdAt: now });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          const claim = await models.claims.findById(claimId).lean();
          if (!claim) throw err;
          const found = await existing(claim.notificationId);
          if (found) return { notification: toNotificationView(found), deduplicated: true };
          // The claimer stopped between its claim and its insert: finish its notification under its id.
          id = new Types.ObjectId(claim.notificationId);
        }
      }

      const channels = input.channels ?? [...CHANNELS];
      const hasDevice = channels.includes('push') ? (await models.devices.exists({ userId })) !== null : false;
      const plan = planDeliveries({
        recipient,
        category: input.category,
        priority: input.priority ?? 'normal',
        channels,
        configured: deps.configured,
        hasDevice,
        now,
        ignoreChoices: input.digest === true,
      });

      const doc: NotificationDoc = {
        _id: id,
        userId,
        category: input.category,
        priority: input.priority ?? 'normal',
        title: clip(input.title, 200),
        body: clip(input.body, 2_000),
        data: input.data ?? {},
        actions: input.actions ?? [],
        dedupeKey: input.dedupeKey ?? null,
        campaignId: input.campaignId ?? null,
        plan,
        actionTaps: [],
        readAt: null,
        seenAt: null,
        deletedAt: null,
        createdAt: now,
      };
      try {
        await models.notifications.create(doc);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const found = await existing(String(id));
        if (found) return { notification: toNotificationView(found), deduplicated: true };
        throw err;
      }

      const deliveries: DeliveryDoc[] = plan.map((p) => ({
        _id: deliveryId(String(id), p.channel),
        notificationId: String(id),
        userId,
        channel: p.channel,
        category: input.category,
        campaignId: input.campaignId ?? null,
        status: p.status,
        reason: p.reason,
        notBefore: p.notBefore,
        attempts: 0,
        leaseUntil: null,
        providerId: null,
        history: [{ status: p.status, at: now, reason: p.reason }],
        createdAt: now,
        updatedAt: now,
      }));
      try {
        await models.deliveries.insertMany(deliveries, { ordered: false });
      } catch (err) {
        // A resumed notify finds some already stored; anything else is a real failure.
        if (!isDuplicateKey(err)) throw err;
      }
      for (const delivery of deliveries) await enqueue(delivery, now);
      return { notification: toNotificationView(doc), deduplicated: false };
    },

    enqueue,
  };
}

export type NotifyService = ReturnType<typeof createNotifyService>;

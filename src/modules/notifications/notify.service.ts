import { Types } from 'mongoose';
import type { Logger } from '../../platform/logger';
import { insertEach, isDuplicateKey } from '../../platform/mongo';
import type { JobQueue } from '../../platform/jobs';
import type { LifecycleEvents } from './lifecycle-events';
import type { DeliveryDoc, NotificationDoc, NotificationModels } from './notifications.model';
import { toNotificationView, type NotificationView } from './notifications.mapper';
import { CHANNELS, type Channel, type NotifyInput } from './notifications.types';
import { planDeliveries, type PlannedDelivery } from './plan';
import type { NotificationRecipients, RecipientProfile } from './ports';

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
  /** The in-app signal to the user's devices (system:notification, and the unread count). */
  announce: (notification: NotificationDoc, options: { withCount: boolean }) => Promise<void>;
  clock: () => Date;
  logger: Logger;
  lifecycle: LifecycleEvents;
}) {
  const { models, recipients, clock, logger } = deps;

  /** Hands a stored delivery on: pending ones to the deliver queue; one planned as delivered (in-app) is announced. */
  async function enqueue(delivery: DeliveryDoc, now: Date): Promise<void> {
    if (delivery.status === 'delivered') deps.lifecycle.delivered(delivery, now);
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

      const deliveries: DeliveryDoc[] = plan.map((p) => toDelivery(String(id), userId, input, p, now));
      // A resumed notify finds some already stored (a duplicate key); anything else is a real failure.
      await insertEach((d) => models.deliveries.create(d), deliveries);
      for (const delivery of deliveries) await enqueue(delivery, now);
      await deps.announce(doc, { withCount: true }).catch((err: unknown) => logger.warn('Notifications: the in-app signal failed', { error: String(err) }));
      return { notification: toNotificationView(doc), deduplicated: false };
    },

    /**
     * The same for many people at once (campaign batches): one bulk write per collection instead
     * of several per person. The dedupe key is required, so a re-run batch notifies nobody twice.
     * The in-app signal goes without the unread count (one count per person would cost more than
     * the rest); apps add one on `system:notification`.
     */
    async notifyMany(userIds: string[], input: NotifyInput & { dedupeKey: string }): Promise<{ created: number; deduplicated: number; skipped: number }> {
      const now = clock();
      const profiles: Array<RecipientProfile | null> = [];
      for (let i = 0; i < userIds.length; i += 16) {
        profiles.push(...(await Promise.all(userIds.slice(i, i + 16).map((id) => recipients.profile(id)))));
      }
      const live = profiles.filter((p): p is RecipientProfile => p !== null && p.status !== 'deleted');
      const skipped = userIds.length - live.length;
      if (live.length === 0) return { created: 0, deduplicated: 0, skipped };

      const wantedIds = new Map(live.map((p) => [p.userId, String(new Types.ObjectId())]));
      const claimId = (userId: string) => `${userId}:${input.dedupeKey}`;
      // One claim per person (a single-document insert each): ours where it is new; where an
      // earlier run holds it, that run's notification id, read by `_id`, and whether it was stored
      // (a crash between the claim and the notification leaves it missing: written now).
      const mine = live.map((p) => ({ _id: claimId(p.userId), notificationId: wantedIds.get(p.userId)!, createdAt: now }));
      const inserted = await insertEach((claim) => models.claims.collection.insertOne(claim as never), mine);
      const claimed = new Map<string, string>();
      const held = mine.filter((claim, i) => {
        if (inserted[i]) claimed.set(claim._id, claim.notificationId);
        return !inserted[i];
      });
      const stored = new Set<string>();
      await Promise.all(
        held.map(async (claim) => {
          const found = await models.claims.findById(claim._id).lean();
          if (!found) return;
          claimed.set(claim._id, found.notificationId);
          if (await models.notifications.exists({ _id: new Types.ObjectId(found.notificationId) })) stored.add(found.notificationId);
        }),
      );
      const todo = live.flatMap((p) => {
        const id = claimed.get(claimId(p.userId));
        return id && !stored.has(id) ? [{ recipient: p, id }] : [];
      });

      const channels = input.channels ?? [...CHANNELS];
      const withDevices = channels.includes('push')
        ? new Set((await models.devices.find({ userId: { $in: todo.map((t) => t.recipient.userId) } }, { userId: 1 }).lean()).map((d) => d.userId))
        : new Set<string>();
      const docs: NotificationDoc[] = [];
      const deliveries: DeliveryDoc[] = [];
      for (const { recipient, id } of todo) {
        const plan = planDeliveries({
          recipient,
          category: input.category,
          priority: input.priority ?? 'normal',
          channels,
          configured: deps.configured,
          hasDevice: withDevices.has(recipient.userId),
          now,
        });
        docs.push({
          _id: new Types.ObjectId(id),
          userId: recipient.userId,
          category: input.category,
          priority: input.priority ?? 'normal',
          title: clip(input.title, 200),
          body: clip(input.body, 2_000),
          data: input.data ?? {},
          actions: input.actions ?? [],
          dedupeKey: input.dedupeKey,
          campaignId: input.campaignId ?? null,
          plan,
          actionTaps: [],
          readAt: null,
          seenAt: null,
          deletedAt: null,
          createdAt: now,
        });
        deliveries.push(...plan.map((p) => toDelivery(id, recipient.userId, input, p, now)));
      }
      await insertEach((doc) => models.notifications.collection.insertOne(doc as never), docs);
      await insertEach((d) => models.deliveries.collection.insertOne(d as never), deliveries);
      for (const delivery of deliveries) await enqueue(delivery, now);
      for (const doc of docs) await deps.announce(doc, { withCount: false }).catch(() => undefined);
      return { created: docs.length, deduplicated: live.length - todo.length, skipped };
    },

    enqueue,
  };
}

function toDelivery(notificationId: string, userId: string, input: NotifyInput, p: PlannedDelivery, now: Date): DeliveryDoc {
  return {
    _id: deliveryId(notificationId, p.channel),
    notificationId,
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
  };
}

export type NotifyService = ReturnType<typeof createNotifyService>;

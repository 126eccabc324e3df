import { PermanentJobError, type JobContext, type PendingRecord } from '../../platform/jobs';
import type { Logger } from '../../platform/logger';
import type { NotificationModels } from './notifications.model';
import type { Channel } from './notifications.types';
import type { NotificationRecipients } from './ports';
import { PermanentChannelError, type ChannelSender } from './channels/types';
import { ATTEMPT_LEASE_MS, type DeliveryStore } from './deliveries';
import { deliveryJobKeys, type DeliverJob } from './notify.service';

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300);

/**
 * The channel job: one attempt at one delivery. Idempotent — a delivery that is no longer pending,
 * not yet due, or held by another attempt is left alone — so the first send, the quiet-hours wait,
 * the due run and reconciliation may all enqueue it.
 */
export function createDispatcher(deps: {
  models: NotificationModels;
  store: DeliveryStore;
  recipients: NotificationRecipients;
  channels: Record<Channel, ChannelSender>;
  clock: () => Date;
  logger: Logger;
}) {
  const { models, store, recipients, channels } = deps;

  async function deliver(data: DeliverJob, job: JobContext): Promise<void> {
    const delivery = await store.claimAttempt(data.deliveryId);
    if (!delivery) return;
    const notification = await models.notifications.findById(delivery.notificationId).lean();
    if (!notification) {
      await store.apply(delivery._id, { status: 'failed', reason: 'notification not found' });
      return;
    }
    if (delivery.channel !== 'inApp' && notification.deletedAt) {
      await store.apply(delivery._id, { status: 'suppressed', reason: 'deleted by the recipient before delivery' });
      return;
    }
    if (delivery.channel !== 'inApp' && delivery.notBefore && notification.readAt) {
      await store.apply(delivery._id, { status: 'suppressed', reason: 'read in the app before the quiet hours ended' });
      return;
    }
    const recipient = await recipients.profile(delivery.userId);
    if (!recipient || recipient.status === 'deleted') {
      await store.apply(delivery._id, { status: 'suppressed', reason: 'recipient not found' });
      return;
    }
    const channel = channels[delivery.channel];
    let result;
    try {
      result = await channel.send({ deliveryId: delivery._id, notification, recipient });
    } catch (err) {
      const permanent = err instanceof PermanentChannelError;
      if (permanent || job.attempt >= job.maxAttempts) {
        await store.apply(delivery._id, { status: 'failed', reason: permanent ? message(err) : `gave up after ${job.attempt} attempts: ${message(err)}` });
        if (permanent) throw new PermanentJobError(message(err));
        throw err;
      }
      await store.attemptFailed(delivery._id, `attempt ${job.attempt} failed: ${message(err)}`);
      throw err;
    }
    await store.apply(delivery._id, { status: result.status, reason: result.reason ?? null, providerId: result.providerId ?? null });
  }

  /**
   * Deliveries to enqueue again at `now`: delayed ones whose quiet hours are over (by the app's
   * clock, so a test moves it) and pending ones whose enqueue or attempt was lost.
   */
  async function findPending(now: Date): Promise<PendingRecord<DeliverJob>[]> {
    const due = await models.deliveries.find({ status: 'delayed', notBefore: { $lte: now } }, { _id: 1 }).limit(1_000).lean();
    const stale = new Date(now.getTime() - ATTEMPT_LEASE_MS);
    const stuck = await models.deliveries.find({ status: 'queued', updatedAt: { $lte: stale } }, { _id: 1, attempts: 1 }).limit(1_000).lean();
    return [
      ...due.map((d) => ({ key: deliveryJobKeys.due(d._id), data: { deliveryId: d._id } })),
      // A new key per attempt count, so a lost job's key that BullMQ still remembers does not block it.
      ...stuck.map((d) => ({ key: `${deliveryJobKeys.send(d._id)}:r${d.attempts ?? 0}`, data: { deliveryId: d._id } })),
    ];
  }

  return { deliver, findPending };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

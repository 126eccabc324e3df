import type { JobQueue, PendingRecord } from '../../platform/jobs';
import { isDuplicateKey } from '../../platform/mongo';
import type { Logger } from '../../platform/logger';
import type { NotificationModels } from './notifications.model';
import type { NotifyService } from './notify.service';
import type { NotificationRecipients } from './ports';
import { digestStrings } from './templates/email';

export interface DigestJob {
  userId: string;
  /** The open digest's startedAt (ms): a job for an older digest of the same user does nothing. */
  startedAt: number;
}

const digestId = (userId: string) => `${userId}:chat`;

/**
 * Chat digests: the first unread message to an offline user opens a digest (one per user, by a
 * unique insert); after the configured delay its job counts the chat notifications still unread
 * since it opened and sends one email for them — or none, when they were read first.
 */
export function createDigests(deps: {
  models: NotificationModels;
  notify: NotifyService;
  recipients: NotificationRecipients;
  digestOn: (userId: string) => Promise<boolean>;
  queue: () => JobQueue<DigestJob>;
  delayMs: number;
  clock: () => Date;
  logger: Logger;
}) {
  const { models, clock } = deps;

  return {
    /**
     * Opens the user's digest unless one is open; returns whether this call opened it. It covers
     * chat notifications from `since` (the first unread one's creation) on.
     */
    async open(userId: string, since: Date): Promise<boolean> {
      const startedAt = since;
      const dueAt = new Date(clock().getTime() + deps.delayMs);
      try {
        await models.digests.create({ _id: digestId(userId), userId, startedAt, dueAt });
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
      await deps
        .queue()
        .enqueue(`${digestId(userId)}:${startedAt.getTime()}`, { userId, startedAt: startedAt.getTime() }, { delayMs: dueAt.getTime() - clock().getTime() })
        .catch((err: unknown) => deps.logger.warn('Notifications: could not enqueue a digest; reconciliation will', { userId, error: String(err) }));
      return true;
    },

    async run(job: DigestJob): Promise<'sent' | 'cancelled' | 'skipped'> {
      const open = await models.digests.findById(digestId(job.userId)).lean();
      if (!open || open.startedAt.getTime() !== job.startedAt) return 'skipped';
      if (open.dueAt.getTime() > clock().getTime()) return 'skipped';
      const unread = await models.notifications.countDocuments({
        userId: job.userId,
        category: 'chat',
        readAt: null,
        deletedAt: null,
        createdAt: { $gte: open.startedAt },
      });
      const outcomeId = `${digestId(job.userId)}:${job.startedAt}`;
      const wanted = unread > 0 && (await deps.digestOn(job.userId));
      let notificationId: string | null = null;
      if (wanted) {
        const recipient = await deps.recipients.profile(job.userId);
        const t = digestStrings(recipient?.language ?? 'en');
        const result = await deps.notify.notify(job.userId, {
          category: 'chat',
          title: t.digestSubject(unread),
          body: t.digestBody(unread),
          data: { link: '/chats', kind: 'digest' },
          channels: ['email'],
          dedupeKey: `digest:${outcomeId}`,
          digest: true,
        });
        notificationId = result.notification?.id ?? null;
      }
      try {
        await models.digestOutcomes.create({ _id: outcomeId, userId: job.userId, outcome: wanted ? 'sent' : 'cancelled', unread, notificationId, at: clock() });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      await models.digests.deleteOne({ _id: digestId(job.userId), startedAt: open.startedAt });
      return wanted ? 'sent' : 'cancelled';
    },

    async findPending(now: Date): Promise<PendingRecord<DigestJob>[]> {
      const due = await models.digests.find({ dueAt: { $lte: now } }).limit(1_000).lean();
      return due.map((d) => ({ key: `${d._id}:${d.startedAt.getTime()}:due`, data: { userId: d.userId, startedAt: d.startedAt.getTime() } }));
    },

    lastOutcome: (userId: string) => models.digestOutcomes.findOne({ userId }).sort({ at: -1 }).lean(),
  };
}

export type Digests = ReturnType<typeof createDigests>;

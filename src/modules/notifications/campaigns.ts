import { Types } from 'mongoose';
import type { JobQueue, PendingRecord } from '../../platform/jobs';
import { isDuplicateKey, parseObjectId } from '../../platform/mongo';
import type { CampaignDoc, NotificationModels } from './notifications.model';
import type { NotifyService } from './notify.service';
import type { NotificationRecipients } from './ports';
import { notificationErrors } from './notifications.errors';

export interface CampaignBatchJob {
  campaignId: string;
  index: number;
  afterUserId: string | null;
}

export interface NewCampaign {
  title: string;
  body: string;
  /** Deep link and ids, as on any notification. */
  data?: Record<string, string>;
  segment?: { roles?: string[]; countries?: string[]; activeWithinDays?: number | null };
  /** ISO time; absent or past means now. */
  scheduledAt?: string;
}

export interface CampaignStats {
  targeted: number;
  sent: number;
  delivered: number;
  failed: number;
  suppressed: number;
  delayed: number;
  read: number;
  actionTaps: number;
}

function toCampaignView(c: CampaignDoc) {
  return {
    id: String(c._id),
    title: c.title,
    body: c.body,
    data: c.data ?? {},
    segment: c.segment,
    scheduledAt: c.scheduledAt.toISOString(),
    status: c.status,
    createdBy: c.createdBy,
    createdAt: c.createdAt.toISOString(),
    finishedAt: c.finishedAt ? c.finishedAt.toISOString() : null,
  };
}

export type CampaignView = ReturnType<typeof toCampaignView>;

/**
 * Marketing campaigns (the admin module serves the routes): a segment walked in id order, one
 * batch job at a time, each recipient through notify — so preferences (marketing opt-outs) and
 * quiet hours apply, and the dedupe key `campaign:<id>` makes a re-run batch notify nobody twice.
 */
export function createCampaigns(deps: {
  models: NotificationModels;
  notify: NotifyService;
  recipients: NotificationRecipients;
  queue: () => JobQueue<CampaignBatchJob>;
  batchSize: number;
  clock: () => Date;
}) {
  const { models, clock } = deps;

  async function find(id: string): Promise<CampaignDoc> {
    const oid = parseObjectId(id);
    const found = oid ? await models.campaigns.findById(oid).lean() : null;
    if (!found) throw notificationErrors.campaignNotFound();
    return found;
  }

  return {
    async create(adminId: string, input: NewCampaign): Promise<CampaignView> {
      const now = clock();
      const requested = input.scheduledAt ? new Date(input.scheduledAt) : now;
      const scheduledAt = Number.isNaN(requested.getTime()) || requested < now ? now : requested;
      const doc: CampaignDoc = {
        _id: new Types.ObjectId(),
        title: input.title,
        body: input.body,
        data: input.data ?? {},
        segment: { roles: input.segment?.roles ?? [], countries: input.segment?.countries ?? [], activeWithinDays: input.segment?.activeWithinDays ?? null },
        scheduledAt,
        status: 'scheduled',
        createdBy: adminId,
        createdAt: now,
        finishedAt: null,
      };
      await models.campaigns.create(doc);
      await deps.queue().enqueue(`campaign:${String(doc._id)}:0`, { campaignId: String(doc._id), index: 0, afterUserId: null }, { delayMs: scheduledAt.getTime() - now.getTime() });
      return toCampaignView(doc);
    },

    /** One batch: notify up to batchSize recipients after the last one, then enqueue the next. */
    async runBatch(job: CampaignBatchJob): Promise<void> {
      const campaign = await find(job.campaignId);
      if (campaign.status === 'sent') return;
      if (campaign.scheduledAt.getTime() > clock().getTime()) return;
      if (job.index === 0 && campaign.status === 'scheduled') await models.campaigns.updateOne({ _id: campaign._id }, { $set: { status: 'sending' } });
      const activeSince = campaign.segment.activeWithinDays ? new Date(clock().getTime() - campaign.segment.activeWithinDays * 86_400_000) : null;
      const ids = await deps.recipients.listIds({ roles: campaign.segment.roles, countries: campaign.segment.countries, activeSince }, job.afterUserId, deps.batchSize);
      await deps.notify.notifyMany(ids, {
        category: 'marketing',
        title: campaign.title,
        body: campaign.body,
        data: campaign.data,
        dedupeKey: `campaign:${job.campaignId}`,
        campaignId: job.campaignId,
        channels: ['inApp', 'push', 'email'],
      });
      const lastUserId = ids[ids.length - 1] ?? null;
      try {
        await models.campaignBatches.create({ _id: `${job.campaignId}:${job.index}`, campaignId: job.campaignId, index: job.index, targeted: ids.length, lastUserId, at: clock() });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      if (ids.length === deps.batchSize && lastUserId) {
        await deps.queue().enqueue(`campaign:${job.campaignId}:${job.index + 1}`, { campaignId: job.campaignId, index: job.index + 1, afterUserId: lastUserId });
      } else {
        await models.campaigns.updateOne({ _id: campaign._id }, { $set: { status: 'sent', finishedAt: clock() } });
      }
    },

    /**
     * Campaigns due but unfinished at `now`, each with its next batch (after the last one
     * recorded): a lost enqueue, or a process that died between a batch and the next, delays a
     * campaign instead of stopping it. A batch whose key BullMQ still knows is not run twice.
     */
    async findPending(now: Date): Promise<PendingRecord<CampaignBatchJob>[]> {
      const due = await models.campaigns.find({ status: { $in: ['scheduled', 'sending'] }, scheduledAt: { $lte: now } }).limit(100).lean();
      const out: PendingRecord<CampaignBatchJob>[] = [];
      for (const campaign of due) {
        const campaignId = String(campaign._id);
        const last = await models.campaignBatches.findOne({ campaignId }).sort({ index: -1 }).lean();
        const index = last ? last.index + 1 : 0;
        out.push({ key: `campaign:${campaignId}:${index}`, data: { campaignId, index, afterUserId: last?.lastUserId ?? null } });
      }
      return out;
    },

    get: async (id: string) => toCampaignView(await find(id)),

    async stats(id: string): Promise<CampaignView & { stats: CampaignStats }> {
      const campaign = await find(id);
      const campaignId = String(campaign._id);
      const batches = await models.campaignBatches.find({ campaignId }).lean();
      // Two reads of the campaign's rows, counted here: on FerretDB only the campaignId equality is
      // served by the store, so one read per figure would decode the same rows several times.
      const [deliveries, notifications] = await Promise.all([
        models.deliveries.find({ campaignId }, { channel: 1, status: 1 }).lean(),
        models.notifications.find({ campaignId }, { readAt: 1, actionTaps: 1 }).lean(),
      ]);
      const external = deliveries.filter((d) => d.channel !== 'inApp');
      const count = (...statuses: string[]) => external.filter((d) => statuses.includes(d.status)).length;
      const [sent, delivered, failed, suppressed, delayed] = [count('sent', 'delivered'), count('delivered'), count('failed'), count('suppressed'), count('delayed')];
      const read = notifications.filter((n) => n.readAt).length;
      const taps = notifications;
      return {
        ...toCampaignView(campaign),
        stats: {
          targeted: batches.reduce((sum, b) => sum + b.targeted, 0),
          sent,
          delivered,
          failed,
          suppressed,
          delayed,
          read,
          actionTaps: taps.reduce((sum, n) => sum + (n.actionTaps?.length ?? 0), 0),
        },
      };
    },
  };
}

export type Campaigns = ReturnType<typeof createCampaigns>;

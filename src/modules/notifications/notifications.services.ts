import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../../platform/context';
import { createLocks } from '../../platform/locks';
import { createMailer } from '../../platform/mail';
import type { JobQueue } from '../../platform/jobs';
import type { NotificationsConfig } from './notifications.config';
import { getNotificationModels } from './notifications.model';
import type { Channel, NotificationCategory } from './notifications.types';
import type { ChatPresence, NotificationRecipients } from './ports';
import type { ChannelSender } from './channels/types';
import { createInAppChannel } from './channels/in-app';
import { createEmailChannel } from './channels/email';
import { createSmsChannel } from './channels/sms';
import { createPushChannel } from './channels/push';
import { createDeliveryStore } from './deliveries';
import { createLifecycleEvents } from './lifecycle-events';
import { createNotifyService, type DeliverJob } from './notify.service';
import { createDispatcher } from './dispatch';
import { createInboxService, type ActionJob } from './inbox.service';
import { createPreferencesService } from './preferences.service';
import { createDevicesService } from './devices.service';
import { createDigests, type DigestJob } from './digests';
import { createCampaigns, type CampaignBatchJob } from './campaigns';
import { createTwilioStatusHandler } from './twilio-status';
import type { ChatMessageJob, IntakeJob } from './subscribers';

/** Conversations up to this many other participants are checked for presence before a chat job is enqueued. */
const PRESENCE_PRECHECK_MAX = 8;

/** A module's answer to a tapped action (accept an offer from the notification, …). */
export type ActionHandler = (tap: { notificationId: string; userId: string; actionId: string; data: Record<string, string> }) => Promise<void>;

export interface NotificationServicesDeps {
  ctx: AppContext;
  config: NotificationsConfig;
  io: IoServer;
  recipients: NotificationRecipients;
  /** Chat's contract; without it message.sent is not turned into notifications. */
  chat?: ChatPresence;
  /** Channel senders to use instead of the configured ones (a test's failing provider). */
  channelOverrides?: Partial<Record<Channel, ChannelSender>>;
}

export function createNotificationServices(deps: NotificationServicesDeps) {
  const { ctx, config, io, recipients } = deps;
  const clock = ctx.clock;
  const logger = ctx.logger;
  const models = getNotificationModels(ctx.mongo);
  const lifecycle = createLifecycleEvents(ctx.events);
  const store = createDeliveryStore({ deliveries: models.deliveries, locks: createLocks(ctx.mongo), clock, lifecycle });
  const devices = createDevicesService({ models, clock });
  const unreadCount = (userId: string) => models.notifications.countDocuments({ userId, deletedAt: null, readAt: null });

  const mailer = ctx.config.mail.smtpUrl ? createMailer(ctx.config, logger) : null;
  const inApp = createInAppChannel({ io, unreadCount });
  const channels: Record<Channel, ChannelSender> = {
    inApp,
    email: createEmailChannel({ mailer, appUrl: ctx.config.mail.appUrl }),
    sms: createSmsChannel(config.twilio),
    push: createPushChannel(config.fcm, devices, clock),
    ...deps.channelOverrides,
  };
  const configured = Object.fromEntries(Object.entries(channels).map(([c, s]) => [c, s.configured])) as Record<Channel, boolean>;

  const retry = { attempts: config.retryAttempts, baseDelayMs: config.retryBaseDelayMs, maxDelayMs: 5 * 60_000, jitter: 0.2 };
  // Queues are registered below, after the services their handlers call; those services reach them
  // through these late-bound handles, used only once jobs run (after this function returns).
  const lateDeliver: JobQueue<DeliverJob> = { name: 'notifications.deliver', enqueue: (k, d, o) => deliverQueue.enqueue(k, d, o) };

  const notify = createNotifyService({ models, recipients, configured, deliverQueue: lateDeliver, announce: inApp.announce, clock, logger, lifecycle });
  const dispatcher = createDispatcher({ models, store, recipients, channels, clock, logger });
  const preferences = createPreferencesService({ models, recipients, clock });
  const digests = createDigests({ models, notify, recipients, digestOn: preferences.digestOn, queue: () => digestQueue, delayMs: config.digestDelayMs, clock, logger });
  const campaigns = createCampaigns({ models, notify, recipients, queue: () => campaignQueue, batchSize: config.campaignBatchSize, clock });
  const actionHandlers = new Map<NotificationCategory, ActionHandler>();

  const deliverQueue = ctx.jobs.queue<DeliverJob>('notifications.deliver', (data, job) => dispatcher.deliver(data, job), { concurrency: 8, retry });
  const digestQueue = ctx.jobs.queue<DigestJob>('notifications.digest', async (data) => void (await digests.run(data)), { concurrency: 2, retry });
  const campaignQueue = ctx.jobs.queue<CampaignBatchJob>('notifications.campaign', (data) => campaigns.runBatch(data), { concurrency: 1, retry });
  const actionQueue = ctx.jobs.queue<ActionJob>(
    'notifications.action',
    async (tap) => {
      const handler = actionHandlers.get(tap.category);
      if (handler) await handler({ notificationId: tap.notificationId, userId: tap.userId, actionId: tap.actionId, data: tap.data });
    },
    { retry },
  );
  const intakeQueue = ctx.jobs.queue<IntakeJob>('notifications.intake', async ({ userId, input }) => void (await notify.notify(userId, input)), { concurrency: 4, retry });

  const chat = deps.chat;
  const chatQueue = chat
    ? ctx.jobs.queue<ChatMessageJob>(
        'notifications.chat',
        async (m) => {
          const members = (await chat.participantIds(m.conversationId)).filter((id) => id !== m.senderId);
          for (const userId of members) {
            // Someone with the app open sees the message there; only the offline hear about it.
            if (await chat.isOnline(userId)) continue;
            const { notification } = await notify.notify(userId, {
              category: 'chat',
              title: 'New message',
              body: m.type === 'text' ? 'You have a new message.' : `You have a new ${m.type} message.`,
              data: { link: `/chats/${m.conversationId}`, conversationId: m.conversationId, messageId: m.messageId },
              channels: ['inApp', 'push'],
              dedupeKey: `message:${m.messageId}`,
            });
            if (notification && !notification.readAt) await digests.open(userId, new Date(notification.createdAt));
          }
        },
        { concurrency: 4, retry },
      )
    : null;

  /**
   * message.sent → the chat job, except when every other participant of a small conversation has
   * the app open now: the job would find them all online and do nothing, and a durable job per
   * message (a few Redis scripts) was the larger part of what notifications cost a send. The job
   * checks again when it runs; presence that cannot be read means the job decides.
   */
  const chatIntake = chat && chatQueue
    ? async (m: ChatMessageJob): Promise<void> => {
        const everyoneOnline = await (async () => {
          const others = (await chat.participantIds(m.conversationId)).filter((id) => id !== m.senderId);
          if (others.length === 0 || others.length > PRESENCE_PRECHECK_MAX) return false;
          return (await Promise.all(others.map((id) => chat.isOnline(id)))).every(Boolean);
        })().catch(() => false);
        if (!everyoneOnline) await chatQueue.enqueue(`message:${m.messageId}`, m);
      }
    : null;

  ctx.jobs.reconcile(deliverQueue, { everyMs: config.reconcileEveryMs, findPending: (now) => dispatcher.findPending(now) });
  ctx.jobs.reconcile(digestQueue, { everyMs: config.reconcileEveryMs, findPending: (now) => digests.findPending(now) });
  ctx.jobs.reconcile(campaignQueue, { everyMs: config.reconcileEveryMs, findPending: (now) => campaigns.findPending(now) });

  const inbox = createInboxService({ models, io, clock, actionQueue, lifecycle });

  /** Enqueues what is due by the app's clock now (what the reconciliation schedules do each tick). */
  async function releaseDue(): Promise<number> {
    const now = clock();
    const due = [...(await dispatcher.findPending(now))];
    for (const record of due) await deliverQueue.enqueue(record.key, record.data);
    const digestsDue = await digests.findPending(now);
    for (const record of digestsDue) await digestQueue.enqueue(record.key, record.data);
    const campaignsDue = await campaigns.findPending(now);
    for (const record of campaignsDue) await campaignQueue.enqueue(record.key, record.data);
    return due.length + digestsDue.length + campaignsDue.length;
  }

  return {
    models,
    notify,
    inbox,
    preferences,
    devices,
    digests,
    campaigns,
    channels,
    releaseDue,
    twilioStatus: createTwilioStatusHandler({ models, store }),
    queues: { intake: intakeQueue, chat: chatIntake },
    registerActionHandler(category: NotificationCategory, handler: ActionHandler) {
      actionHandlers.set(category, handler);
    },
    close() {
      for (const channel of Object.values(channels)) channel.close?.();
    },
  };
}

export type NotificationServices = ReturnType<typeof createNotificationServices>;

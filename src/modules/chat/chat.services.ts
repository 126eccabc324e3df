import type { Server as IoServer } from 'socket.io';
import type { AttachmentsService } from '../uploads';
import type { UserDirectory } from '../users';
import type { AppContext } from '../../platform/context';
import type { ChatConfig } from './chat.config';
import { createChangeNumbers } from './change-numbers';
import { createLocks } from '../../platform/locks';
import { getChatModels } from './chat.model';
import { createChatStore, createNotifier } from './chat.store';
import { createConversationDetails, createConversationsService } from './conversations.service';
import { createMessagesService, type SendHooks } from './messages.service';
import { createMessageChangesService } from './message-changes.service';
import { createReceiptsService } from './receipts.service';
import { createSyncService } from './sync.service';
import { createSendRateLimit } from './send-rate-limit';
import { createPresence } from './presence';
import { createTyping } from './typing';
import { createLocalMembershipChannel, createRedisMembershipChannel, membershipChannelName, membershipInvalidators } from './membership-channel';
import { createMembershipCache } from './membership-cache';
import { createLocalViewsChannel, createRedisViewsChannel, viewsChannelName, viewsPublishers } from './views-channel';
import { createPageCache } from './page-cache';
import { createListCache } from './list-cache';
import { sweepMessageEmits } from './emits-sweep';
import { createEmitClaims } from './emit-claims';

/** Fault injection for tests, per app instance (its context): see SendHooks. */
export const sendHooks = new WeakMap<AppContext, SendHooks>();

/** The services wired on each app instance (its context), for tests that look inside (cache stats). */
export const chatServicesOf = new WeakMap<AppContext, ChatServices>();

export interface ChatServiceDeps {
  ctx: AppContext;
  config: ChatConfig;
  io: IoServer;
  users: UserDirectory;
  attachments?: AttachmentsService;
}

/** Wires every chat use case on one context; two app instances get two independent sets. */
export function createChatServices({ ctx, config, io, users, attachments }: ChatServiceDeps) {
  const { clock, logger } = ctx;
  const models = getChatModels(ctx.mongo);
  // Participant lists cached per process; every membership change invalidates them on every process.
  const membership = createMembershipCache({
    channel: ctx.redis
      ? createRedisMembershipChannel({ redis: ctx.redis, channel: membershipChannelName(ctx.config.redis.keyPrefix), logger })
      : createLocalMembershipChannel(),
    maxEntries: config.membershipCacheMax,
    ttlMs: config.membershipCacheTtlMs,
  });
  // Views (message pages, conversation lists) cached per process; every write that changes one publishes on this channel.
  const viewsChannel = ctx.redis
    ? createRedisViewsChannel({ redis: ctx.redis, channel: viewsChannelName(ctx.config.redis.keyPrefix), logger })
    : createLocalViewsChannel();
  const pages = createPageCache({ channel: viewsChannel, maxConversations: config.pageCacheMaxConversations, ttlMs: config.pageCacheTtlMs });
  const lists = createListCache({ channel: viewsChannel, maxUsers: config.listCacheMaxUsers, ttlMs: config.listCacheTtlMs });
  const publishViews = viewsChannel.publish;
  viewsPublishers.set(ctx, publishViews);
  membershipInvalidators.set(ctx, (conversationIds) => membership.invalidate(conversationIds));
  const views = { channel: viewsChannel, pages, lists, publish: publishViews, start: () => viewsChannel.start(), close: () => viewsChannel.close() };
  const store = createChatStore(models, createChangeNumbers(ctx.mongo, config), createLocks(ctx.mongo, { leaseMs: config.lockLeaseMs }), membership, publishViews);
  const notifier = createNotifier(io);
  const conversations = createConversationsService({ models, store, notifier, users, config, clock, lists, publishViews });
  const consumeSendBudget = createSendRateLimit({
    redis: ctx.redis,
    keyPrefix: ctx.config.redis.keyPrefix,
    max: config.sendRateMax,
    windowMs: config.sendRateWindowMs,
    clock,
  });
  const emitClaims = createEmitClaims({
    models, redis: ctx.redis, keyPrefix: ctx.config.redis.keyPrefix, retentionMs: config.emitRetentionHours * 3_600_000, clock,
  });
  const messages = createMessagesService({
    models, store, notifier, emitClaims, consumeSendBudget, attachments, events: ctx.events, logger, lockLeaseMs: config.lockLeaseMs, pages, publishViews,
    // Looked up on every send, so a test may set them after the app started.
    hooks: { afterStore: (message) => sendHooks.get(ctx)?.afterStore?.(message) ?? Promise.resolve() },
  });
  const changes = createMessageChangesService({ models, store, notifier, config, clock, publishViews });
  const receipts = createReceiptsService({ models, store, notifier, clock });
  const sync = createSyncService({ models, receipts, config, clock });
  const presence = createPresence({
    redis: ctx.redis,
    keyPrefix: ctx.config.redis.keyPrefix,
    heartbeatMs: config.presenceHeartbeatMs,
    clock,
    logger,
    onChange: (userId, status, lastSeenAt) => {
      conversations
        .contactsOf(userId)
        .then((contacts) => notifier.toUsers(contacts, 'user:status_change', { userId, status, lastSeenAt }))
        .catch((err: Error) => logger.warn('Could not announce a presence change', { error: err.message }));
    },
  });
  const typing = createTyping({
    timeoutMs: config.typingTimeoutMs,
    requireMember: (conversationId, userId) => store.requireMember(conversationId, userId),
    emit: async (event, conversationId, userId) => {
      const conversation = await models.Conversation.findById(conversationId, { participantIds: 1 }).lean();
      const others = (conversation?.participantIds ?? []).map(String).filter((id) => id !== userId);
      notifier.toUsers(others, event, { conversationId, userId });
    },
  });
  const conversationDetails = createConversationDetails(conversations, presence);
  // Emit claims stored while Redis was absent or down, older than any real retry, are deleted
  // (emits-sweep.ts; Redis expires its own); once at a time across processes with Redis.
  // By the app's clock (claims are stamped with it), not the runner's.
  ctx.jobs.schedule('chat-emits-sweep', { everyMs: config.emitSweepEveryMs }, async () => {
    const { deleted } = await sweepMessageEmits(models, { now: clock(), retentionMs: config.emitRetentionHours * 3_600_000 });
    if (deleted > 0) logger.info('Swept chat emit claims', { deleted });
  });
  const services = { models, store, membership, views, conversations, conversationDetails, messages, changes, receipts, sync, presence, typing };
  chatServicesOf.set(ctx, services);
  return services;
}

export type ChatServices = ReturnType<typeof createChatServices>;

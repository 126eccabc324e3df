import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../platform/context';
import type { AppModule } from '../platform/module';
import { createSystemModule } from './system';
import { createAuthModule, readAuthConfig, type AuthGuards } from './auth';
import { createAccountServices, createUsersModule, readUsersConfig } from './users';
import { createUploadsModule, readUploadsConfig } from './uploads';
import { createChatModule, readChatConfig, startChatMaintenance, type ChatModule, type ConversationAccess } from './chat';
import { createAnalyticsModule, readAnalyticsConfig } from './analytics';
import { createAdminModule, readAdminConfig } from './admin';
import { createNotificationsModule, readNotificationsConfig, subscribeNotifications } from './notifications';
import { createWebhooksModule, readWebhooksConfig, type WebhooksModule } from './webhooks';
import { createAiModule } from './ai';
import { createOffersModule, readOffersConfig, type OffersModule, type OrdersDirectory } from './offers';
import { createFinanceModule, readFinanceConfig } from './finance';

/**
 * Each module's configuration section: the key it has in Config and the function that reads and
 * validates it (src/modules/<m>/<m>.config.ts). src/config.ts composes them with the platform's.
 */
export const moduleConfigReaders = {
  auth: readAuthConfig,
  users: readUsersConfig,
  uploads: readUploadsConfig,
  chat: readChatConfig,
  analytics: readAnalyticsConfig,
  admin: readAdminConfig,
  notifications: readNotificationsConfig,
  webhooks: readWebhooksConfig,
  offers: readOffersConfig,
  finance: readFinanceConfig,
};

export type ModuleConfigs = { [K in keyof typeof moduleConfigReaders]: ReturnType<(typeof moduleConfigReaders)[K]> };

export interface ModuleDeps {
  ctx: AppContext;
  /** Every module's own section; each factory is given only its own. */
  config: ModuleConfigs;
  io: IoServer;
  openSockets: () => number;
  isShuttingDown: () => boolean;
  /** From the auth module, created first: `deps.auth.requireAuth`, `deps.auth.requireRole('admin')`. */
  auth: AuthGuards;
}

/** Every business module, in mounting order. Modules import each other only through index.ts. */
export function createModules(base: Omit<ModuleDeps, 'auth'>): AppModule[] {
  const { ctx, config, io } = base;
  // Analytics records every domain event (a bounded buffer flushed to PostgreSQL in batches; never
  // blocks a publisher). Listed early so that it stops late: it drains the bus and flushes last.
  const analytics = createAnalyticsModule({ ctx, config: config.analytics });
  analytics.subscribe(ctx.events);
  const authModule = createAuthModule({ ctx, io, config: config.auth });
  const deps: ModuleDeps = { ...base, auth: { requireAuth: authModule.requireAuth, requireRole: authModule.requireRole } };
  const users = createUsersModule({ ...deps, config: config.users });
  // Chat and uploads use each other's contracts: chat attaches files through uploads' AttachmentsService,
  // uploads asks chat's ConversationAccess who may see a shared file. Uploads is built first against a
  // ConversationAccess that forwards to chat once chat exists (it is asked only while serving requests,
  // after this function returns); until then it answers "no", so nothing is ever shown by mistake.
  let chat: ChatModule | null = null;
  const conversations: ConversationAccess = {
    isParticipant: (conversationId, userId) => (chat ? chat.isParticipant(conversationId, userId) : Promise.resolve(false)),
  };
  const uploads = createUploadsModule({ ctx, config: config.uploads, requireAuth: deps.auth.requireAuth, conversations });
  chat = createChatModule({ ctx, config: config.chat, io, auth: deps.auth, users: users.directory, attachments: uploads });
  // Chat's upkeep: messages stored before page keys get them in a scheduled job. What it returns also
  // repairs derived counts and positions: admins reach repairConversation through their chat port.
  const chatMaintenance = startChatMaintenance(ctx);
  // The webhook inbox: finance and notifications register their providers' handlers on webhooks.handlers;
  // Carrier callbacks (provider logistics) move orders through offers' applyShipmentUpdate.
  // Offers live in chat conversations (participants, an `offer` message per round).
  // Finance and offers use each other's contracts: offers holds credit through finance's CreditHolds, finance
  // reads orders (payments for an order) through offers' OrdersDirectory, forwarded once offers exists.
  let offersModule: OffersModule | null = null;
  const orders: OrdersDirectory = {
    getOrder: (orderId) => (offersModule ? offersModule.orders.getOrder(orderId) : Promise.resolve(null)),
    getOrderForParty: (orderId, userId) => (offersModule ? offersModule.orders.getOrderForParty(orderId, userId) : Promise.resolve(null)),
  };
  const finance = createFinanceModule({ ctx, config: config.finance, io, auth: deps.auth, orders, users: users.directory });
  finance.subscribe(ctx.events);
  const offers = createOffersModule({ ctx, config: config.offers, io, auth: deps.auth, users: users.directory, chat, attachments: uploads, credit: finance.creditHolds });
  offersModule = offers;
  // AI entry points (/api/ai): access through chat's and uploads' contracts, the task run by the webhook
  // inbox's AI tasks (forwarded once the inbox exists); its sinks turn an extracted catalogue into a draft offer.
  let aiTasks: WebhooksModule['aiTasks'] | null = null;
  const requireAiTasks = () => {
    if (!aiTasks) throw new Error('The webhook inbox is not composed yet');
    return aiTasks;
  };
  const ai = createAiModule({
    ctx,
    requireAuth: deps.auth.requireAuth,
    tasks: {
      startTranslation: (...args) => requireAiTasks().startTranslation(...args),
      startCatalogueExtraction: (...args) => requireAiTasks().startCatalogueExtraction(...args),
      get: (...args) => requireAiTasks().get(...args),
    },
    configured: config.webhooks.ai.providerUrl !== null,
    messages: chat,
    uploads,
  });
  const webhooks = createWebhooksModule({
    ctx,
    config: config.webhooks,
    shipments: offers,
    aiSinks: ai.sinks,
    // A finished AI task (translation, catalogue extraction) is announced on its requester's devices.
    notifyUser: (userId, event, payload) => void io.to(`user:${userId}`).emit(event, payload),
  });
  aiTasks = webhooks.aiTasks;
  // Notifications read contact details and preferences through users' directory, write preferences
  // through users' profile service (one record of them), and ask chat who is in a conversation and online.
  const profiles = createAccountServices(ctx.mongo).profiles;
  const notifications = createNotificationsModule({
    ctx,
    config: config.notifications,
    io,
    auth: deps.auth,
    recipients: {
      profile: (userId) => users.directory.notificationProfile(userId),
      updatePreferences: async (userId, patch) => void (await profiles.updatePreferences(userId, patch)),
      listIds: (segment, afterId, limit) => users.directory.listIds(segment, afterId, limit),
    },
    chat,
  });
  subscribeNotifications(ctx.events, notifications);
  webhooks.handlers.register('twilio', notifications.twilioStatusHandler);
  for (const provider of ['stripe', 'razorpay', 'payu'] as const) webhooks.handlers.register(provider, finance.webhookHandlers[provider]);
  // Admin reaches accounts through users' admin directory and auth's access contract, and oversees
  // the other modules through their admin contracts (each route group is mounted only when given).
  const admin = createAdminModule({
    ctx,
    config: config.admin,
    requireRole: deps.auth.requireRole,
    users: users.admin,
    access: authModule.access,
    sessions: { list: (userId, current) => authModule.sessions.list(userId, current), revokeAll: (userId, reason) => authModule.sessions.revokeAll(userId, reason) },
    forcePasswordReset: (userId) => authModule.forcePasswordReset(userId),
    counts: { repairCounts: (userId) => users.repairCounts(userId), repairAllCounts: (options) => users.repairAllCounts(options) },
    jobs: ctx.jobs,
    analytics: analytics.queries,
    offers: offers.admin,
    webhooks: webhooks.admin,
    finance: finance.admin,
    notifications: notifications.admin,
    chat: { repairConversation: (conversationId) => chatMaintenance.repairConversation(conversationId) },
  });
  // "Products by volume": analytics reads a new order's lines through offers' contract.
  analytics.useOrderLines((orderId) => offers.orders.getOrder(orderId));
  analytics.onHealthChange(({ down, error, buffered }) =>
    admin.dependencyChanged({ dependency: 'postgresql', down, via: 'analytics', error, buffered }),
  );
  return [createSystemModule(deps), analytics, authModule, users, uploads, chat, offers, finance, webhooks, ai, notifications, admin];
}

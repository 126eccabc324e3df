import type { Role } from '../../platform/auth-context';
import type { FailedJob } from '../../platform/jobs';
import type { AnalyticsQueries } from '../analytics';
import type { UserAdminDirectory } from '../users';

/**
 * What the admin module needs from other modules, as ports the composition root fills. The
 * required ones come from users, auth, jobs and analytics; the oversight ports are optional: a route
 * group is mounted only when its port is given (modules being built expose these on their module
 * objects). Method syntax keeps the ports structurally compatible with the modules' own types.
 */
export interface Page<T = unknown> {
  data: T[];
  page: { nextCursor: string | null; limit: number };
}

export interface AccessPort {
  suspend(userId: string): Promise<void>;
  reinstate(userId: string): Promise<void>;
  changeRole(userId: string, role: Role): Promise<void>;
}

export interface SessionsPort {
  list(userId: string, currentSessionId: string): Promise<unknown[]>;
  revokeAll(userId: string, reason: string): Promise<void>;
}

export interface CoreAdminPorts {
  users: UserAdminDirectory;
  access: AccessPort;
  sessions: SessionsPort;
  /** Ends every session and mails a reset link (AuthModule.forcePasswordReset). */
  forcePasswordReset(userId: string): Promise<void>;
  jobs: {
    listFailed(options?: { queue?: string; limit?: number }): Promise<FailedJob[]>;
    /** Runs a failed job again (JobRunner.retryFailed); the retry route is mounted only when given. */
    retryFailed?(queue: string, key: string): Promise<boolean>;
  };
  /** Null without PostgreSQL: the analytics routes answer 503 ANALYTICS_UNAVAILABLE. */
  analytics: AnalyticsQueries | null;
  /** Users' follower/following count repairs (UsersModule.repairCounts, repairAllCounts); the routes are mounted only when given. */
  counts?: CountsRepairPort;
}

export interface CountsRepairPort {
  repairCounts(userId: string): Promise<{ followersCount: number; followingCount: number } | null>;
  repairAllCounts(options?: { batchSize?: number; afterId?: string | null }): Promise<{ checked: number; repaired: number; lastId: string | null }>;
}

/** Offers and orders oversight (OffersModule.admin). */
export interface OffersAdminPort {
  listOffers(filters: { status?: string; buyerId?: string; vendorId?: string; conversationId?: string; limit?: number; cursor?: string }): Promise<Page>;
  listOrders(filters: { status?: string; buyerId?: string; vendorId?: string; limit?: number; cursor?: string }): Promise<Page>;
  /** Answers the order as it is after the cancellation. */
  cancelOrder(orderId: string, actorId: string, reason: string): Promise<unknown>;
}

/** Webhook inbox oversight (WebhooksModule.admin). */
export interface WebhooksAdminPort {
  list(query: { provider?: string; type?: string; outcome?: string; from?: string; to?: string; limit?: number; cursor?: string }): Promise<unknown>;
  get(id: string): Promise<unknown>;
  replay(id: string): Promise<unknown>;
}

/** Finance oversight (FinanceModule.admin). Each change answers the line before and after it, for the audit record. */
export interface FinanceAdminPort {
  setLimit(input: { buyerId: string; vendorId: string; currency: string; limit: number; creditDays?: number; actorId: string }): Promise<{ before: unknown; after: unknown }>;
  freeze(lineId: string, input: { actorId: string; reason: string }): Promise<{ before: unknown; after: unknown }>;
  unfreeze(lineId: string, input: { actorId: string; reason: string | null }): Promise<{ before: unknown; after: unknown }>;
  getLine(lineId: string): Promise<unknown>;
  risk(lineId: string): Promise<unknown>;
  reconcile(): Promise<unknown>;
  lastReconciliation(): Promise<unknown>;
  /** Newest first; userId is either party (payer or vendor); [from, to) on creation (disputes: opening). */
  listPayments(query: FinanceListQuery): Promise<Page>;
  listRefunds(query: FinanceListQuery): Promise<Page>;
  listDisputes(query: FinanceListQuery): Promise<Page>;
}

export interface FinanceListQuery {
  status?: string;
  provider?: string;
  userId?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

/** Notifications oversight (NotificationsModule.admin): campaigns and delivery figures. */
export interface NotificationsAdminPort {
  createCampaign(adminId: string, input: { title: string; body: string; data?: Record<string, string>; segment?: { roles?: string[]; countries?: string[]; activeWithinDays?: number | null }; scheduledAt?: string }): Promise<unknown>;
  campaign(id: string): Promise<unknown>;
  stats(range: { from: Date; to: Date }): Promise<unknown>;
  deliveries(notificationId: string): Promise<unknown[]>;
}

export interface OversightPorts {
  offers?: OffersAdminPort;
  webhooks?: WebhooksAdminPort;
  finance?: FinanceAdminPort;
  notifications?: NotificationsAdminPort;
  chat?: ChatRepairPort;
}

/** Chat's repair of what every view reads (ChatMaintenance.repairConversation). */
export interface ChatRepairPort {
  /** Null when there is no such conversation; `fixed` lists what had drifted and was set from the source rows. */
  repairConversation(conversationId: string): Promise<{ conversationId: string; fixed: string[] } | null>;
}

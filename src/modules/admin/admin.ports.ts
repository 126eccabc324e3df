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
  jobs: { listFailed(options?: { queue?: string; limit?: number }): Promise<FailedJob[]> };
  /** Null without PostgreSQL: the analytics routes answer 503 ANALYTICS_UNAVAILABLE. */
  analytics: AnalyticsQueries | null;
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

/** Finance oversight (FinanceModule's admin contract). Each mutation answers the credit line after it. */
export interface FinanceAdminPort {
  listCreditLines(filters: { buyerId?: string; vendorId?: string; status?: string; limit?: number; cursor?: string }): Promise<Page>;
  getCreditLine(creditLineId: string): Promise<unknown>;
  setCreditLimit(creditLineId: string, limit: number, actorId: string, reason: string): Promise<unknown>;
  freeze(creditLineId: string, actorId: string, reason: string): Promise<unknown>;
  unfreeze(creditLineId: string, actorId: string, reason: string): Promise<unknown>;
  listPayments(filters: { userId?: string; status?: string; limit?: number; cursor?: string }): Promise<Page>;
  listRefunds(filters: { userId?: string; limit?: number; cursor?: string }): Promise<Page>;
  listDisputes(filters: { status?: string; limit?: number; cursor?: string }): Promise<Page>;
  reconciliation(): Promise<unknown>;
  /** The dashboard's credit figures: outstanding and overdue per currency. */
  creditSummary(): Promise<{ outstanding: Array<{ amount: number; currency: string }>; overdue: Array<{ amount: number; currency: string }> }>;
  /** A user's credit lines, as buyer or vendor (the admin's view of an account). */
  creditLinesOf(userId: string): Promise<unknown[]>;
}

/** Notifications oversight (stats and campaigns). */
export interface NotificationsAdminPort {
  stats(period: { from: string; to: string }): Promise<unknown>;
  listCampaigns(query: { limit?: number; cursor?: string }): Promise<Page>;
  /** Answers the campaign created. */
  createCampaign(input: { title: string; body: string; segment: string; category: string }, actorId: string): Promise<unknown>;
}

export interface OversightPorts {
  offers?: OffersAdminPort;
  webhooks?: WebhooksAdminPort;
  finance?: FinanceAdminPort;
  notifications?: NotificationsAdminPort;
}

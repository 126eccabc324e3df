import type { Role } from '../../platform/auth-context';
import { errors } from '../../platform/errors';
import type { UserSearchQuery } from '../users';
import { ADMIN_ROLES, type AdminActor } from './admin.guard';
import { adminErrors } from './admin.errors';
import type { CoreAdminPorts } from './admin.ports';
import type { AuditTrail } from './audit.service';

export interface UsersAdminDeps extends Pick<CoreAdminPorts, 'users' | 'access' | 'sessions' | 'forcePasswordReset' | 'analytics' | 'counts'> {
  audit: AuditTrail;
  /** Queues a full count repair as a durable job (admin index.ts); answers the job's key. */
  enqueueRepairAll?: (actor: AdminActor, reason: string) => Promise<string>;
  /** Serialises actions on one account (src/platform/locks.ts): the check and the write happen under it. */
  withLock<T>(key: string, work: () => Promise<T>): Promise<T>;
}

const isAdminRole = (role: string) => ADMIN_ROLES.includes(role as Role);

/** Account oversight. Every method takes the acting admin first (guardService checks it). */
export function createUsersAdminService({ users, access, sessions, forcePasswordReset, analytics, audit, withLock, counts, enqueueRepairAll }: UsersAdminDeps) {
  // Two admins acting on one account at once: one runs, the other then sees the new state (409).
  const locked = <T>(userId: string, work: () => Promise<T>) => withLock(`admin:user:${userId}`, work);

  /** The target, after the rules every account action shares: it exists, it is not the actor, and an admin account takes a super_admin. */
  async function target(actor: AdminActor, userId: string) {
    const user = await users.get(userId);
    if (!user || user.status === 'deleted') throw errors.notFound('User');
    if (user.id === actor.userId) throw adminErrors.ownAccount();
    if (isAdminRole(user.role) && actor.role !== 'super_admin') throw adminErrors.superAdminRequired();
    return user;
  }

  return {
    search: (_actor: AdminActor, query: UserSearchQuery) => users.search(query),

    async view(_actor: AdminActor, userId: string) {
      const user = await users.get(userId);
      if (!user) throw errors.notFound('User');
      // Credit lines: finance's admin contract has no per-user list yet (see the report), so none here.
      const [openSessions, recentActivity] = await Promise.all([
        sessions.list(userId, ''),
        analytics ? analytics.recentForUser(userId, 20).catch(() => null) : Promise.resolve(null),
      ]);
      return { user, sessions: openSessions, recentActivity };
    },

    /** The account can no longer act: every session ends and its sockets close at once, on every process. */
    suspend: (actor: AdminActor, userId: string, reason: string) => locked(userId, async () => {
      const user = await target(actor, userId);
      if (user.status !== 'active') throw errors.conflict(`The account is ${user.status}`);
      await access.suspend(userId);
      await sessions.revokeAll(userId, 'suspended');
      const after = await users.get(userId);
      await audit.record(actor, { action: 'user.suspend', targetType: 'user', targetId: userId, before: { status: user.status }, after: { status: after?.status ?? 'suspended' }, reason });
      return after;
    }),

    /** The account may sign in again (its old sessions stay ended). */
    reactivate: (actor: AdminActor, userId: string, reason: string) => locked(userId, async () => {
      const user = await target(actor, userId);
      if (user.status !== 'suspended') throw errors.conflict(`The account is ${user.status}`);
      await access.reinstate(userId);
      const after = await users.get(userId);
      await audit.record(actor, { action: 'user.reactivate', targetType: 'user', targetId: userId, before: { status: user.status }, after: { status: after?.status ?? 'active' }, reason });
      return after;
    }),

    /** Only a super_admin grants or removes an admin role; nobody changes their own. Effective on the user's next request. */
    changeRole: (actor: AdminActor, userId: string, role: Role, reason: string) => locked(userId, async () => {
      if (userId === actor.userId) throw adminErrors.ownAccount();
      if (isAdminRole(role) && actor.role !== 'super_admin') throw adminErrors.superAdminRequired();
      const user = await target(actor, userId);
      if (user.role === role) throw errors.conflict(`The account is already ${role}`);
      await access.changeRole(userId, role);
      const after = await users.get(userId);
      await audit.record(actor, { action: 'user.role_change', targetType: 'user', targetId: userId, before: { role: user.role }, after: { role: after?.role ?? role }, reason });
      return after;
    }),

    /** Recomputes one account's follower and following counts from the follow edges (audited with both figures before and after). */
    async repairCounts(actor: AdminActor, userId: string, reason: string) {
      if (!counts) throw errors.notFound('Route');
      const user = await users.get(userId);
      if (!user) throw errors.notFound('User');
      const before = { followersCount: user.followersCount, followingCount: user.followingCount };
      const after = await counts.repairCounts(userId);
      if (!after) throw errors.notFound('User');
      await audit.record(actor, { action: 'user.repair_counts', targetType: 'user', targetId: userId, before, after, reason });
      return { userId, before, after, changed: before.followersCount !== after.followersCount || before.followingCount !== after.followingCount };
    },

    /** Queues a repair of every account's counts (a durable job; its result is audited when it ends). */
    async repairAllCounts(actor: AdminActor, reason: string) {
      if (!counts || !enqueueRepairAll) throw errors.notFound('Route');
      const jobKey = await enqueueRepairAll(actor, reason);
      await audit.record(actor, { action: 'users.repair_all_counts.queued', targetType: 'users', targetId: null, before: null, after: { jobKey }, reason });
      return { jobKey, queued: true };
    },

    /** Every session ends and a reset link is mailed to the account's address. */
    async forcePasswordReset(actor: AdminActor, userId: string, reason: string) {
      const user = await target(actor, userId);
      const before = (await sessions.list(userId, '')).length;
      await forcePasswordReset(userId);
      await audit.record(actor, { action: 'user.password_reset', targetType: 'user', targetId: userId, before: { openSessions: before }, after: { openSessions: 0, resetMailed: user.status === 'active' }, reason });
      return { userId, sessionsEnded: before, resetMailed: user.status === 'active' };
    },
  };
}

import type { Role } from '../../platform/auth-context';
import { errors } from '../../platform/errors';
import type { UserAccounts } from '../users';
import type { AccessCache } from './access-cache';
import type { SessionsService } from './sessions.service';

export interface AccessServiceDeps {
  users: Pick<UserAccounts, 'setStatus' | 'setRole'>;
  sessions: Pick<SessionsService, 'revokeAll'>;
  cache: Pick<AccessCache, 'invalidate'>;
  /** Closes every socket of the user, on every process (the Socket.io adapter carries it). */
  disconnectUser: (userId: string) => void;
}

/**
 * Who may still act: suspension, reinstatement, deletion and role changes. Each writes the
 * account, then drops the cached state on every process before it returns, so the user's next
 * request anywhere reads the new state. Changing these fields any other way (by hand in the
 * database) takes effect only when the cached entries run out (AUTH_CACHE_TTL_SECONDS).
 */
export function createAccessService({ users, sessions, cache, disconnectUser }: AccessServiceDeps) {
  async function setStatus(userId: string, status: 'active' | 'suspended' | 'deleted'): Promise<void> {
    if (!(await users.setStatus(userId, status))) throw errors.notFound('User');
    await cache.invalidate({ users: [userId] });
  }

  return {
    async suspend(userId: string): Promise<void> {
      await setStatus(userId, 'suspended');
      disconnectUser(userId);
    },

    async reinstate(userId: string): Promise<void> {
      await setStatus(userId, 'active');
    },

    /** Deleted accounts lose every session too (reinstating one does not sign it back in). */
    async remove(userId: string): Promise<void> {
      await setStatus(userId, 'deleted');
      await sessions.revokeAll(userId, 'account_deleted');
      disconnectUser(userId);
    },

    async changeRole(userId: string, role: Role): Promise<void> {
      if (!(await users.setRole(userId, role))) throw errors.notFound('User');
      await cache.invalidate({ users: [userId] });
    },
  };
}

export type AccessService = ReturnType<typeof createAccessService>;

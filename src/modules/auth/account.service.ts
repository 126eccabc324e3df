import type { EventBus } from '../../platform/events';
import type { UserAccounts } from '../users';
import { authErrors } from './auth.errors';
import type { Passwords } from './passwords';
import type { SessionsService } from './sessions.service';
import type { EmailTokensService } from './email-tokens.service';

export interface AccountServiceDeps {
  users: Pick<UserAccounts, 'markEmailVerified' | 'setPassword' | 'passwordHashOf'>;
  passwords: Passwords;
  sessions: SessionsService;
  emailTokens: EmailTokensService;
  clock: () => Date;
  events?: Pick<EventBus, 'publish'>;
}

/** Email verification, password reset and password change. */
export function createAccountService({ users, passwords, sessions, emailTokens, clock, events }: AccountServiceDeps) {
  return {
    async verifyEmail(token: string): Promise<void> {
      const userId = await emailTokens.consume(token, 'verify_email');
      await users.markEmailVerified(userId);
    },

    /** A new password from a reset link; every session is signed out and the lockout lifted. */
    async resetPassword(token: string, password: string): Promise<void> {
      const passwordHash = await passwords.hash(password);
      const userId = await emailTokens.consume(token, 'reset_password');
      // Reading the mail also proves the address, and lifts a lockout.
      const updated = await users.setPassword(userId, passwordHash, clock(), { reset: true });
      if (!updated) throw authErrors.invalidOneTimeToken();
      await sessions.revokeAll(userId, 'password_reset');
      events?.publish('password.changed', { userId: String(userId), at: clock().toISOString() });
    },

    /** Needs the current password; the caller's own session survives, every other is signed out. */
    async changePassword(userId: string, sessionId: string, currentPassword: string, newPassword: string): Promise<void> {
      const user = await users.passwordHashOf(userId);
      if (!user) throw authErrors.sessionRevoked();
      const ok = await passwords.verify(currentPassword, user.passwordHash);
      if (!ok) throw authErrors.wrongCurrentPassword();
      const passwordHash = await passwords.hash(newPassword);
      await users.setPassword(user._id, passwordHash, clock());
      await sessions.revokeAll(userId, 'password_changed', sessionId);
      events?.publish('password.changed', { userId, at: clock().toISOString() });
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;

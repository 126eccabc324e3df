import type { Types } from 'mongoose';
import type { AuthConfig } from './auth.config';
import type { EventBus } from '../../platform/events';
import type { Role } from '../../platform/auth-context';
import { normaliseEmail, toMe, type MeView, type UserAccounts, type UserDoc } from '../users';
import { authErrors } from './auth.errors';
import type { AuthModels } from './auth.model';
import type { Passwords } from './passwords';
import type { DeviceInfo, IssuedTokens, SessionsService } from './sessions.service';
import type { EmailTokensService } from './email-tokens.service';

export interface SignInResult extends IssuedTokens {
  user: MeView;
}

export interface AuthServiceDeps {
  users: UserAccounts;
  loginFailures: AuthModels['loginFailures'];
  passwords: Passwords;
  sessions: SessionsService;
  emailTokens: EmailTokensService;
  config: AuthConfig;
  clock: () => Date;
  events?: Pick<EventBus, 'publish'>;
}

export function createAuthService({ users, loginFailures, passwords, sessions, emailTokens, config, clock, events }: AuthServiceDeps) {
  /** A new signed-in device is a security notice for the account's owner (notifications subscribe). */
  function announceSession(userId: string, sessionId: string, device: DeviceInfo): void {
    events?.publish('session.created', { userId, sessionId, deviceName: device.name, ip: device.ip, at: clock().toISOString() });
  }
  /**
   * Records a failure as an insert and counts the window: inserts stay exact under concurrency on
   * FerretDB, where $inc does not (see docs/architecture.md). Returns the lock end once the limit is hit.
   */
  async function recordFailure(userId: Types.ObjectId, clearedAt: Date | null | undefined): Promise<Date | null> {
    const now = clock();
    await loginFailures.create({ userId, at: now });
    const windowStart = new Date(now.getTime() - config.failedLoginWindowMinutes * 60_000);
    const since = clearedAt && clearedAt > windowStart ? clearedAt : windowStart;
    const count = await loginFailures.countDocuments({ userId, at: { $gt: since } });
    if (count < config.maxFailedLogins) return null;
    const lockedUntil = new Date(now.getTime() + config.lockMinutes * 60_000);
    await users.lock(userId, lockedUntil, now);
    return lockedUntil;
  }

  return {
    async register(
      input: { email: string; password: string; name: string; phone?: string; role?: 'user' | 'vendor' },
      device: DeviceInfo,
    ): Promise<SignInResult> {
      const passwordHash = await passwords.hash(input.password);
      const user: UserDoc | null = await users.create({
        email: input.email,
        name: input.name,
        phone: input.phone,
        // Only the self-service roles; admin roles come from create-admin or an admin.
        role: input.role ?? 'user',
        passwordHash,
      });
      if (!user) throw authErrors.emailTaken();
      events?.publish('user.registered', { userId: String(user._id), role: user.role, at: new Date(user.createdAt).toISOString() });
      await emailTokens.sendVerification(user);
      const tokens = await sessions.start(user, device);
      announceSession(String(user._id), tokens.sessionId, device);
      return { user: toMe(user), ...tokens };
    },

    async login(input: { email: string; password: string }, device: DeviceInfo): Promise<SignInResult> {
      const now = clock();
      const user = await users.findForSignIn(input.email);
      if (!user || user.status === 'deleted') {
        await passwords.burn(input.password);
        throw authErrors.invalidCredentials();
      }
      if (user.lockedUntil && user.lockedUntil > now) {
        // Compare anyway so a locked account answers in the same time as any other.
        await passwords.burn(input.password);
        throw authErrors.accountLocked(user.lockedUntil, now);
      }
      const ok = await passwords.verify(input.password, user.passwordHash);
      if (!ok) {
        const lockedUntil = await recordFailure(user._id, user.failuresClearedAt);
        throw lockedUntil ? authErrors.accountLocked(lockedUntil, clock()) : authErrors.invalidCredentials();
      }
      if (user.status === 'suspended') throw authErrors.accountSuspended();
      await users.clearFailures(user._id, now);
      const tokens = await sessions.start(user, device);
      announceSession(String(user._id), tokens.sessionId, device);
      // toMe picks named fields only, so the hash never reaches the response.
      return { user: toMe(user), ...tokens };
    },

    /** Used by the create-admin command; never reachable through an open endpoint. */
    async createPrivileged(input: { email: string; password: string; name: string; role: Role }): Promise<{ id: string; created: boolean }> {
      const email = normaliseEmail(input.email);
      const passwordHash = await passwords.hash(input.password);
      const existingId = await users.findIdByEmail(email);
      if (existingId) {
        await users.promote(existingId, { role: input.role, passwordHash, at: clock() });
        await sessions.forgetUser(String(existingId));
        await sessions.revokeAll(existingId, 'role_changed');
        return { id: String(existingId), created: false };
      }
      const created = await users.create({ email, name: input.name, role: input.role, emailVerified: true, passwordHash });
      if (!created) throw authErrors.emailTaken();
      return { id: String(created._id), created: true };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;

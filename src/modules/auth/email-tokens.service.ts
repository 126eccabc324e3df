import type { Types } from 'mongoose';
import type { PlatformConfig } from '../../platform/config';
import type { AuthConfig } from './auth.config';
import type { Mailer } from '../../platform/mail';
import type { Logger } from '../../platform/logger';
import type { UserAccounts, UserDoc } from '../users';
import { claimOnce, type AuthModels, type OneTimePurpose } from './auth.model';
import { authErrors } from './auth.errors';
import { buildLink, resetMail, verificationMail } from './auth.mail';
import { hashToken, randomToken } from './tokens';

export interface EmailTokensDeps {
  models: AuthModels;
  users: Pick<UserAccounts, 'findActiveByEmail'>;
  mailer: Mailer;
  config: { auth: AuthConfig; mail: PlatformConfig['mail'] };
  clock: () => Date;
  logger: Logger;
}

/** Verification and reset links: random, stored hashed, single use, expiring. */
export function createEmailTokensService({ models, users, mailer, config, clock, logger }: EmailTokensDeps) {
  const { oneTimeTokens } = models;

  async function issue(userId: Types.ObjectId, purpose: OneTimePurpose, ttlMs: number): Promise<string> {
    const now = clock();
    // A new link replaces the older ones of the same purpose.
    await oneTimeTokens.updateMany({ userId, purpose, usedAt: null }, { $set: { usedAt: now } });
    const token = randomToken();
    await oneTimeTokens.create({ hash: hashToken(token), purpose, userId, createdAt: now, expiresAt: new Date(now.getTime() + ttlMs) });
    return token;
  }

  async function deliver(send: () => Promise<void>, what: string) {
    // A mail outage must not fail sign-up; the user can ask for the link again.
    await send().catch((err: unknown) => logger.warn('Mail delivery failed', { what, error: err instanceof Error ? err.message : String(err) }));
  }

  return {
    async sendVerification(user: Pick<UserDoc, '_id' | 'email' | 'name'>): Promise<void> {
      const ttlHours = config.auth.emailTokenTtlHours;
      const token = await issue(user._id, 'verify_email', ttlHours * 3_600_000);
      const link = buildLink(config.mail.appUrl, 'verify-email', token);
      await deliver(() => mailer.send(verificationMail(user.email, user.name, link, ttlHours)), 'verification');
    },

    async resendVerification(email: string): Promise<void> {
      const user = await users.findActiveByEmail(email);
      if (!user || user.emailVerified) return;
      await this.sendVerification(user);
    },

    async sendReset(email: string): Promise<void> {
      const user = await users.findActiveByEmail(email);
      if (!user) return;
      const ttlMinutes = config.auth.resetTokenTtlMinutes;
      const token = await issue(user._id, 'reset_password', ttlMinutes * 60_000);
      const link = buildLink(config.mail.appUrl, 'reset-password', token);
      await deliver(() => mailer.send(resetMail(user.email, user.name, link, ttlMinutes)), 'reset');
    },

    /** Single use: the token must be current, and the unique claim on its hash lets exactly one caller through. */
    async consume(token: string, purpose: OneTimePurpose): Promise<Types.ObjectId> {
      const now = clock();
      const hash = hashToken(token);
      const found = await oneTimeTokens.findOne({ hash, purpose, usedAt: null, expiresAt: { $gt: now } }).lean();
      if (!found || !(await claimOnce(models, hash, now, found.expiresAt))) throw authErrors.invalidOneTimeToken();
      await oneTimeTokens.updateOne({ _id: found._id }, { $set: { usedAt: now } });
      return found.userId;
    },
  };
}

export type EmailTokensService = ReturnType<typeof createEmailTokensService>;

import { Types } from 'mongoose';
import type { AuthContext } from '../../platform/auth-context';
import { errors } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import type { UserAccounts, UserDoc } from '../users';
import { claimOnce, type AuthModels } from './auth.model';
import { authErrors } from './auth.errors';
import { hashToken, randomToken, type AccessTokens } from './tokens';
import type { AccessCache } from './access-cache';

export interface DeviceInfo {
  name: string | null;
  userAgent: string | null;
  ip: string | null;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  sessionId: string;
}

export interface SessionsDeps {
  models: AuthModels;
  users: Pick<UserAccounts, 'accessState'>;
  accessTokens: AccessTokens;
  refreshTtlDays: number;
  /**
   * A token used this recently is answered 409 instead of being treated as theft: two requests of
   * one phone refreshing at once (or a retry after a lost response) must not sign the user out.
   * The loser gets no tokens either way; after the grace, a reuse revokes the family.
   */
  refreshReuseGraceSeconds: number;
  clock: () => Date;
  logger: Logger;
  /** Told which sessions were just revoked, so live sockets of those sessions can be closed. */
  onRevoked?: (userId: string, sessionIds: string[]) => void;
  /**
   * Session and user state for authenticate(), invalidated on every process when a session is
   * revoked. Without one (the create-admin command) every check reads the store.
   */
  cache?: Pick<AccessCache, 'session' | 'user'>;
  /** Drops cached state on every process; awaited before a revocation answers. */
  invalidate?: AccessCache['invalidate'];
}

export function createSessionsService({ models, users, accessTokens, refreshTtlDays, refreshReuseGraceSeconds, clock, logger, onRevoked, cache, invalidate }: SessionsDeps) {
  const { sessions, refreshTokens } = models;

  async function issueRefresh(sessionId: Types.ObjectId, userId: Types.ObjectId, now: Date, expiresAt: Date) {
    const token = randomToken();
    await refreshTokens.create({ hash: hashToken(token), sessionId, userId, createdAt: now, expiresAt });
    return token;
  }

  function access(user: Pick<UserDoc, '_id' | 'role'>, sessionId: Types.ObjectId) {
    return accessTokens.sign({ userId: String(user._id), role: user.role, sessionId: String(sessionId) });
  }

  /** Revokes a family: the session and every refresh token in it. */
  async function revokeSession(sessionId: Types.ObjectId, userId: Types.ObjectId, reason: string): Promise<void> {
    const now = clock();
    await sessions.updateOne({ _id: sessionId, revokedAt: null }, { $set: { revokedAt: now, revokedReason: reason } });
    await refreshTokens.updateMany({ sessionId, revokedAt: null }, { $set: { revokedAt: now } });
    // Before answering: the caller's next request, on any process, must find the session revoked.
    await invalidate?.({ sessions: [String(sessionId)] });
    onRevoked?.(String(userId), [String(sessionId)]);
  }

  const loadSession = async (sessionId: string) => {
    const session = await sessions.findById(sessionId, { userId: 1, revokedAt: 1 }).lean();
    return session && !session.revokedAt ? { userId: String(session.userId) } : null;
  };
  const loadUser = async (userId: string) => {
    const user = await users.accessState(userId);
    return user ? { role: user.role, status: user.status } : null;
  };

  return {
    /** A new sign-in: a new family with its first refresh token. */
    async start(user: Pick<UserDoc, '_id' | 'role'>, device: DeviceInfo): Promise<IssuedTokens> {
      const now = clock();
      // A family lives as long as its refresh tokens are used within the TTL (sliding), capped by nothing else.
      const expiresAt = new Date(now.getTime() + refreshTtlDays * 86_400_000);
      const session = await sessions.create({ userId: user._id, device, createdAt: now, lastUsedAt: now, expiresAt });
      const refreshToken = await issueRefresh(session._id, user._id, now, expiresAt);
      const { token, expiresIn } = access(user, session._id);
      return { accessToken: token, refreshToken, tokenType: 'Bearer', expiresIn, sessionId: String(session._id) };
    },

    /**
     * Rotation. A token is used once: the unique claim on its hash picks exactly one of several
     * concurrent refreshes; a token that was already used (or revoked) revokes its whole family.
     * Every check runs before the claim, so the one winner is never undone by the losers' revocation
     * (its new tokens then belong to a revoked family and fail at their next use).
     */
    async refresh(presented: string, device: DeviceInfo): Promise<IssuedTokens> {
      const now = clock();
      const hash = hashToken(presented);
      const presentedDoc = await refreshTokens.findOne({ hash }).lean();
      if (!presentedDoc) throw authErrors.invalidRefreshToken();
      const reuse = async () => {
        logger.warn('Refresh token reuse: revoking the session', {
          sessionId: String(presentedDoc.sessionId),
          userId: String(presentedDoc.userId),
        });
        await revokeSession(presentedDoc.sessionId, presentedDoc.userId, 'refresh_token_reuse');
        return authErrors.invalidRefreshToken();
      };
      const justUsed = (usedAt: Date) => now.getTime() - new Date(usedAt).getTime() < refreshReuseGraceSeconds * 1000;
      if (presentedDoc.usedAt && !presentedDoc.revokedAt && justUsed(presentedDoc.usedAt)) throw authErrors.refreshRaced();
      if (presentedDoc.usedAt || presentedDoc.revokedAt) throw await reuse();
      if (presentedDoc.expiresAt <= now) throw authErrors.invalidRefreshToken();
      const [session, user] = await Promise.all([
        sessions.findById(presentedDoc.sessionId).lean(),
        users.accessState(presentedDoc.userId),
      ]);
      if (!session || session.revokedAt || session.expiresAt <= now) throw authErrors.invalidRefreshToken();
      if (!user || user.status !== 'active') {
        await revokeSession(session._id, session.userId, 'account_inactive');
        throw user?.status === 'suspended' ? authErrors.accountSuspended() : authErrors.invalidRefreshToken();
      }
      if (!(await claimOnce(models, hash, now, presentedDoc.expiresAt))) {
        // Lost the race for this token: another request claimed it a moment ago (or it is reuse).
        const claim = await models.claims.findById(hash).lean();
        if (claim && justUsed(claim.claimedAt)) throw authErrors.refreshRaced();
        throw await reuse();
      }
      await refreshTokens.updateOne({ _id: presentedDoc._id }, { $set: { usedAt: now } });
      const expiresAt = new Date(now.getTime() + refreshTtlDays * 86_400_000);
      const refreshToken = await issueRefresh(session._id, user._id, now, expiresAt);
      await sessions.updateOne(
        { _id: session._id },
        { $set: { lastUsedAt: now, expiresAt, 'device.ip': device.ip ?? session.device?.ip ?? null } },
      );
      const { token, expiresIn } = access(user, session._id);
      return { accessToken: token, refreshToken, tokenType: 'Bearer', expiresIn, sessionId: String(session._id) };
    },

    revokeSession,

    /** A role or status written elsewhere (create-admin): every process forgets the user's cached state. */
    async forgetUser(userId: string): Promise<void> {
      await invalidate?.({ users: [userId] });
    },

    /** Every family of the user, optionally keeping the caller's own. */
    async revokeAll(userId: string | Types.ObjectId, reason: string, exceptSessionId?: string): Promise<void> {
      const now = clock();
      const uid = new Types.ObjectId(String(userId));
      const filter: Record<string, unknown> = { userId: uid, revokedAt: null };
      if (exceptSessionId) filter._id = { $ne: new Types.ObjectId(exceptSessionId) };
      const open = await sessions.find(filter, { _id: 1 }).lean();
      if (open.length === 0) return;
      const ids = open.map((s) => s._id);
      await sessions.updateMany({ _id: { $in: ids }, revokedAt: null }, { $set: { revokedAt: now, revokedReason: reason } });
      await refreshTokens.updateMany({ sessionId: { $in: ids }, revokedAt: null }, { $set: { revokedAt: now } });
      await invalidate?.({ sessions: ids.map(String) });
      onRevoked?.(String(userId), ids.map(String));
    },

    /**
     * Turns verified access-token claims into the caller's context: the session (signed out,
     * logout-all, theft) and the user (suspended, role changed), from the access cache when it
     * may serve them, otherwise two lookups by _id run together.
     */
    async authenticate(claims: { userId: string; sessionId: string }): Promise<AuthContext> {
      const [session, user] = await Promise.all([
        cache ? cache.session(claims.sessionId, () => loadSession(claims.sessionId)) : loadSession(claims.sessionId),
        cache ? cache.user(claims.userId, () => loadUser(claims.userId)) : loadUser(claims.userId),
      ]);
      if (!session || session.userId !== claims.userId) throw authErrors.sessionRevoked();
      if (!user || user.status === 'deleted') throw authErrors.sessionRevoked();
      if (user.status !== 'active') throw authErrors.accountSuspended();
      return { userId: claims.userId, role: user.role, sessionId: claims.sessionId };
    },

    async list(userId: string, currentSessionId: string) {
      const now = clock();
      const open = await sessions
        .find({ userId: new Types.ObjectId(userId), revokedAt: null }, { device: 1, createdAt: 1, lastUsedAt: 1, expiresAt: 1 })
        .sort({ _id: -1 })
        .limit(100)
        .lean();
      return open
        .filter((s) => s.expiresAt > now)
        .map((s) => ({
          id: String(s._id),
          device: { name: s.device?.name ?? null, userAgent: s.device?.userAgent ?? null, ip: s.device?.ip ?? null },
          createdAt: s.createdAt.toISOString(),
          lastUsedAt: s.lastUsedAt.toISOString(),
          expiresAt: s.expiresAt.toISOString(),
          current: String(s._id) === currentSessionId,
        }));
    },

    /** Signs out one of the caller's own sessions; another user's session id is simply not found. */
    async revokeOwn(userId: string, sessionId: string): Promise<boolean> {
      if (!Types.ObjectId.isValid(sessionId)) return false;
      const session = await sessions.findOne(
        { _id: new Types.ObjectId(sessionId), userId: new Types.ObjectId(userId), revokedAt: null },
        { _id: 1 },
      ).lean();
      if (!session) return false;
      await revokeSession(session._id, new Types.ObjectId(userId), 'signed_out');
      return true;
    },

    /** Signs out one of the caller's devices; a session that is not theirs (or gone) does not exist for them. */
    async revokeDevice(userId: string, sessionId: string): Promise<void> {
      if (!(await this.revokeOwn(userId, sessionId))) throw errors.notFound('Session');
    },
  };
}

export type SessionsService = ReturnType<typeof createSessionsService>;

import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { isDuplicateKey } from '../../platform/mongo';

/** One sign-in on one device: the refresh-token family. Its id is the access token's `sid`. */
export interface SessionDoc {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  device: { name: string | null; userAgent: string | null; ip: string | null };
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

/** One refresh token of a family, stored only as its SHA-256 hash. */
export interface RefreshTokenDoc {
  _id: Types.ObjectId;
  hash: string;
  sessionId: Types.ObjectId;
  userId: Types.ObjectId;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export type OneTimePurpose = 'verify_email' | 'reset_password';

/** Email-verification and password-reset tokens: hashed, single use, expiring. */
export interface OneTimeTokenDoc {
  _id: Types.ObjectId;
  hash: string;
  purpose: OneTimePurpose;
  userId: Types.ObjectId;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

const sessionSchema = new Schema<SessionDoc>(
  {
    userId: { type: Schema.Types.ObjectId, required: true },
    device: {
      name: { type: String, default: null },
      userAgent: { type: String, default: null },
      ip: { type: String, default: null },
    },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
    revokedReason: { type: String, default: null },
  },
  { collection: 'auth_sessions' },
);
sessionSchema.index({ userId: 1, revokedAt: 1, _id: -1 });

const refreshSchema = new Schema<RefreshTokenDoc>(
  {
    hash: { type: String, required: true },
    sessionId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
  },
  { collection: 'auth_refresh_tokens' },
);
refreshSchema.index({ hash: 1 }, { unique: true });
refreshSchema.index({ sessionId: 1 });
refreshSchema.index({ userId: 1 });
refreshSchema.index({ expiresAt: 1 });

const oneTimeSchema = new Schema<OneTimeTokenDoc>(
  {
    hash: { type: String, required: true },
    purpose: { type: String, enum: ['verify_email', 'reset_password'], required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
  },
  { collection: 'auth_one_time_tokens' },
);
oneTimeSchema.index({ hash: 1 }, { unique: true });
oneTimeSchema.index({ userId: 1, purpose: 1 });
oneTimeSchema.index({ expiresAt: 1 });

/**
 * A claim on a one-use secret: `_id` is the secret's hash. FerretDB 1.24 (SQLite) does not apply
 * findOneAndUpdate/updateOne atomically under concurrency (measured: several "winners"), but a
 * unique key is enforced, so the insert that succeeds is the one use. Works the same on MongoDB.
 */
export interface TokenClaimDoc {
  _id: string;
  claimedAt: Date;
  expiresAt: Date;
}

/** One failed sign-in; counted over the window. Inserts, unlike $inc, stay exact under concurrency here. */
export interface LoginFailureDoc {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  at: Date;
}

const claimSchema = new Schema<TokenClaimDoc>(
  { _id: { type: String, required: true }, claimedAt: { type: Date, required: true }, expiresAt: { type: Date, required: true } },
  { collection: 'auth_token_claims' },
);
claimSchema.index({ expiresAt: 1 });

const failureSchema = new Schema<LoginFailureDoc>(
  { userId: { type: Schema.Types.ObjectId, required: true }, at: { type: Date, required: true } },
  { collection: 'auth_login_failures' },
);
failureSchema.index({ userId: 1, at: 1 });
failureSchema.index({ at: 1 });

export function getAuthModels(mongo: Connection) {
  return {
    sessions: (mongo.models.AuthSession as Model<SessionDoc> | undefined) ?? mongo.model<SessionDoc>('AuthSession', sessionSchema),
    refreshTokens:
      (mongo.models.AuthRefreshToken as Model<RefreshTokenDoc> | undefined) ??
      mongo.model<RefreshTokenDoc>('AuthRefreshToken', refreshSchema),
    oneTimeTokens:
      (mongo.models.AuthOneTimeToken as Model<OneTimeTokenDoc> | undefined) ??
      mongo.model<OneTimeTokenDoc>('AuthOneTimeToken', oneTimeSchema),
    claims: (mongo.models.AuthTokenClaim as Model<TokenClaimDoc> | undefined) ?? mongo.model<TokenClaimDoc>('AuthTokenClaim', claimSchema),
    loginFailures:
      (mongo.models.AuthLoginFailure as Model<LoginFailureDoc> | undefined) ??
      mongo.model<LoginFailureDoc>('AuthLoginFailure', failureSchema),
  };
}

export type AuthModels = ReturnType<typeof getAuthModels>;

/** True for the one caller that gets to use the secret with this hash; false for every other. */
export async function claimOnce(models: AuthModels, hash: string, now: Date, expiresAt: Date): Promise<boolean> {
  try {
    await models.claims.create({ _id: hash, claimedAt: now, expiresAt });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

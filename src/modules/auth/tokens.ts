import { createHash, createSecretKey, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { JwtConfig } from './auth.config';
import type { Role } from '../../platform/auth-context';
import { errors } from '../../platform/errors';
import { ROLES } from '../users';

const ALGORITHM = 'HS256' as const;

export interface AccessClaims {
  userId: string;
  role: Role;
  sessionId: string;
}

/** Opaque secrets (refresh, verification, reset): 256 random bits, URL-safe. */
export const randomToken = () => randomBytes(32).toString('base64url');
/** Stored form of an opaque secret: a fast hash is enough for 256-bit random values. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function createAccessTokens(config: JwtConfig) {
  // A KeyObject, made once: given a string, jsonwebtoken first tries to parse it as a PEM public
  // or private key on every call and catches the throw (about a sixth of an authenticated
  // request's CPU), before it falls back to a secret key.
  const key = createSecretKey(Buffer.from(config.secret, 'utf8'));
  return {
    sign(claims: AccessClaims): { token: string; expiresIn: number } {
      const token = jwt.sign({ role: claims.role, sid: claims.sessionId }, key, {
        algorithm: ALGORITHM,
        issuer: config.issuer,
        audience: config.audience,
        subject: claims.userId,
        expiresIn: config.accessTtlSeconds,
      });
      return { token, expiresIn: config.accessTtlSeconds };
    },

    /** Verifies signature (pinned algorithm), iss, aud and exp, then the claim shapes. */
    verify(token: string): AccessClaims {
      let payload: string | jwt.JwtPayload;
      try {
        payload = jwt.verify(token, key, {
          algorithms: [ALGORITHM],
          issuer: config.issuer,
          audience: config.audience,
        });
      } catch (err) {
        if (err instanceof jwt.TokenExpiredError) throw errors.tokenExpired();
        throw errors.unauthenticated('The access token is invalid');
      }
      if (typeof payload === 'string') throw errors.unauthenticated('The access token is invalid');
      const { sub, role, sid, exp } = payload as jwt.JwtPayload & { role?: unknown; sid?: unknown };
      if (
        typeof sub !== 'string' ||
        !/^[0-9a-f]{24}$/.test(sub) ||
        typeof sid !== 'string' ||
        !/^[0-9a-f]{24}$/.test(sid) ||
        typeof exp !== 'number' ||
        !ROLES.includes(role as Role)
      ) {
        throw errors.unauthenticated('The access token is invalid');
      }
      return { userId: sub, role: role as Role, sessionId: sid };
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;

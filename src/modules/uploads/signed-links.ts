import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors } from '../../platform/errors';
import type { UploadsConfig } from './uploads.config';

export interface SignedLink {
  url: string;
  expiresAt: string;
}

/** Where a signed link points; served without a session by the uploads router. */
export const signedContentPath = (uploadId: string) => `/api/upload/${encodeURIComponent(uploadId)}/signed-content`;

const EXPIRES = /^[0-9]{1,12}$/;
// base64url of a SHA-256 HMAC, unpadded.
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Download links a party without a session may follow until they expire: the signature is an
 * HMAC-SHA256, under UPLOAD_SIGNING_SECRET, of a purpose tag, the upload id and the expiry (unix
 * seconds), so a link cannot be moved to another upload, extended, or made for another use.
 * Checked in constant time; an expiry further out than the configured lifetime is refused too.
 */
export function createSignedLinks(config: UploadsConfig['signedLinks'], fallbackBaseUrl: string, clock: () => Date) {
  const base = (config.publicBaseUrl ?? fallbackBaseUrl).replace(/\/+$/, '');
  const mac = (secret: string, uploadId: string, expires: string) =>
    createHmac('sha256', secret).update(`upload-content:v1\n${uploadId}\n${expires}`).digest('base64url');

  return {
    /** A link to the upload's content valid for `ttlSeconds` (at most the configured lifetime). 503 without a secret. */
    sign(uploadId: string, ttlSeconds = config.ttlSeconds): SignedLink {
      if (!config.secret) throw errors.serviceUnavailable('Download links are not configured on this server');
      const seconds = Math.min(Math.max(1, Math.floor(ttlSeconds)), config.ttlSeconds);
      const expiresAt = Math.floor(clock().getTime() / 1000) + seconds;
      const expires = String(expiresAt);
      const signature = mac(config.secret, uploadId, expires);
      return { url: `${base}${signedContentPath(uploadId)}?expires=${expires}&signature=${signature}`, expiresAt: new Date(expiresAt * 1000).toISOString() };
    },

    /** Throws FORBIDDEN unless the link was made by this server for this upload and has not expired. */
    verify(uploadId: string, expires: string, signature: string): void {
      const refused = () => errors.forbidden('This download link is invalid or has expired');
      if (!config.secret || !EXPIRES.test(expires) || !SIGNATURE.test(signature)) throw refused();
      // Compared as text: decoding first would accept the variants of the last character that carry unused bits.
      const expected = Buffer.from(mac(config.secret, uploadId, expires));
      if (!timingSafeEqual(expected, Buffer.from(signature))) throw refused();
      const now = clock().getTime() / 1000;
      const at = Number(expires);
      if (at <= now || at > now + config.ttlSeconds + 60) throw refused();
    },
  };
}

export type SignedLinks = ReturnType<typeof createSignedLinks>;

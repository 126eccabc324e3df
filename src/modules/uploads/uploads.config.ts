import type { EnvReader } from '../../platform/config';
import type { StorageConfig } from '../../platform/storage';

/** Uploads' settings, read from UPLOAD_* variables. */
export interface UploadsConfig extends StorageConfig {
  maxBytes: { image: number; document: number; voice: number };
  voiceMaxSeconds: number;
  imageMaxPixels: number;
  imageMaxSide: number;
  thumbnailSize: number;
  /** Uploads per user per window: image processing is the most CPU a client can ask for. */
  rateLimit: { windowMs: number; max: number };
  /**
   * Signed, short-lived download links for a party that holds no session (the AI provider reading a
   * catalogue): HMAC-SHA256 with `secret` over the upload id and expiry. Without a secret no link is
   * made (503) and none is accepted.
   */
  signedLinks: { secret: string | null; ttlSeconds: number; publicBaseUrl: string | null };
}

const MB = 1024 * 1024;

export function readUploadsConfig(read: EnvReader): UploadsConfig {
  const config: UploadsConfig = {
    driver: read.oneOf('UPLOAD_STORAGE_DRIVER', ['local', 's3'] as const, 'local'),
    dir: read.string('UPLOAD_DIR', '.data/uploads'),
    s3: {
      bucket: read.optionalString('UPLOAD_S3_BUCKET'),
      endpoint: read.url('UPLOAD_S3_ENDPOINT', ['http:', 'https:'], false),
      region: read.string('UPLOAD_S3_REGION', 'us-east-1'),
      accessKeyId: read.optionalString('UPLOAD_S3_ACCESS_KEY_ID'),
      secretAccessKey: read.optionalString('UPLOAD_S3_SECRET_ACCESS_KEY'),
      forcePathStyle: read.oneOf('UPLOAD_S3_FORCE_PATH_STYLE', ['true', 'false'] as const, 'false') === 'true',
    },
    maxBytes: {
      image: read.int('UPLOAD_IMAGE_MAX_BYTES', 10 * MB, 1, 100 * MB),
      document: read.int('UPLOAD_DOCUMENT_MAX_BYTES', 20 * MB, 1, 200 * MB),
      voice: read.int('UPLOAD_VOICE_MAX_BYTES', 10 * MB, 1, 100 * MB),
    },
    voiceMaxSeconds: read.int('UPLOAD_VOICE_MAX_SECONDS', 300, 1, 3_600),
    imageMaxPixels: read.int('UPLOAD_IMAGE_MAX_PIXELS', 40_000_000, 1, 268_402_689),
    imageMaxSide: read.int('UPLOAD_IMAGE_MAX_SIDE', 2048, 16, 16_384),
    thumbnailSize: read.int('UPLOAD_THUMBNAIL_SIZE', 320, 16, 2048),
    rateLimit: {
      windowMs: read.int('UPLOAD_RATE_LIMIT_WINDOW_MS', 10 * 60_000, 1_000, 86_400_000),
      max: read.int('UPLOAD_RATE_LIMIT_MAX', 60, 1, 1_000_000),
    },
    signedLinks: {
      secret: read.optionalString('UPLOAD_SIGNING_SECRET'),
      ttlSeconds: read.int('UPLOAD_SIGNED_URL_TTL_SECONDS', 600, 10, 86_400),
      // The URL the outside reaches the app at (behind a proxy the app never sees it); PUBLIC_BASE_URL by default.
      publicBaseUrl: read.url('UPLOAD_PUBLIC_BASE_URL', ['http:', 'https:'], false) ?? read.url('PUBLIC_BASE_URL', ['http:', 'https:'], false),
    },
  };
  if (config.signedLinks.secret !== null && config.signedLinks.secret.length < 32) {
    read.problems.push('UPLOAD_SIGNING_SECRET must be at least 32 characters when set');
  }
  if (config.driver === 's3' && !config.s3.bucket) {
    read.problems.push('UPLOAD_S3_BUCKET is required when UPLOAD_STORAGE_DRIVER=s3');
  }
  return config;
}

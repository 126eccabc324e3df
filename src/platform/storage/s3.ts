import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { StorageConfig } from './index';
import { errors } from '../errors';
import type { Logger } from '../logger';

const PUT_ATTEMPTS = 3;
import { assertValidKey, ObjectNotFoundError, type ByteRange, type ObjectStorage } from './types';

function isMissing(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404;
}

/**
 * An unreachable or failing store (network error, timeout, 5xx) is a 503 the client may retry, not
 * a bug of ours; the cause stays attached for the log.
 */
function unavailableOr(err: unknown): unknown {
  const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
  if (err instanceof S3ServiceException && status !== undefined && status < 500) return err;
  return Object.assign(errors.serviceUnavailable('File storage is unavailable, try again shortly'), { cause: err });
}

/** Any S3-compatible object store (AWS S3, MinIO, R2...). Objects are private; the API streams them. */
export function createS3Storage(config: StorageConfig, logger?: Logger): ObjectStorage {
  const { s3 } = config;
  const bucket = s3.bucket ?? '';
  const client = new S3Client({
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    forcePathStyle: s3.forcePathStyle,
    ...(s3.accessKeyId && s3.secretAccessKey
      ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }
      : {}),
    // Streamed uploads with trailing checksums are not understood by every S3-compatible server.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without a logger the SDK writes its warnings to the console, outside our log format.
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: unknown) => logger?.debug('S3 client warning', { message: String(message) }),
      error: (message: unknown) => logger?.warn('S3 client error', { message: String(message) }),
    },
  });
  const stagingDir = path.resolve(config.dir, 'tmp');

  return {
    driver: 's3',
    stagingDir,
    async init() {
      await mkdir(stagingDir, { recursive: true });
    },
    async putFile(key, filePath, contentType) {
      assertValidKey(key);
      const { size } = await stat(filePath);
      // The SDK cannot retry a streamed body; the staged file can simply be read again.
      for (let attempt = 1; ; attempt += 1) {
        try {
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: createReadStream(filePath),
              ContentLength: size,
              ContentType: contentType,
            }),
          );
          return;
        } catch (err) {
          const mapped = unavailableOr(err);
          if (mapped === err || attempt >= PUT_ATTEMPTS) throw mapped;
          await delay(100 * 4 ** (attempt - 1));
        }
      }
    },
    async read(key: string, range?: ByteRange): Promise<Readable> {
      assertValidKey(key);
      try {
        const result = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        );
        return result.Body as Readable;
      } catch (err) {
        if (isMissing(err)) throw new ObjectNotFoundError(key);
        throw unavailableOr(err);
      }
    },
    async remove(key) {
      assertValidKey(key);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch((err: unknown) => {
        throw unavailableOr(err);
      });
    },
    async exists(key) {
      assertValidKey(key);
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (err) {
        if (isMissing(err)) return false;
        throw unavailableOr(err);
      }
    },
    async close() {
      client.destroy();
    },
  };
}

import type { Readable } from 'node:stream';

/** An inclusive byte range, as HTTP Range requests express it. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Raised when a key does not exist, whatever the driver. */
export class ObjectNotFoundError extends Error {
  constructor(key: string) {
    super(`No stored object ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

/**
 * Where file contents live. Keys are chosen by the caller (random, never a user's file name);
 * metadata lives in the database, so the drivers only move bytes.
 */
export interface ObjectStorage {
  readonly driver: 'local' | 's3';
  /**
   * Incoming files are written here first. For the local driver it is on the same filesystem as
   * the objects, so storing a staged file is an atomic rename.
   */
  readonly stagingDir: string;
  init(): Promise<void>;
  /** Stores a staged file under key; the staged file may be moved away (the caller removes it either way). */
  putFile(key: string, filePath: string, contentType: string): Promise<void>;
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** Idempotent: removing a missing key is not an error. */
  remove(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Releases connections (S3 keeps a pool of keep-alive sockets). */
  close(): Promise<void>;
}

/** Keys we generate: `<kind>/<32 hex>` with an optional suffix; anything else never reaches a driver. */
const KEY_PATTERN = /^[a-z]+\/[0-9a-f]{32}(-[a-z]+)?$/;

export function assertValidKey(key: string): void {
  if (!KEY_PATTERN.test(key)) throw new Error('Invalid storage key');
}

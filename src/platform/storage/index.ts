import type { Logger } from '../logger';
import { createLocalStorage } from './local';
import { createS3Storage } from './s3';
import type { ObjectStorage } from './types';

export * from './types';

/** Where objects live: the uploads module's settings carry these fields. */
export interface StorageConfig {
  driver: 'local' | 's3';
  /** Local objects live in <dir>/objects; every driver stages incoming files in <dir>/tmp. */
  dir: string;
  s3: {
    bucket: string | null;
    endpoint: string | null;
    region: string;
    accessKeyId: string | null;
    secretAccessKey: string | null;
    forcePathStyle: boolean;
  };
}

export function createStorage(config: StorageConfig, logger?: Logger): ObjectStorage {
  return config.driver === 's3' ? createS3Storage(config, logger) : createLocalStorage(config.dir);
}

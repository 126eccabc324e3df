import type { UploadsConfig } from '../config';
import type { Logger } from '../logger';
import { createLocalStorage } from './local';
import { createS3Storage } from './s3';
import type { ObjectStorage } from './types';

export * from './types';

export function createStorage(config: UploadsConfig, logger?: Logger): ObjectStorage {
  return config.driver === 's3' ? createS3Storage(config, logger) : createLocalStorage(config.dir);
}

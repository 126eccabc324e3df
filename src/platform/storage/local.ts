import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { assertValidKey, ObjectNotFoundError, type ByteRange, type ObjectStorage } from './types';

/**
 * Objects on the local disk under <root>/objects. The root must be outside anything served
 * statically: files only leave through the access-checked routes.
 */
export function createLocalStorage(root: string): ObjectStorage {
  const absoluteRoot = path.resolve(root);
  const objectsDir = path.join(absoluteRoot, 'objects');
  const stagingDir = path.join(absoluteRoot, 'tmp');

  const pathOf = (key: string) => {
    assertValidKey(key);
    return path.join(objectsDir, ...key.split('/'));
  };

  return {
    driver: 'local',
    stagingDir,
    async init() {
      await mkdir(objectsDir, { recursive: true });
      await mkdir(stagingDir, { recursive: true });
    },
    async putFile(key, filePath) {
      const target = pathOf(key);
      await mkdir(path.dirname(target), { recursive: true });
      await rename(filePath, target);
    },
    async read(key: string, range?: ByteRange): Promise<Readable> {
      const target = pathOf(key);
      // Open eagerly so a missing object is reported before any header is sent.
      const stream = createReadStream(target, range ? { start: range.start, end: range.end } : {});
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', (err: NodeJS.ErrnoException) =>
          reject(err.code === 'ENOENT' ? new ObjectNotFoundError(key) : err),
        );
      });
      return stream;
    },
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
    async exists(key) {
      try {
        await stat(pathOf(key));
        return true;
      } catch {
        return false;
      }
    },
    async close() {},
  };
}

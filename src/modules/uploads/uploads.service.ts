import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isValidObjectId } from 'mongoose';
import type { Readable } from 'node:stream';
import type { UploadsConfig } from './uploads.config';
import { errors } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import type { ByteRange, ObjectStorage } from '../../platform/storage';
import { detectType } from './detect';
import { cleanFileName } from './file-name';
import { processImage, readVoiceDuration } from './media';
import { toAttachment, toUploadView, type UploadView } from './uploads.mapper';
import type { UploadDoc, UploadModel } from './uploads.model';
import type { Attachment, IsParticipant, UploadKind } from './uploads.types';

export interface IngestInput {
  ownerId: string;
  kind: UploadKind;
  /** The file multer staged; always removed before ingest returns. */
  stagedPath: string;
  originalName?: string;
}

export interface StoredFile {
  mimeType: string;
  /** Bytes of the whole object. */
  size: number;
  fileName: string;
  kind: UploadKind;
  /** Strong validator: the content never changes under an id. */
  etag: string;
  /** Opens the bytes only once the caller knows it will send them (not for 304 or 416). */
  read(range?: ByteRange): Promise<Readable>;
}

async function sha256Of(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const notFound = () => errors.notFound('Upload');

export function createUploadsService(deps: {
  uploads: UploadModel;
  storage: ObjectStorage;
  config: UploadsConfig;
  logger: Logger;
  clock: () => Date;
  isParticipant: IsParticipant;
}) {
  const { uploads, storage, config, logger } = deps;

  async function removeObjects(keys: (string | undefined)[]): Promise<void> {
    for (const key of keys) {
      if (!key) continue;
      await storage.remove(key).catch((err: unknown) => {
        logger.warn('Could not remove a stored object', { key, error: err instanceof Error ? err.message : String(err) });
      });
    }
  }

  /** Checks, processes and stores one staged file; nothing is left behind when it is refused. */
  async function ingest(input: IngestInput): Promise<UploadView> {
    const stem = path.join(storage.stagingDir, `${randomBytes(16).toString('hex')}`);
    const outputs = { main: `${stem}.main`, thumbnail: `${stem}.thumb` };
    const stored: string[] = [];
    try {
      const type = await detectType(input.stagedPath, input.kind);
      let mainPath = input.stagedPath;
      const media: Partial<Pick<UploadDoc, 'width' | 'height' | 'durationMs'>> = {};
      let thumbnailPath: string | null = null;
      if (input.kind === 'image') {
        const image = await processImage(input.stagedPath, outputs, type.mimeType, config);
        media.width = image.width;
        media.height = image.height;
        if (image.reencoded) mainPath = outputs.main;
        if (image.hasThumbnail) thumbnailPath = outputs.thumbnail;
      } else if (input.kind === 'voice') {
        media.durationMs = await readVoiceDuration(input.stagedPath, config);
      }

      const objectId = randomBytes(16).toString('hex');
      const storageKey = `${input.kind}/${objectId}`;
      const thumbnailKey = thumbnailPath ? `${input.kind}/${objectId}-thumb` : undefined;
      const [{ size }, sha256] = await Promise.all([stat(mainPath), sha256Of(mainPath)]);
      const thumbnailSize = thumbnailPath ? (await stat(thumbnailPath)).size : undefined;

      await storage.putFile(storageKey, mainPath, type.mimeType);
      stored.push(storageKey);
      if (thumbnailPath && thumbnailKey) {
        await storage.putFile(thumbnailKey, thumbnailPath, 'image/webp');
        stored.push(thumbnailKey);
      }
      const doc = await uploads.create({
        ownerId: input.ownerId,
        kind: input.kind,
        mimeType: type.mimeType,
        size,
        sha256,
        storageKey,
        thumbnailKey,
        thumbnailSize,
        fileName: cleanFileName(input.originalName, type.ext, input.kind),
        ...media,
        conversationIds: [],
        createdAt: deps.clock(),
      });
      // The record now owns the objects: the finally below must not remove them.
      stored.length = 0;
      return toUploadView(doc.toObject());
    } finally {
      await removeObjects(stored);
      await Promise.all([input.stagedPath, outputs.main, outputs.thumbnail].map((p) => rm(p, { force: true })));
    }
  }

  /** The upload if the caller may see it: its owner, or a participant of a conversation it was sent in. */
  async function findVisible(id: string, userId: string): Promise<UploadDoc> {
    if (!isValidObjectId(id)) throw notFound();
    const doc = await uploads.findById(id).lean<UploadDoc>();
    if (!doc) throw notFound();
    if (doc.ownerId === userId) return doc;
    for (const conversationId of doc.conversationIds) {
      if (await deps.isParticipant(conversationId, userId)) return doc;
    }
    throw notFound();
  }

  async function get(id: string, userId: string): Promise<UploadView> {
    return toUploadView(await findVisible(id, userId));
  }

  function storedFile(doc: UploadDoc, variant: 'content' | 'thumbnail'): StoredFile {
    const key = variant === 'content' ? doc.storageKey : doc.thumbnailKey;
    const size = variant === 'content' ? doc.size : doc.thumbnailSize;
    if (!key || size === undefined || size === null) throw errors.notFound('Thumbnail');
    const base = doc.fileName.replace(/\.[^.]+$/, '');
    return {
      size,
      etag: variant === 'content' ? `"${doc.sha256}"` : `"${doc.sha256}-thumb"`,
      read: (range) => storage.read(key, range),
      kind: doc.kind,
      mimeType: variant === 'content' ? doc.mimeType : 'image/webp',
      fileName: variant === 'content' ? doc.fileName : `${base}-thumbnail.webp`,
    };
  }

  async function open(id: string, userId: string, variant: 'content' | 'thumbnail'): Promise<StoredFile> {
    return storedFile(await findVisible(id, userId), variant);
  }

  /** The content behind a signed link: the router has checked the signature, so no user is asked about. */
  async function openSigned(id: string): Promise<StoredFile> {
    if (!isValidObjectId(id)) throw notFound();
    const doc = await uploads.findById(id).lean<UploadDoc>();
    if (!doc) throw notFound();
    return storedFile(doc, 'content');
  }

  /** Deletes the owner's file unless it was sent in a conversation (one conditional delete: no race with attach). */
  async function remove(id: string, userId: string): Promise<void> {
    if (!isValidObjectId(id)) throw notFound();
    const deleted = await uploads
      .findOneAndDelete({ _id: id, ownerId: userId, conversationIds: { $size: 0 } })
      .lean<UploadDoc>();
    if (!deleted) {
      const exists = await uploads.exists({ _id: id, ownerId: userId });
      if (exists) throw errors.conflict('The file was sent in a conversation and can no longer be deleted');
      throw notFound();
    }
    await removeObjects([deleted.storageKey, deleted.thumbnailKey]);
  }

  /**
   * Called by chat when a message references uploads: only the uploader may attach a file, and the
   * conversation is recorded so its participants may fetch it.
   */
  async function attach(uploadIds: string[], ownerId: string, conversationId: string, kind?: UploadKind): Promise<Attachment[]> {
    const ids = [...new Set(uploadIds)];
    if (ids.length === 0) return [];
    if (!ids.every((id) => isValidObjectId(id))) throw notFound();
    const filter = { _id: { $in: ids }, ownerId };
    // Checked before anything is marked, so a refused message leaves every upload as it was.
    const candidates = await uploads.find(filter, { kind: 1 }).lean<Pick<UploadDoc, '_id' | 'kind'>[]>();
    if (candidates.length !== ids.length) throw notFound();
    if (kind && candidates.some((doc) => doc.kind !== kind)) {
      throw errors.validation([{ field: 'attachmentIds', message: `Every attachment of a ${kind} message must be a ${kind} upload` }]);
    }
    await uploads.updateMany(filter, { $addToSet: { conversationIds: conversationId } });
    // Re-read: a concurrent delete between the two steps must not yield a dangling attachment.
    const docs = await uploads.find(filter).lean<UploadDoc[]>();
    if (docs.length !== ids.length) throw notFound();
    const byId = new Map(docs.map((doc) => [doc._id.toString(), doc]));
    return ids.map((id) => toAttachment(byId.get(id) as UploadDoc));
  }

  return { ingest, get, open, openSigned, remove, attach };
}

export type UploadsService = ReturnType<typeof createUploadsService>;

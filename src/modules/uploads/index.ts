import type { RequestHandler } from 'express';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import { parseObjectId } from '../../platform/mongo';
import { createStorage } from '../../platform/storage';
import { getUploadModel } from './uploads.model';
import { createUploadsRouter } from './uploads.routes';
import { createUploadsService } from './uploads.service';
import { createSignedLinks, type SignedLink } from './signed-links';
import type { ConversationAccess } from '../chat';
import type { Attachment, UploadKind } from './uploads.types';
import type { UploadsConfig } from './uploads.config';

// The uploads module's contract. Other modules import only from here (a lint rule enforces it).
export type { Attachment, UploadKind } from './uploads.types';
export { UPLOADS_ERROR_CODES, type UploadsErrorCode } from './uploads.errors';
export { readUploadsConfig, type UploadsConfig } from './uploads.config';
export type { SignedLink } from './signed-links';

/** What a module that shares files (chat) asks of uploads. */
export interface AttachmentsService {
  /**
   * Records that the owner's uploads were sent in a conversation (its participants may then see
   * them) and returns what the message carries. Throws NOT_FOUND unless every id is the owner's
   * upload, and VALIDATION_FAILED when `kind` is given and an upload is of another kind.
   */
  attach(uploadIds: string[], ownerId: string, conversationId: string, kind?: UploadKind): Promise<Attachment[]>;
}

/** What a module that reads a user's own files (the AI module's catalogue extraction) asks of uploads. */
export interface OwnUploads {
  /** The upload's kind and type when `ownerId` owns it; null for anyone else's or an unknown id. */
  ownUpload(uploadId: string, ownerId: string): Promise<{ kind: UploadKind; mimeType: string; fileName: string } | null>;
}

/** What a module that hands a file to a party without a session (the AI provider) asks of uploads. */
export interface SignedDownloads {
  /**
   * A URL of the upload's content that anyone holding it may GET (with Range and ETag, like the
   * normal download) until `expiresAt`: at most UPLOAD_SIGNED_URL_TTL_SECONDS, under
   * UPLOAD_PUBLIC_BASE_URL. The caller checks first that its user may read the upload (ownUpload).
   * SERVICE_UNAVAILABLE when UPLOAD_SIGNING_SECRET is not set.
   */
  signedDownloadUrl(uploadId: string, options?: { ttlSeconds?: number }): SignedLink;
}

export interface UploadsModule extends AppModule, AttachmentsService, OwnUploads, SignedDownloads {}

export function createUploadsModule(deps: {
  ctx: AppContext;
  config: UploadsConfig;
  requireAuth: RequestHandler;
  /** Chat's participant check; without it, only an upload's owner may fetch it. */
  conversations?: ConversationAccess;
}): UploadsModule {
  const { ctx, config, conversations } = deps;
  const storage = createStorage(config, ctx.logger);
  const uploads = getUploadModel(ctx.mongo);
  const service = createUploadsService({
    uploads,
    storage,
    config: config,
    logger: ctx.logger,
    clock: ctx.clock,
    isParticipant: conversations ? (conversationId, userId) => conversations.isParticipant(conversationId, userId) : async () => false,
  });
  const signedLinks = createSignedLinks(config.signedLinks, ctx.config.mail.appUrl, ctx.clock);
  return {
    name: 'uploads',
    http: createUploadsRouter({
      service,
      signedLinks,
      config: config,
      stagingDir: storage.stagingDir,
      requireAuth: deps.requireAuth,
      redis: ctx.redis,
      redisKeyPrefix: ctx.config.redis.keyPrefix,
    }),
    start: () => storage.init(),
    stop: () => storage.close(),
    attach: service.attach,
    signedDownloadUrl: (uploadId, options) => signedLinks.sign(uploadId, options?.ttlSeconds),
    ownUpload: async (uploadId, ownerId) => {
      const _id = parseObjectId(uploadId);
      const doc = _id ? await uploads.findOne({ _id, ownerId }, { kind: 1, mimeType: 1, fileName: 1 }).lean() : null;
      return doc ? { kind: doc.kind, mimeType: doc.mimeType, fileName: doc.fileName } : null;
    },
  };
}

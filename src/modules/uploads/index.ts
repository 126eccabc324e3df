import type { RequestHandler } from 'express';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import { createStorage } from '../../platform/storage';
import { getUploadModel } from './uploads.model';
import { createUploadsRouter } from './uploads.routes';
import { createUploadsService } from './uploads.service';
import type { Attachment, IsParticipant, UploadKind } from './uploads.types';

export type { Attachment, IsParticipant, UploadKind } from './uploads.types';

export interface UploadsModule extends AppModule {
  /**
   * For chat: see UploadsService.attach. Throws NOT_FOUND unless every id is the owner's upload,
   * and VALIDATION_FAILED when `kind` is given and an upload is of another kind.
   */
  attach(uploadIds: string[], ownerId: string, conversationId: string, kind?: UploadKind): Promise<Attachment[]>;
}

export function createUploadsModule(deps: {
  ctx: AppContext;
  requireAuth: RequestHandler;
  /** Chat's participant check; until it is wired, only an upload's owner may fetch it. */
  isParticipant?: IsParticipant;
}): UploadsModule {
  const { ctx } = deps;
  const storage = createStorage(ctx.config.uploads, ctx.logger);
  const service = createUploadsService({
    uploads: getUploadModel(ctx.mongo),
    storage,
    config: ctx.config.uploads,
    logger: ctx.logger,
    clock: ctx.clock,
    isParticipant: deps.isParticipant ?? (async () => false),
  });
  return {
    name: 'uploads',
    http: createUploadsRouter({
      service,
      config: ctx.config.uploads,
      stagingDir: storage.stagingDir,
      requireAuth: deps.requireAuth,
      redis: ctx.redis,
      redisKeyPrefix: ctx.config.redis.keyPrefix,
    }),
    start: () => storage.init(),
    stop: () => storage.close(),
    attach: service.attach,
  };
}

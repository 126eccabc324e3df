import { pipeline } from 'node:stream/promises';
import type { Request, RequestHandler, Response } from 'express';
import { getAuth, type AuthContext } from '../../platform/auth-context';
import type { UploadsConfig } from './uploads.config';
import type { Redis } from 'ioredis';
import { createRateLimit } from '../../platform/http/rate-limit';
import { createModuleRouter } from '../../platform/http/router';
import { withInput } from '../../platform/http/validate';
import { signedContentSchema, uploadIdParam } from './uploads.schemas';
import type { SignedLinks } from './signed-links';
import type { ByteRange } from '../../platform/storage';
import { contentDisposition } from './file-name';
import { uploadsErrors } from './uploads.errors';
import { singleFileUpload } from './uploads.multipart';
import type { StoredFile, UploadsService } from './uploads.service';
import type { UploadKind } from './uploads.types';

/** A single satisfiable range, or undefined for the whole file (multi-range requests get the whole file). */
function rangeOf(req: Request, size: number): ByteRange | undefined {
  if (!req.headers.range) return undefined;
  const ranges = req.range(size, { combine: true });
  if (ranges === -1) throw uploadsErrors.rangeNotSatisfiable(size);
  if (ranges === -2 || ranges === undefined || ranges.type !== 'bytes' || ranges.length !== 1) return undefined;
  const [range] = ranges;
  return range ? { start: range.start, end: range.end } : undefined;
}

export function createUploadsRouter(deps: {
  service: UploadsService;
  signedLinks: SignedLinks;
  config: UploadsConfig;
  stagingDir: string;
  requireAuth: RequestHandler;
  redis: Redis | null;
  redisKeyPrefix: string;
}) {
  const { service, requireAuth } = deps;
  const routes = createModuleRouter('/api/upload');
  // Counted per user before the body is read, so a refused request costs no disk and no CPU.
  const uploadLimit = createRateLimit({
    name: 'upload',
    windowMs: deps.config.rateLimit.windowMs,
    limit: deps.config.rateLimit.max,
    redis: deps.redis,
    keyPrefix: deps.redisKeyPrefix,
    key: (req) => `user:${(req.res?.locals.auth as AuthContext).userId}`,
  });

  const uploadRoute = (kind: UploadKind) => {
    const multipart = singleFileUpload({ stagingDir: deps.stagingDir, maxBytes: deps.config.maxBytes[kind] });
    routes.post(`/${kind}`, requireAuth, uploadLimit, multipart, async (req, res) => {
      const file = req.file as Express.Multer.File;
      const upload = await service.ingest({
        ownerId: getAuth(res).userId,
        kind,
        stagedPath: file.path,
        originalName: file.originalname,
      });
      res.status(201).json({ data: upload });
    });
  };
  uploadRoute('image');
  uploadRoute('document');
  uploadRoute('voice');

  routes.get('/:id', requireAuth, withInput(uploadIdParam, ['params'], async ({ id }, res) => {
    res.json({ data: await service.get(id, getAuth(res).userId) });
  }));

  routes.get('/:id/content', requireAuth, withInput(uploadIdParam, ['params'], async ({ id }, res, req) => {
    await send(req, res, await service.open(id, getAuth(res).userId, 'content'), 'private, max-age=3600, no-transform');
  }));
  routes.get('/:id/thumbnail', requireAuth, withInput(uploadIdParam, ['params'], async ({ id }, res, req) => {
    await send(req, res, await service.open(id, getAuth(res).userId, 'thumbnail'), 'private, max-age=3600, no-transform');
  }));
  // No session: the link's signature is the authority. A forged, tampered or expired one is 403 before
  // the store is read; a valid one for an upload deleted since is 404. Caches must not keep a bearer URL.
  routes.get('/:id/signed-content', withInput(signedContentSchema, ['params', 'query'], async ({ id, expires, signature }, res, req) => {
    deps.signedLinks.verify(id, expires, signature);
    res.setHeader('Referrer-Policy', 'no-referrer');
    await send(req, res, await service.openSigned(id), 'private, no-store, no-transform');
  }));

  routes.delete('/:id', requireAuth, withInput(uploadIdParam, ['params'], async ({ id }, res) => {
    await service.remove(id, getAuth(res).userId);
    res.status(204).end();
  }));

  return routes;
}

/** Streams a stored file with ETag (304), a single byte range (206/416) and the safe-download headers. */
async function send(req: Request, res: Response, file: StoredFile, cacheControl: string): Promise<void> {
  // no-transform keeps compression from dropping Content-Length; the sandbox neuters active content.
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('ETag', file.etag);
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  const range = rangeOf(req, file.size);
  const stream = await file.read(range);
  res.status(range ? 206 : 200);
  res.setHeader('Content-Type', file.mimeType);
  res.setHeader('Content-Length', String(range ? range.end - range.start + 1 : file.size));
  if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
  res.setHeader('Accept-Ranges', 'bytes');
  // Documents are downloaded, never rendered by the browser; media may play inline.
  res.setHeader('Content-Disposition', contentDisposition(file.kind === 'document' ? 'attachment' : 'inline', file.fileName));
  res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.method === 'HEAD') {
    stream.destroy();
    res.end();
    return;
  }
  // A client that goes away mid-download is not an error worth reporting.
  await pipeline(stream, res).catch(() => undefined);
}

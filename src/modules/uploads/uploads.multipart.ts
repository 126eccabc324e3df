import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { RequestHandler } from 'express';
import multer, { MulterError } from 'multer';
import { AppError, errors } from '../../platform/errors';

const FIELD = 'file';

function toClientError(err: unknown, maxBytes: number): unknown {
  if (err instanceof MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') {
      return errors.payloadTooLarge(`The file is larger than ${maxBytes} bytes`);
    }
    if (err.code === 'LIMIT_UNEXPECTED_FILE' || err.code === 'LIMIT_FILE_COUNT') {
      return errors.validation([{ field: FIELD, message: `Send exactly one file, in the form field "${FIELD}"` }]);
    }
    return errors.validation([{ field: 'body', message: err.message }], 'The multipart body is not valid');
  }
  if (err instanceof AppError) return err;
  // Filesystem failures (ENOSPC, EACCES) are ours: let them become a 500.
  if (err && typeof err === 'object' && 'syscall' in err) return err;
  return errors.validation([{ field: 'body', message: 'Malformed or interrupted multipart body' }], 'The multipart body is not valid');
}

/**
 * Streams the one file of a multipart body to the staging directory (never into memory). multer
 * removes what it wrote when parsing fails or the client aborts; the route removes the rest.
 */
export function singleFileUpload(options: { stagingDir: string; maxBytes: number }): RequestHandler {
  const upload = multer({
    storage: multer.diskStorage({
      destination: options.stagingDir,
      filename: (_req, _file, callback) => callback(null, `${randomBytes(16).toString('hex')}.upload`),
    }),
    // Phones send UTF-8 file names without declaring a charset; busboy's default is latin1.
    defParamCharset: 'utf8',
    limits: { fileSize: options.maxBytes, files: 1, fields: 10, fieldSize: 1024, parts: 12, headerPairs: 50 },
  }).single(FIELD);

  return (req, res, next) => {
    upload(req, res, (err: unknown) => {
      if (err) {
        const staged = req.file?.path;
        const done = () => next(toClientError(err, options.maxBytes));
        if (staged) void rm(staged, { force: true }).finally(done);
        else done();
        return;
      }
      if (!req.file) {
        next(errors.validation([{ field: FIELD, message: `A file is required in the form field "${FIELD}"` }]));
        return;
      }
      next();
    });
  };
}

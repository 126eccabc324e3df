import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, ERROR_STATUS, errorBody, errors, toAppError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';

export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}`));
};

/** Maps body-parser's errors (they carry a `type`) to client errors. */
function fromBodyParser(err: { type?: string; status?: number }): AppError | null {
  switch (err.type) {
    case 'entity.parse.failed':
      return errors.validation([{ field: 'body', message: 'Malformed JSON' }], 'The request body is not valid JSON');
    case 'entity.too.large':
      return errors.payloadTooLarge();
    case 'charset.unsupported':
      return errors.unsupportedMediaType('Unsupported body charset');
    case 'encoding.unsupported':
      return errors.unsupportedMediaType('Unsupported Content-Encoding: send gzip, deflate, br or identity');
    case 'request.aborted':
      return errors.validation([{ field: 'body', message: 'The request was aborted' }]);
    default:
      return null;
  }
}

const CODE_BY_STATUS = new Map<number, string>(
  Object.entries(ERROR_STATUS)
    .filter(([code]) => code !== 'TOKEN_EXPIRED')
    .map(([code, status]) => [status, code]),
);

/**
 * Express, its router and body-parser report a client's mistake as an http-errors style error with
 * a 4xx `status`: a path escape that does not decode (`%ZZ`), a body whose Content-Encoding does
 * not match its bytes. They are the client's errors, answered with the status and a safe message.
 */
function fromHttpError(err: unknown): AppError | null {
  if (!err || typeof err !== 'object' || err instanceof AppError) return null;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : 0;
  if (code < 400 || code > 499) return null;
  if (err instanceof URIError) {
    return errors.validation([{ field: 'path', message: 'The path holds a malformed percent-escape' }], 'The request path is not valid');
  }
  if (code === 400) return errors.validation([{ field: 'body', message: 'The body could not be read as sent' }], 'The request body is not valid');
  const name = CODE_BY_STATUS.get(code) ?? 'VALIDATION_FAILED';
  return new AppError(name, 'The request is not valid', name === 'VALIDATION_FAILED' ? 400 : code);
}

export function errorHandler(logger: Logger, metrics?: Metrics): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const mapped = fromBodyParser(err as { type?: string }) ?? fromHttpError(err) ?? toAppError(err);
    if (mapped.code === 'INTERNAL') metrics?.unhandledErrors.inc({ source: 'request' });
    if (mapped.status === 503) {
      // An outage is already visible through readiness; one line per request is enough.
      const cause = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      logger.warn('Request failed: dependency unavailable', { code: mapped.code, cause });
    } else if (mapped.status >= 500) {
      logger.error('Request failed', { code: mapped.code, error: err instanceof Error ? err : String(err) });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(mapped.headers ?? {})) res.setHeader(name, value);
    res.status(mapped.status).json(errorBody(mapped, res.locals.requestId as string | undefined));
  };
}

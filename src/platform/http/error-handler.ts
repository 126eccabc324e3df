import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, errorBody, errors, toAppError } from '../errors';
import type { Logger } from '../logger';

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
    case 'encoding.unsupported':
      return errors.unsupportedMediaType('Unsupported body encoding');
    case 'request.aborted':
      return errors.validation([{ field: 'body', message: 'The request was aborted' }]);
    default:
      return null;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const mapped = fromBodyParser(err as { type?: string }) ?? toAppError(err);
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

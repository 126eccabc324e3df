/**
 * One error type for every failure a client may see. The error handler (REST) and the ack helper
 * (sockets) both turn it into the envelope of DESIGN.md.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ACCOUNT_LOCKED: 423,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type PlatformErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  field: string;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[]; requestId?: string; current?: unknown };
}

export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = ERROR_STATUS[code as PlatformErrorCode] ?? 400,
    readonly details?: ErrorDetail[],
    /** Extra headers such as Retry-After. */
    readonly headers?: Record<string, string>,
    /** The resource's current state, for a refusal the client recovers from without another read (a 409 on a stale version). */
    readonly current?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const errors = {
  validation: (details: ErrorDetail[], message = 'The request is not valid') =>
    new AppError('VALIDATION_FAILED', message, 400, details),
  unauthenticated: (message = 'Authentication is required') => new AppError('UNAUTHENTICATED', message),
  tokenExpired: () => new AppError('TOKEN_EXPIRED', 'The access token has expired'),
  forbidden: (message = 'You may not do this') => new AppError('FORBIDDEN', message),
  notFound: (what = 'Resource') => new AppError('NOT_FOUND', `${what} not found`),
  conflict: (message: string) => new AppError('CONFLICT', message),
  payloadTooLarge: (message = 'The request body is too large') => new AppError('PAYLOAD_TOO_LARGE', message),
  unsupportedMediaType: (message: string) => new AppError('UNSUPPORTED_MEDIA_TYPE', message),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError('RATE_LIMITED', 'Too many requests, try again later', 429, undefined, {
      'Retry-After': String(retryAfterSeconds),
    }),
  serviceUnavailable: (message = 'A service this request needs is unavailable, try again shortly') =>
    new AppError('SERVICE_UNAVAILABLE', message),
  internal: () => new AppError('INTERNAL', 'Something went wrong on our side'),
};

const DB_OUTAGE_NAMES = new Set([
  'MongoNetworkError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoNetworkTimeoutError',
  'MongoTopologyClosedError',
  'MongooseServerSelectionError',
]);
const PG_OUTAGE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001']);

/** True when an error means a database is out of reach (answered 503, not 500). */
export function isDatabaseOutage(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name && DB_OUTAGE_NAMES.has(e.name)) return true;
  if (e.code && PG_OUTAGE_CODES.has(e.code)) return true;
  // Mongoose reports a dropped connection with bufferCommands off as a plain MongooseError.
  return e.name === 'MongooseError' && /connect|buffering timed out/i.test(e.message ?? '');
}

/** Maps anything thrown to the client-facing error; unknown errors become INTERNAL. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isDatabaseOutage(err)) return errors.serviceUnavailable();
  return errors.internal();
}

export function errorBody(err: AppError, requestId?: string): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details && err.details.length ? { details: err.details } : {}),
      ...(requestId ? { requestId } : {}),
      ...(err.current !== undefined ? { current: err.current } : {}),
    },
  };
}

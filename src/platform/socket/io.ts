import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { AppError, errorBody, toAppError } from '../errors';

export type SocketAuthenticator = (socket: Socket) => Promise<void>;

export interface IoOptions {
  httpServer: HttpServer;
  corsOrigins: string[];
  /** A dedicated client: the streams adapter blocks on XREAD. */
  adapterRedis: Redis | null;
  keyPrefix: string;
  logger: Logger;
  metrics: Metrics;
  authenticate?: SocketAuthenticator;
}

export const MAX_SOCKET_PAYLOAD_BYTES = 64 * 1024;

// Each io server's metrics, so a handler that only holds its socket can count an unexpected failure.
const metricsByServer = new WeakMap<Server, Metrics>();

export function reportUnexpected(socket: Socket): void {
  metricsByServer.get(socket.nsp.server)?.unhandledErrors.inc({ source: 'socket' });
}

export function createIo(options: IoOptions): Server {
  const io = new Server(options.httpServer, {
    path: '/socket.io',
    cors: { origin: options.corsOrigins.length ? options.corsOrigins : false, credentials: false },
    maxHttpBufferSize: MAX_SOCKET_PAYLOAD_BYTES,
    // Missed events are replayed on a quick reconnect; longer gaps are caught up through REST sync.
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
    adapter: options.adapterRedis
      ? createAdapter(options.adapterRedis, {
          streamName: `${options.keyPrefix}socket.io`,
          channelPrefix: `${options.keyPrefix}socket.io`,
          sessionKeyPrefix: `${options.keyPrefix}sio:session:`,
          maxLen: 100_000,
          // Readers notice a shutdown only when their blocking XREAD returns; keep that short.
          blockTimeInMs: 1_000,
          onlyPlaintext: true,
        })
      : undefined,
  });

  metricsByServer.set(io, options.metrics);

  io.use((socket, next) => {
    if (!options.authenticate) return next();
    options.authenticate(socket).then(
      () => next(),
      (err: unknown) => {
        const appError = toAppError(err);
        const rejection = new Error(appError.message) as Error & { data?: unknown };
        rejection.data = errorBody(appError).error;
        next(rejection);
      },
    );
  });

  io.on('connection', (socket) => {
    options.metrics.connectedSockets.inc();
    socket.on('disconnect', () => options.metrics.connectedSockets.dec());
  });
  return io;
}

/** Error bodies on sockets carry the same shape as REST, with the event's request id. */
export function ackError(
  err: unknown,
  logger: Logger,
  event: string,
  requestId?: string,
): { ok: false; error: ReturnType<typeof errorBody>['error'] } {
  const appError = err instanceof AppError ? err : toAppError(err);
  // As on REST: a 503 (an outage, or load shed with a retry hint) is expected and one warning
  // line; anything else from the server's side is an error with its stack.
  if (appError.status === 503) logger.warn('Socket event refused: unavailable or busy', { event, code: appError.code, message: appError.message });
  else if (appError.status >= 500) logger.error('Socket event failed', { event, error: err instanceof Error ? err : String(err) });
  return { ok: false, error: errorBody(appError, requestId).error };
}

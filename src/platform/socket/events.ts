import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io';
import type { Logger } from '../logger';
import { validateInput, type InputOf, type Schema } from '../http/validate';
import { errors } from '../errors';
import { requestContext } from '../request-context';
import { ackError, reportUnexpected } from './io';

export type Ack = (response: unknown) => void;

export interface EventContext<TInput> {
  socket: Socket;
  input: TInput;
  /** Correlates this event's log lines and its error ack, like X-Request-Id on REST. */
  requestId: string;
}

export interface RegisteredEvent {
  event: string;
  schema: Schema;
}

/**
 * Every client→server event with its payload schema, filled as modules register them. The
 * generated bad-input suite walks it, so an event added later is covered without anyone listing it.
 */
const registry = new Map<string, RegisteredEvent>();

export function registeredEvents(): RegisteredEvent[] {
  return [...registry.values()];
}

/**
 * Socket.io passes `(payload, ack)`, `(ack)` when the client sent no payload, or `(payload)` for
 * fire-and-forget events: the ack is the last argument only when it is a function.
 */
export function splitEventArgs(args: unknown[]): { payload: unknown; ack: Ack | undefined } {
  const last = args[args.length - 1];
  if (typeof last === 'function') return { payload: args.length > 1 ? args[0] : undefined, ack: last as Ack };
  return { payload: args[0], ack: undefined };
}

/**
 * Registers a client→server event: validates the payload with the same typed schemas as REST,
 * runs the handler inside a request context (so its log lines carry a request id), and answers the
 * ack with `{ ok: true, data }` or `{ ok: false, error }` (the error carries that request id).
 * A missing ack is tolerated (fire-and-forget events such as typing). Nothing a handler throws or
 * rejects escapes: it becomes an error ack.
 */
export function onEvent<S extends Schema, TResult>(
  socket: Socket,
  event: string,
  schema: S,
  handler: (ctx: EventContext<InputOf<S>>) => Promise<TResult>,
  logger: Logger,
): void {
  if (!registry.has(event)) registry.set(event, { event, schema });
  socket.on(event, (...args: unknown[]) => {
    const { payload, ack = () => undefined } = splitEventArgs(args);
    const requestId = randomUUID();
    void requestContext.run({ requestId }, async () => {
      try {
        if (payload !== undefined && (payload === null || typeof payload !== 'object' || Array.isArray(payload) || Buffer.isBuffer(payload))) {
          throw errors.validation([{ field: 'payload', message: 'The payload must be an object' }]);
        }
        const input = await validateInput<InputOf<S>>(schema, { body: payload ?? {} });
        const data = await handler({ socket, input, requestId });
        ack({ ok: true, data: data ?? null });
      } catch (err) {
        const response = ackError(err, logger, event, requestId);
        if (response.error.code === 'INTERNAL') reportUnexpected(socket);
        try {
          ack(response);
        } catch (ackFailure) {
          logger.warn('Socket ack failed', { event, error: ackFailure instanceof Error ? ackFailure.message : String(ackFailure) });
        }
      }
    });
  });
}

import type { Socket } from 'socket.io';
import type { Logger } from '../logger';
import { validateInput, type Schema } from '../http/validate';
import { errors } from '../errors';
import { ackError } from './io';

export type Ack = (response: unknown) => void;

export interface EventContext<TInput> {
  socket: Socket;
  input: TInput;
}

/**
 * Registers a client→server event: validates the payload with the same express-validator schema
 * style as REST, runs the handler, and answers the ack with `{ ok: true, data }` or
 * `{ ok: false, error }`. A missing ack is tolerated (fire-and-forget events such as typing).
 */
export function onEvent<TInput, TResult>(
  socket: Socket,
  event: string,
  schema: Schema,
  handler: (ctx: EventContext<TInput>) => Promise<TResult>,
  logger: Logger,
): void {
  socket.on(event, async (...args: unknown[]) => {
    const last = args[args.length - 1];
    const ack: Ack = typeof last === 'function' ? (last as Ack) : () => undefined;
    const payload = typeof last === 'function' ? args[0] : args[0];
    try {
      if (payload !== undefined && (payload === null || typeof payload !== 'object' || Array.isArray(payload))) {
        throw errors.validation([{ field: 'payload', message: 'The payload must be an object' }]);
      }
      const input = await validateInput<TInput>(schema, { body: payload ?? {} });
      const data = await handler({ socket, input });
      ack({ ok: true, data: data ?? null });
    } catch (err) {
      ack(ackError(err, logger, event));
    }
  });
}

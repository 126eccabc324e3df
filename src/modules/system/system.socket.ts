import type { Socket } from 'socket.io';
import type { Logger } from '../../platform/logger';
import { onEvent } from '../../platform/socket/events';
import { systemPingSchema } from './system.schemas';

/** `system:ping` lets an app measure its round trip and check the connection is alive. */
export function registerSystemEvents(socket: Socket, logger: Logger, clock: () => Date): void {
  onEvent(
    socket,
    'system:ping',
    systemPingSchema,
    async ({ input }) => ({ echo: input.echo ?? null, serverTime: clock().toISOString() }),
    logger,
  );
}

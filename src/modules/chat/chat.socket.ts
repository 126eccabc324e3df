import type { Socket } from 'socket.io';
import type { Logger } from '../../platform/logger';
import { onEvent } from '../../platform/socket/events';
import { conversationRoom, getSocketAuth } from '../../platform/auth-context';
import type { ChatServices } from './chat.services';
import * as s from './chat.schemas';

/** Thin: validate (onEvent), call the same services as REST, answer the ack. */
export function registerChatEvents(socket: Socket, chat: ChatServices, logger: Logger): void {
  const auth = getSocketAuth(socket);
  const { userId } = auth;

  void chat.presence.connected(userId, socket.id).catch((err: Error) => logger.warn('Presence connect failed', { error: err.message }));
  socket.on('disconnect', (reason) => {
    chat.typing.stopAll(socket.id);
    // While this process shuts down its broadcasts may no longer leave it; its sockets are left
    // registered so a surviving process reaps them and announces who went offline.
    if (reason === 'server shutting down') return;
    void chat.presence.disconnected(userId, socket.id).catch(() => undefined);
  });

  onEvent(socket, 'chat:join', s.joinEvent, async ({ input }) => {
    const view = await chat.conversations.get(userId, input.conversationId);
    await socket.join(conversationRoom(input.conversationId));
    return view;
  }, logger);

  onEvent(socket, 'chat:leave', s.joinEvent, async ({ input }) => {
    await socket.leave(conversationRoom(input.conversationId));
    return { conversationId: input.conversationId };
  }, logger);

  onEvent(socket, 'chat:send', s.sendEvent, async ({ input }) => {
    const { conversationId, ...body } = input;
    chat.typing.stop(socket.id, conversationId);
    return chat.messages.send(userId, conversationId, body);
  }, logger);

  onEvent(socket, 'chat:read', s.readEvent, async ({ input }) => {
    const { conversationId, ...upTo } = input;
    return chat.receipts.markRead(userId, conversationId, upTo);
  }, logger);

  onEvent(socket, 'chat:delivered', s.deliveredEvent, async ({ input }) =>
    chat.receipts.markDelivered(userId, input.conversationId, input.seq), logger);

  onEvent(socket, 'typing:start', s.typingEvent, async ({ input }) => {
    await chat.typing.start(socket.id, userId, input.conversationId);
    return { conversationId: input.conversationId };
  }, logger);

  onEvent(socket, 'typing:stop', s.typingEvent, async ({ input }) => {
    await chat.typing.stopOwn(socket.id, userId, input.conversationId);
    return { conversationId: input.conversationId };
  }, logger);
}

/**
 * Typing indicators are transient: nothing is stored. A start arms a timer on the process holding
 * the socket, so a client that goes quiet (or drops) stops "typing" by itself after the timeout.
 */
export function createTyping(options: {
  timeoutMs: number;
  /** Throws (NOT_FOUND) unless the user is a member: only members type, or stop typing, in a conversation. */
  requireMember: (conversationId: string, userId: string) => Promise<unknown>;
  emit: (event: 'typing:start' | 'typing:stop', conversationId: string, userId: string) => Promise<void>;
}) {
  const timers = new Map<string, { timer: NodeJS.Timeout; userId: string; conversationId: string }>();
  const slot = (socketId: string, conversationId: string) => `${socketId}|${conversationId}`;

  function stop(socketId: string, conversationId: string): boolean {
    const entry = timers.get(slot(socketId, conversationId));
    if (!entry) return false;
    clearTimeout(entry.timer);
    timers.delete(slot(socketId, conversationId));
    void options.emit('typing:stop', conversationId, entry.userId).catch(() => undefined);
    return true;
  }

  return {
    async start(socketId: string, userId: string, conversationId: string): Promise<void> {
      await options.requireMember(conversationId, userId);
      const id = slot(socketId, conversationId);
      const existing = timers.get(id);
      if (existing) clearTimeout(existing.timer);
      const timer = setTimeout(() => stop(socketId, conversationId), options.timeoutMs);
      timer.unref();
      timers.set(id, { timer, userId, conversationId });
      // Only the first start of a burst is relayed; repeats just keep the indicator alive.
      if (!existing) await options.emit('typing:start', conversationId, userId);
    },
    /** The client's own typing:stop, answered like any request about the conversation. */
    async stopOwn(socketId: string, userId: string, conversationId: string): Promise<void> {
      await options.requireMember(conversationId, userId);
      stop(socketId, conversationId);
    },
    /** A stop the server decides (a message sent): no check, nothing to answer. */
    stop,
    /** On disconnect: every indicator this socket had on stops now. */
    stopAll(socketId: string): void {
      for (const [id, entry] of [...timers]) if (id.startsWith(`${socketId}|`)) stop(socketId, entry.conversationId);
    },
    clear(): void {
      for (const entry of timers.values()) clearTimeout(entry.timer);
      timers.clear();
    },
  };
}

export type Typing = ReturnType<typeof createTyping>;

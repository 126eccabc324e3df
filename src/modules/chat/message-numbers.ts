/**
 * Candidate sequence numbers for messages, per conversation, held in this process's memory.
 *
 * The number is claimed by inserting the message itself against the unique
 * `{ conversationId, seq }` index, so a number is taken exactly when its message is stored: a send
 * that fails or a process that dies before its insert leaves the number free for the next send.
 * What this keeps is only where to try: concurrent sends of one process get different candidates
 * (no wasted insert between them), a candidate whose insert failed is offered again first, and
 * the conversation's stored `lastSeq` (never ahead of a stored message) is the lower bound.
 */
export function createMessageNumbers(maxConversations = 50_000) {
  const state = new Map<string, { next: number; free: number[] }>();

  function entry(conversationId: string, lastSeq: number) {
    let current = state.get(conversationId);
    if (!current) {
      if (state.size >= maxConversations) state.clear();
      current = { next: lastSeq + 1, free: [] };
      state.set(conversationId, current);
    }
    current.next = Math.max(current.next, lastSeq + 1);
    current.free = current.free.filter((n) => n > lastSeq);
    return current;
  }

  return {
    /** The number to try next: a released one if any (lowest first), else the next unseen. */
    take(conversationId: string, lastSeq: number): number {
      const current = entry(conversationId, lastSeq);
      current.free.sort((a, b) => a - b);
      return current.free.shift() ?? current.next++;
    },
    /** The insert failed for another reason than the number: nothing is stored at it, offer it again. */
    release(conversationId: string, seq: number): void {
      const current = state.get(conversationId);
      if (current && !current.free.includes(seq)) current.free.push(seq);
    },
  };
}

export type MessageNumbers = ReturnType<typeof createMessageNumbers>;

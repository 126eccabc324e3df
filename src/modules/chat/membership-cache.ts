import type { ConversationType } from './chat.model';
import type { MembershipChannel, MembershipInvalidation } from './membership-channel';

/** What a send needs of its conversation: who may send and who hears it. */
export interface ConversationMembership {
  type: ConversationType;
  participantIds: string[];
  /** The conversation's `lastSeq` when this was read: only where to start numbering, never trusted as current. */
  lastSeq: number;
}

interface Entry {
  value: ConversationMembership;
  generation: number;
  expiresAt: number;
}

export interface MembershipCacheOptions {
  channel: MembershipChannel;
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
}

/**
 * Participant lists of conversations, kept in process so that a send reads nothing to check its
 * sender and find its recipients. The rules are auth's access cache's: an entry is served only
 * while the channel is live now, has not gone down since the entry was stored (same generation),
 * and its TTL (a safety net, not the mechanism) has not run out; otherwise the store is read. A
 * value read from the store is kept only when no invalidation arrived and the channel did not
 * change while it was read, so a read that raced a membership change answers its own request
 * and is never cached. Membership changes invalidate (here and on every process, awaiting the
 * publish) before the changing request answers. A Map in insertion order is the LRU.
 */
export function createMembershipCache({ channel, maxEntries, ttlMs, now = Date.now }: MembershipCacheOptions) {
  const entries = new Map<string, Entry>();
  let invalidations = 0;
  const stats = { hits: 0, misses: 0 };

  channel.onInvalidation((invalidation: MembershipInvalidation) => {
    invalidations += 1;
    for (const id of invalidation.conversations) entries.delete(id);
  });
  channel.onDown(() => {
    invalidations += 1;
    entries.clear();
  });

  return {
    /** The conversation's membership, from the cache when it may be trusted, else from `load` (null: no such conversation, never cached). */
    async get(conversationId: string, load: () => Promise<ConversationMembership | null>): Promise<ConversationMembership | null> {
      await channel.settle();
      const entry = entries.get(conversationId);
      if (entry) {
        entries.delete(conversationId);
        if (channel.live() && entry.generation === channel.generation() && entry.expiresAt > now()) {
          entries.set(conversationId, entry);
          stats.hits += 1;
          return entry.value;
        }
      }
      stats.misses += 1;
      const generation = channel.generation();
      const seen = invalidations;
      const value = await load();
      if (value !== null && invalidations === seen && channel.live() && channel.generation() === generation) {
        entries.set(conversationId, { value, generation, expiresAt: now() + ttlMs });
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      }
      return value;
    },
    /** Drops the entries here and on every other process (awaits the publish). */
    invalidate: (conversationIds: string[]) => channel.publish({ conversations: conversationIds }),
    stats: () => ({ ...stats, entries: entries.size, live: channel.live(), generation: channel.generation() }),
    start: () => channel.start(),
    close: () => channel.close(),
  };
}

export type MembershipCache = ReturnType<typeof createMembershipCache>;

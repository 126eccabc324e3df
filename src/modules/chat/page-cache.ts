import type { MessageDoc } from './chat.model';
import type { ViewsChannel, ViewsInvalidation } from './views-channel';

/** Pages of one conversation a process keeps at most (the newest page and a few cursors, per shape). */
export const PAGES_PER_CONVERSATION = 4;

interface PageEntry {
  rows: MessageDoc[];
  generation: number;
  expiresAt: number;
}

/** Taken before a page is read from the store: the page is stored only if nothing changed meanwhile. */
export interface PageLoadToken {
  generation: number;
  seen: number;
}

export interface PageCacheOptions {
  channel: ViewsChannel;
  /** Conversations whose pages a process keeps (an LRU by conversation); 0 turns the cache off. */
  maxConversations: number;
  ttlMs: number;
  pagesPerConversation?: number;
  now?: () => number;
}

/** The request shape a page answers: direction, where it starts (a cursor's number or the end), and the limit. */
export const pageShape = (direction: 'backward' | 'forward', cursorSeq: number | null, limit: number) =>
  `${direction}:${cursorSeq ?? 'top'}:${limit}`;

/**
 * Message pages in process (the rows `messages.list` answers from, limit + 1 of them), so a page a
 * client reads again costs no store round trip. The rules are the other caches' (auth's access
 * cache, chat's membership cache): an entry is served only while the views channel is live now
 * and has not gone down since the entry was stored (same generation), within a TTL that is only a
 * safety net; a page read from the store while ANY invalidation arrived answers its own request
 * and is not stored. Every write that changes what a page shows (a message stored, edited,
 * deleted, reacted to) publishes its conversation on the channel, awaited, before it is emitted
 * or answered; the conversation's pages are dropped on every process. Access is not the cache's:
 * the caller checks the participant list (the membership cache) before serving a hit. Search is
 * never cached. A Map in insertion order is the LRU, by conversation and within one.
 */
export function createPageCache({ channel, maxConversations, ttlMs, pagesPerConversation = PAGES_PER_CONVERSATION, now = Date.now }: PageCacheOptions) {
  const conversations = new Map<string, Map<string, PageEntry>>();
  let invalidations = 0;
  const stats = { hits: 0, misses: 0, stored: 0, notStored: 0 };

  channel.onInvalidation((invalidation: ViewsInvalidation) => {
    invalidations += 1;
    for (const id of invalidation.c) conversations.delete(id);
  });
  channel.onDown(() => {
    invalidations += 1;
    conversations.clear();
  });

  return {
    enabled: maxConversations > 0,
    /** Lets the invalidations already due run (a publish that preceded this request is applied first). */
    settle: () => channel.settle(),
    /** The cached rows for this shape when they may be trusted now; counts nothing. */
    peek(conversationId: string, shape: string): MessageDoc[] | null {
      const pages = conversations.get(conversationId);
      const entry = pages?.get(shape);
      if (!pages || !entry) return null;
      if (!channel.live() || entry.generation !== channel.generation() || entry.expiresAt <= now()) {
        pages.delete(shape);
        if (pages.size === 0) conversations.delete(conversationId);
        return null;
      }
      return entry.rows;
    },
    /** Marks the rows as served from the cache (most recently used). */
    served(conversationId: string, shape: string): void {
      const pages = conversations.get(conversationId);
      const entry = pages?.get(shape);
      if (!pages || !entry) return;
      stats.hits += 1;
      conversations.delete(conversationId);
      conversations.set(conversationId, pages);
      pages.delete(shape);
      pages.set(shape, entry);
    },
    /** Before reading a page from the store. */
    begin(): PageLoadToken {
      stats.misses += 1;
      return { generation: channel.generation(), seen: invalidations };
    },
    /** Keeps rows read from the store, unless any invalidation arrived or the channel changed since `begin`. */
    store(conversationId: string, shape: string, rows: MessageDoc[], token: PageLoadToken): void {
      if (maxConversations <= 0) return;
      if (invalidations !== token.seen || !channel.live() || channel.generation() !== token.generation) {
        stats.notStored += 1;
        return;
      }
      let pages = conversations.get(conversationId);
      if (pages) conversations.delete(conversationId);
      else pages = new Map();
      conversations.set(conversationId, pages);
      pages.delete(shape);
      pages.set(shape, { rows, generation: token.generation, expiresAt: now() + ttlMs });
      stats.stored += 1;
      if (pages.size > pagesPerConversation) pages.delete(pages.keys().next().value as string);
      if (conversations.size > maxConversations) conversations.delete(conversations.keys().next().value as string);
    },
    stats: () => ({
      ...stats,
      invalidations,
      conversations: conversations.size,
      pages: [...conversations.values()].reduce((n, pages) => n + pages.size, 0),
      live: channel.live(),
      generation: channel.generation(),
    }),
  };
}

export type PageCache = ReturnType<typeof createPageCache>;

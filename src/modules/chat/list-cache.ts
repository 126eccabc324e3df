import type { ConversationDoc, MemberDoc } from './chat.model';
import type { ViewsChannel, ViewsInvalidation } from './views-channel';

/** List pages of one user a process keeps at most (the first page and a few cursors, per limit). */
export const LIST_PAGES_PER_USER = 4;

/** What a list page is made of: the conversations (limit + 1) and the caller's member rows of those. */
export interface ListRows {
  rows: ConversationDoc[];
  mine: MemberDoc[];
}

interface ListEntry {
  value: ListRows;
  generation: number;
  expiresAt: number;
}

interface UserEntry {
  pages: Map<string, ListEntry>;
  /** Every conversation of the user's member rows when a page was stored: a change to any of them may reorder the list. */
  conversations: Set<string>;
}

export interface ListLoadToken {
  generation: number;
  seen: number;
}

export interface ListCacheOptions {
  channel: ViewsChannel;
  /** Users whose list pages a process keeps (an LRU by user); 0 turns the cache off. */
  maxUsers: number;
  ttlMs: number;
  pagesPerUser?: number;
  now?: () => number;
}

export const listShape = (cursor: string | undefined, limit: number) => `${cursor ?? 'top'}:${limit}`;

/**
 * The caller's conversation-list pages in process (the rows the list is made of; the profiles
 * come from users' cache on every read), so a list read again costs no store round trip. Same
 * rules as the page cache (page-cache.ts) and the other caches: served only while the views
 * channel is live and under the generation the entry was stored in, within a TTL that is only a
 * safety net; a load during which any invalidation arrived is not stored. Invalidated by user
 * (`u`: that user's member row changed: positions, mute, role, joining or leaving; a new
 * conversation) and by conversation (`c`: its document changed: summary, order, participants,
 * preview). A reverse index from every conversation of a cached user's member rows (not only
 * those on the cached page: a conversation further down that becomes active moves to the top) to
 * the user drops every list a `c` can change.
 */
export function createListCache({ channel, maxUsers, ttlMs, pagesPerUser = LIST_PAGES_PER_USER, now = Date.now }: ListCacheOptions) {
  const usersById = new Map<string, UserEntry>();
  const byConversation = new Map<string, Set<string>>();
  let invalidations = 0;
  const stats = { hits: 0, misses: 0, stored: 0, notStored: 0 };

  function drop(userId: string): void {
    const entry = usersById.get(userId);
    if (!entry) return;
    usersById.delete(userId);
    for (const conversationId of entry.conversations) {
      const holders = byConversation.get(conversationId);
      holders?.delete(userId);
      if (holders && holders.size === 0) byConversation.delete(conversationId);
    }
  }

  channel.onInvalidation((invalidation: ViewsInvalidation) => {
    invalidations += 1;
    for (const userId of invalidation.u) drop(userId);
    for (const conversationId of invalidation.c) for (const userId of [...(byConversation.get(conversationId) ?? [])]) drop(userId);
  });
  channel.onDown(() => {
    invalidations += 1;
    usersById.clear();
    byConversation.clear();
  });

  return {
    enabled: maxUsers > 0,
    settle: () => channel.settle(),
    /** The cached rows when they may be trusted now (and marks them most recently used). */
    get(userId: string, shape: string): ListRows | null {
      const entry = usersById.get(userId);
      const page = entry?.pages.get(shape);
      if (!entry || !page) return null;
      entry.pages.delete(shape);
      if (!channel.live() || page.generation !== channel.generation() || page.expiresAt <= now()) return null;
      entry.pages.set(shape, page);
      usersById.delete(userId);
      usersById.set(userId, entry);
      stats.hits += 1;
      return page.value;
    },
    begin(): ListLoadToken {
      stats.misses += 1;
      return { generation: channel.generation(), seen: invalidations };
    },
    /**
     * Keeps a page read from the store, unless any invalidation arrived or the channel changed
     * since `begin`. `memberConversations`: the conversations of all the user's member rows.
     */
    store(userId: string, shape: string, value: ListRows, memberConversations: string[], token: ListLoadToken): void {
      if (maxUsers <= 0) return;
      if (invalidations !== token.seen || !channel.live() || channel.generation() !== token.generation) {
        stats.notStored += 1;
        return;
      }
      let entry = usersById.get(userId);
      if (entry) usersById.delete(userId);
      else entry = { pages: new Map(), conversations: new Set() };
      usersById.set(userId, entry);
      for (const conversationId of [...memberConversations, ...value.rows.map((c) => String(c._id))]) {
        if (entry.conversations.has(conversationId)) continue;
        entry.conversations.add(conversationId);
        let holders = byConversation.get(conversationId);
        if (!holders) byConversation.set(conversationId, (holders = new Set()));
        holders.add(userId);
      }
      entry.pages.delete(shape);
      entry.pages.set(shape, { value, generation: token.generation, expiresAt: now() + ttlMs });
      stats.stored += 1;
      if (entry.pages.size > pagesPerUser) entry.pages.delete(entry.pages.keys().next().value as string);
      if (usersById.size > maxUsers) drop(usersById.keys().next().value as string);
    },
    stats: () => ({ ...stats, invalidations, users: usersById.size, indexed: byConversation.size, live: channel.live(), generation: channel.generation() }),
  };
}

export type ListCache = ReturnType<typeof createListCache>;

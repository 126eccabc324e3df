import type { Types } from 'mongoose';

/**
 * Message pages served by one equality lookup, whatever the conversation's length.
 *
 * FerretDB 1.24 pushes only equality on scalar values down to SQL (no `$gt`/`$lt`, sort or limit),
 * so a range page `{ conversationId, seq < n }` decodes every message of the conversation. Instead
 * every message carries `pageKeys`: the ids of the fixed "windows" of consecutive numbers it falls
 * in, and a page is `{ pageKeys: <one window>, seq < n }` sorted and limited, which reads at most
 * one window's rows (served by the GIN companion of the `{ pageKeys, seq }` index; on MongoDB by
 * that index itself).
 *
 * A family (size, span): numbers are grouped in buckets of `size` (bucket q = floor(seq / size)); window w
 * holds buckets w-span+1 … w, i.e. numbers [(w-span+1)·size, (w+1)·size), so each message is in
 * `span` windows of the family. A page of `limit` messages after or before a cursor is inside one
 * window when (span-1)·size ≥ limit; the newest page, anchored at the conversation's `lastSeq`
 * (which may lag the newest stored message a little), when (span-2)·size ≥ limit. The small
 * family serves pages of up to 64 (80 after a cursor) reading at most 96 rows; the large one up
 * to 100 (150) reading at most 200. Ten short keys per message.
 */
export interface PageFamily {
  tag: string;
  size: number;
  span: number;
}

export const PAGE_FAMILIES: readonly PageFamily[] = [
  { tag: 'a', size: 16, span: 6 },
  { tag: 'b', size: 50, span: 4 },
];

const key = (conversationId: string, family: PageFamily, window: number) => `${conversationId}:${family.tag}${window.toString(36)}`;

/** Every window key of a message, stored with it at insert (its number never changes). */
export function messagePageKeys(conversationId: string | Types.ObjectId, seq: number): string[] {
  const id = String(conversationId);
  const keys: string[] = [];
  for (const family of PAGE_FAMILIES) {
    const bucket = Math.floor(seq / family.size);
    for (let w = bucket; w < bucket + family.span; w += 1) keys.push(key(id, family, w));
  }
  return keys;
}

export interface PageWindow {
  key: string;
  /** The highest number the window holds. */
  top: number;
}

function window(conversationId: string, family: PageFamily, w: number): PageWindow {
  return { key: key(conversationId, family, w), top: (w + 1) * family.size - 1 };
}

function familyFor(limit: number, margin: number): PageFamily | null {
  return PAGE_FAMILIES.find((f) => (f.span - margin) * f.size >= limit) ?? null;
}

/** The window holding numbers `before - 1` down to `before - 1 - limit` (a backward page after a cursor). */
export function windowBefore(conversationId: string, before: number, limit: number): PageWindow | null {
  const family = familyFor(limit, 1);
  return family ? window(conversationId, family, Math.floor(Math.max(0, before - 1) / family.size)) : null;
}

/** The window holding numbers `after + 1` up to `after + 1 + limit` (a forward page after a cursor). */
export function windowAfter(conversationId: string, after: number, limit: number): PageWindow | null {
  const family = familyFor(limit, 1);
  return family ? window(conversationId, family, Math.floor((after + 1) / family.size) + family.span - 1) : null;
}

/**
 * The window for the newest page when the newest number known is `anchor`: it reaches at least
 * one bucket above the anchor (messages stored before the conversation's `lastSeq` moved) and at
 * least `limit` below it. If the page's highest row is the window's top, more may lie above.
 */
export function windowAtTop(conversationId: string, anchor: number, limit: number): PageWindow | null {
  const family = familyFor(limit, 2);
  return family ? window(conversationId, family, Math.floor(anchor / family.size) + 1) : null;
}

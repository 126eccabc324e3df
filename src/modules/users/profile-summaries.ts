import type { Connection, Model } from 'mongoose';
import { parseObjectId } from '../../platform/mongo';
import type { UserDoc } from './user.model';
import type { ProfileChannel } from './profile-channel';

/** What a list shows of a person: display name, company and avatar (the business logo's upload). */
export interface ProfileSummary {
  id: string;
  name: string;
  role: string;
  companyName: string | null;
  /** The business logo's upload id: the avatar a client shows. */
  avatarUploadId: string | null;
}

export function toProfileSummary(user: Pick<UserDoc, '_id' | 'name' | 'role' | 'business'>): ProfileSummary {
  return {
    id: String(user._id),
    name: user.name,
    role: user.role,
    companyName: user.business?.companyName ?? null,
    avatarUploadId: user.business?.logoUploadId ?? null,
  };
}

/**
 * Where every write to a user document announces it (user-writes.ts), and where reads of a user
 * document find the users module's cache: one per connection, so the account services auth
 * builds on the same connection (its /me) reach the users module's cache and channel, whichever
 * was built first. Without a listener (the create-admin command) it announces nothing, and
 * without a cache every read goes to the store.
 */
export interface ProfileChanges {
  changed(userIds: string[]): Promise<void>;
  listen(publish: (userIds: string[]) => Promise<void>): void;
  /** The user document (secrets excluded) through the cache once there is one, else from the store. */
  read(users: Model<UserDoc>, userId: string): Promise<UserDoc | null>;
  serveReadsFrom(cache: ProfileSummaryCache): void;
}

const hubs = new WeakMap<Connection, ProfileChanges>();
export function profileChanges(connection: Connection): ProfileChanges {
  let hub = hubs.get(connection);
  if (!hub) {
    let publish: ((userIds: string[]) => Promise<void>) | null = null;
    let cache: ProfileSummaryCache | null = null;
    hub = {
      changed: (userIds) => (publish ? publish(userIds) : Promise.resolve()),
      listen: (fn) => {
        publish = fn;
      },
      read: (users, userId) => {
        if (cache) return cache.document(userId);
        const id = parseObjectId(userId);
        return id ? users.findById(id).lean<UserDoc>().exec() : Promise.resolve(null);
      },
      serveReadsFrom: (c) => {
        cache = c;
      },
    };
    hubs.set(connection, hub);
  }
  return hub;
}

interface Entry {
  /** The document as the store returned it (secret fields are never selected), or null for no account. */
  value: UserDoc | null;
  generation: number;
  expiresAt: number;
}

export interface ProfileSummaryCacheOptions {
  users: Model<UserDoc>;
  channel: ProfileChannel;
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
}

/**
 * User documents in process, bounded (an LRU of `maxEntries`), so the reads a mobile app repeats
 * all day (its own /me, a profile, the people a list shows, the profile a notification is sent
 * by) read nothing from the store in the steady state. Secret fields are never selected, so they
 * are never here. The rules are the access cache's: an entry is served only while the channel is
 * live and has not gone down since it was stored (a changed profile's message may have been
 * lost), within a TTL that is only a safety net; a value read while an invalidation arrived is
 * used for its own request and not stored. Every write to a user document (profile, preferences,
 * role, status, counts, credentials) goes through user-writes.ts, which announces it after the
 * write and waits for Redis to take the message. An unknown account is cached as null (so a list
 * naming one does not read it every time); creating an account never has to invalidate, because
 * ids are new.
 */
export function createProfileSummaryCache({ users, channel, maxEntries, ttlMs, now = Date.now }: ProfileSummaryCacheOptions) {
  const entries = new Map<string, Entry>();
  let invalidations = 0;
  const stats = { hits: 0, misses: 0 };

  channel.onChange((userIds) => {
    invalidations += 1;
    for (const id of userIds) entries.delete(id);
  });
  channel.onDown(() => {
    invalidations += 1;
    entries.clear();
  });

  function hit(id: string): Entry | undefined {
    const entry = entries.get(id);
    if (!entry) return undefined;
    entries.delete(id);
    if (!channel.live() || entry.generation !== channel.generation() || entry.expiresAt <= now()) return undefined;
    entries.set(id, entry);
    return entry;
  }

  /** One read by `_id` each (the lookup the local store serves from its primary key; `$in` scans there). */
  async function load(ids: string[]): Promise<Map<string, UserDoc | null>> {
    const found = await Promise.all(
      ids.map(async (id) => {
        const oid = parseObjectId(id);
        return [id, oid ? await users.findById(oid).lean<UserDoc>() : null] as const;
      }),
    );
    return new Map(found);
  }

  /** The documents of `userIds`, from entries where they are trusted and from the store for the rest. */
  async function documents(userIds: Iterable<string>): Promise<Map<string, UserDoc | null>> {
    await channel.settle();
    const out = new Map<string, UserDoc | null>();
    const missing: string[] = [];
    for (const id of new Set(userIds)) {
      const entry = hit(id);
      if (entry) {
        stats.hits += 1;
        out.set(id, entry.value);
      } else missing.push(id);
    }
    if (missing.length === 0) return out;
    stats.misses += missing.length;
    const generation = channel.generation();
    const seen = invalidations;
    const loaded = await load(missing);
    const storable = maxEntries > 0 && invalidations === seen && channel.live() && channel.generation() === generation;
    for (const [id, value] of loaded) {
      out.set(id, value);
      if (!storable) continue;
      entries.set(id, { value, generation, expiresAt: now() + ttlMs });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    }
    return out;
  }

  return {
    /** Summaries of the given ids; an id of no (or a deleted) account is absent from the answer. */
    async summaries(userIds: string[]): Promise<Map<string, ProfileSummary>> {
      const out = new Map<string, ProfileSummary>();
      for (const [id, user] of await documents(userIds)) if (user && user.status !== 'deleted') out.set(id, toProfileSummary(user));
      return out;
    },
    documents,
    /** The user's document whatever its status, or null when there is no such account. */
    async document(userId: string): Promise<UserDoc | null> {
      return (await documents([userId])).get(userId) ?? null;
    },
    stats: () => ({ ...stats, entries: entries.size, live: channel.live(), generation: channel.generation() }),
  };
}

export type ProfileSummaryCache = ReturnType<typeof createProfileSummaryCache>;

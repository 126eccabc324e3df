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

const SUMMARY_FIELDS = { name: 1, role: 1, status: 1, 'business.companyName': 1, 'business.logoUploadId': 1 } as const;

/**
 * Where every write to a user document announces it (user-writes.ts): one per connection, so the
 * account services auth builds on the same connection reach the users module's cache and channel,
 * whichever was built first. Without a listener (the create-admin command) it does nothing.
 */
export interface ProfileChanges {
  changed(userIds: string[]): Promise<void>;
  listen(publish: (userIds: string[]) => Promise<void>): void;
}

const hubs = new WeakMap<Connection, ProfileChanges>();
export function profileChanges(connection: Connection): ProfileChanges {
  let hub = hubs.get(connection);
  if (!hub) {
    let publish: ((userIds: string[]) => Promise<void>) | null = null;
    hub = {
      changed: (userIds) => (publish ? publish(userIds) : Promise.resolve()),
      listen: (fn) => {
        publish = fn;
      },
    };
    hubs.set(connection, hub);
  }
  return hub;
}

interface Entry {
  value: ProfileSummary | null;
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
 * Profile summaries in process, bounded (an LRU of `maxEntries`), so a list that shows people
 * reads none of them from the store in the steady state. The rules are the access cache's: an
 * entry is served only while the channel is live and has not gone down since it was stored (a
 * changed profile's message may have been lost), within a TTL that is only a safety net; a value
 * read while an invalidation arrived is used for its own request and not stored. A deleted or
 * unknown account is cached as null (so a list naming one does not read it every time); creating
 * an account never has to invalidate, because ids are new.
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
  async function load(ids: string[]): Promise<Map<string, ProfileSummary | null>> {
    const found = await Promise.all(
      ids.map(async (id) => {
        const oid = parseObjectId(id);
        const user = oid ? await users.findById(oid, SUMMARY_FIELDS).lean<UserDoc>() : null;
        return [id, user && user.status !== 'deleted' ? toProfileSummary(user) : null] as const;
      }),
    );
    return new Map(found);
  }

  return {
    /** Summaries of the given ids; an id of no (or a deleted) account is absent from the answer. */
    async summaries(userIds: string[]): Promise<Map<string, ProfileSummary>> {
      await channel.settle();
      const out = new Map<string, ProfileSummary>();
      const missing: string[] = [];
      for (const id of new Set(userIds)) {
        const entry = hit(id);
        if (entry) {
          stats.hits += 1;
          if (entry.value) out.set(id, entry.value);
        } else missing.push(id);
      }
      if (missing.length === 0) return out;
      stats.misses += missing.length;
      const generation = channel.generation();
      const seen = invalidations;
      const loaded = await load(missing);
      const storable = invalidations === seen && channel.live() && channel.generation() === generation;
      for (const [id, value] of loaded) {
        if (value) out.set(id, value);
        if (!storable) continue;
        entries.set(id, { value, generation, expiresAt: now() + ttlMs });
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      }
      return out;
    },
    stats: () => ({ ...stats, entries: entries.size, live: channel.live(), generation: channel.generation() }),
  };
}

export type ProfileSummaryCache = ReturnType<typeof createProfileSummaryCache>;

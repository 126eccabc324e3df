import type { Role } from '../../platform/auth-context';
import type { UserStatus } from '../users';
import type { AccessChannel, AccessInvalidation } from './access-channel';

/** An open session (revoked or missing ones are never cached). */
export interface SessionState {
  userId: string;
}

export interface UserState {
  role: Role;
  status: UserStatus;
}

interface Entry<T> {
  value: T;
  generation: number;
  expiresAt: number;
}

export interface AccessCacheOptions {
  channel: AccessChannel;
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
}

/** A Map in insertion order is an LRU: a hit moves the key to the end, the first key is the oldest. */
class Lru<T> {
  private readonly map = new Map<string, Entry<T>>();
  constructor(private readonly max: number) {}

  get(key: string): Entry<T> | undefined {
    const entry = this.map.get(key);
    if (entry) {
      this.map.delete(key);
      this.map.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: Entry<T>): void {
    this.map.delete(key);
    this.map.set(key, entry);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * The session and user state every authenticated request needs, kept in process so that the
 * steady state reads nothing from the store. An entry is served only when all of these hold:
 * the channel is live now, it has not gone down since the entry was stored (same generation),
 * and the TTL (a safety net, not the mechanism) has not run out. A value read from the store is
 * stored only when no invalidation arrived and the channel did not change while it was read, so
 * a read that raced a revocation is used for its own request and never cached.
 */
export function createAccessCache({ channel, maxEntries, ttlMs, now = Date.now }: AccessCacheOptions) {
  const sessions = new Lru<SessionState>(maxEntries);
  const users = new Lru<UserState>(maxEntries);
  let invalidations = 0;
  const stats = { hits: 0, misses: 0 };

  channel.onInvalidation((invalidation: AccessInvalidation) => {
    invalidations += 1;
    for (const id of invalidation.sessions ?? []) sessions.delete(id);
    for (const id of invalidation.users ?? []) users.delete(id);
  });
  channel.onDown(() => {
    invalidations += 1;
    sessions.clear();
    users.clear();
  });

  async function through<T>(lru: Lru<T>, key: string, load: () => Promise<T | null>): Promise<T | null> {
    await channel.settle();
    const entry = lru.get(key);
    if (entry) {
      if (channel.live() && entry.generation === channel.generation() && entry.expiresAt > now()) {
        stats.hits += 1;
        return entry.value;
      }
      lru.delete(key);
    }
    stats.misses += 1;
    const generation = channel.generation();
    const seen = invalidations;
    const value = await load();
    if (value !== null && invalidations === seen && channel.live() && channel.generation() === generation) {
      lru.set(key, { value, generation, expiresAt: now() + ttlMs });
    }
    return value;
  }

  return {
    session: (sessionId: string, load: () => Promise<SessionState | null>) => through(sessions, sessionId, load),
    user: (userId: string, load: () => Promise<UserState | null>) => through(users, userId, load),
    /** Drops the entries here and on every other process (awaits the publish). */
    invalidate: (invalidation: AccessInvalidation) => channel.publish(invalidation),
    stats: () => ({ ...stats, sessions: sessions.size, users: users.size, live: channel.live(), generation: channel.generation() }),
  };
}

export type AccessCache = ReturnType<typeof createAccessCache>;

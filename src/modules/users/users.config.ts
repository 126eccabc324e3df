import type { EnvReader } from '../../platform/config';

/** Users' settings, read from USERS_* variables. */
export interface UsersConfig {
  /** User documents kept in process for /me, profiles, lists and notifications; 0 turns the cache off. */
  profileCacheMaxEntries: number;
  /** Safety net only: a profile change reaches every process at once through Redis. */
  profileCacheTtlSeconds: number;
}

export function readUsersConfig(read: EnvReader): UsersConfig {
  return {
    profileCacheMaxEntries: read.int('USERS_PROFILE_CACHE_MAX_ENTRIES', 20_000, 0, 10_000_000),
    profileCacheTtlSeconds: read.int('USERS_PROFILE_CACHE_TTL_SECONDS', 300, 1, 86_400),
  };
}

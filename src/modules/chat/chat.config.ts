import type { EnvReader } from '../../platform/config';

/** Chat's settings, read from CHAT_* variables. */
export interface ChatConfig {
  editWindowSeconds: number;
  sendRateMax: number;
  sendRateWindowMs: number;
  typingTimeoutMs: number;
  presenceHeartbeatMs: number;
  syncSettleMs: number;
  /** Lease of chat's store locks: a dead process holding one blocks others this long at most. */
  lockLeaseMs: number;
  groupMaxMembers: number;
  /** Conversations whose participant list a process keeps (membership-cache.ts). */
  membershipCacheMax: number;
  /** A cached participant list is read again after this long even if no invalidation came (a safety net). */
  membershipCacheTtlMs: number;
  /** Conversations whose message pages a process keeps (page-cache.ts); 0 turns the page cache off. */
  pageCacheMaxConversations: number;
  /** A cached page is read again after this long even if no invalidation came (a safety net). */
  pageCacheTtlMs: number;
  /** Users whose conversation-list pages a process keeps (list-cache.ts); 0 turns the list cache off. */
  listCacheMaxUsers: number;
  /** A cached list page is read again after this long even if no invalidation came (a safety net). */
  listCacheTtlMs: number;
  /** Emit claims (emit-claims.ts: Redis keys, or chat_message_emits without Redis) are kept this long: a retry later than this emits once more. */
  emitRetentionHours: number;
  emitSweepEveryMs: number;
}

export function readChatConfig(read: EnvReader): ChatConfig {
  return {
    editWindowSeconds: read.int('CHAT_EDIT_WINDOW_SECONDS', 900, 0, 7 * 86_400),
    sendRateMax: read.int('CHAT_SEND_RATE_MAX', 30, 1, 1_000_000),
    sendRateWindowMs: read.int('CHAT_SEND_RATE_WINDOW_MS', 10_000, 1_000, 3_600_000),
    typingTimeoutMs: read.int('CHAT_TYPING_TIMEOUT_MS', 5_000, 100, 60_000),
    presenceHeartbeatMs: read.int('CHAT_PRESENCE_HEARTBEAT_MS', 5_000, 100, 60_000),
    syncSettleMs: read.int('CHAT_SYNC_SETTLE_MS', 2_000, 0, 60_000),
    lockLeaseMs: read.int('CHAT_LOCK_LEASE_MS', 3_000, 100, 60_000),
    groupMaxMembers: read.int('CHAT_GROUP_MAX_MEMBERS', 256, 3, 10_000),
    membershipCacheMax: read.int('CHAT_MEMBERSHIP_CACHE_MAX', 50_000, 0, 10_000_000),
    membershipCacheTtlMs: read.int('CHAT_MEMBERSHIP_CACHE_TTL_MS', 120_000, 0, 3_600_000),
    pageCacheMaxConversations: read.int('CHAT_PAGE_CACHE_MAX_CONVERSATIONS', 500, 0, 1_000_000),
    pageCacheTtlMs: read.int('CHAT_PAGE_CACHE_TTL_MS', 60_000, 0, 3_600_000),
    listCacheMaxUsers: read.int('CHAT_LIST_CACHE_MAX_USERS', 2_000, 0, 10_000_000),
    listCacheTtlMs: read.int('CHAT_LIST_CACHE_TTL_MS', 60_000, 0, 3_600_000),
    emitRetentionHours: read.int('CHAT_EMIT_RETENTION_HOURS', 48, 1, 24 * 365),
    emitSweepEveryMs: read.int('CHAT_EMIT_SWEEP_EVERY_MS', 3_600_000, 100, 86_400_000),
  };
}

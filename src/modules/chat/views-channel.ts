import {
  createLocalInvalidationChannel,
  createRedisInvalidationChannel,
  type InvalidationChannel,
  type RedisInvalidationChannelDeps,
} from '../../platform/invalidation-channel';

/** The pub/sub channel of chat's view caches, under the deployment's key prefix. */
export const viewsChannelName = (keyPrefix: string) => `${keyPrefix}chat:views`;

/**
 * What changed in what a view shows: `c`, conversations whose messages (a page) or document
 * (summary, participants, order in a list) changed; `u`, users whose own member rows changed
 * (positions, mute, role, joining or leaving), so their conversation lists are stale.
 */
export interface ViewsInvalidation {
  c: string[];
  u: string[];
}

/**
 * How every process hears that a cached view is wrong: the InvalidationChannel of
 * src/platform/invalidation-channel.ts (auth's access channel's rules). A cache may serve an entry
 * only while `live()` holds and `generation()` is the one it was cached under.
 */
export type ViewsChannel = InvalidationChannel<ViewsInvalidation>;

const isIdList = (value: unknown): value is string[] => Array.isArray(value) && value.every((id) => typeof id === 'string');

/** A message from the channel, or null (malformed, or from an incompatible version: ignored). */
export function parseViewsInvalidation(raw: string): ViewsInvalidation | null {
  try {
    const value = JSON.parse(raw) as unknown;
    if (!value || typeof value !== 'object') return null;
    const { c, u } = value as Record<string, unknown>;
    return isIdList(c) && isIdList(u) ? { c, u } : null;
  } catch {
    return null;
  }
}

/**
 * The views channel's publish of each app context (set by chat.services.ts), for chat's upkeep
 * (chat-maintenance.ts), which is started on the same context apart from the module's services.
 */
export const viewsPublishers = new WeakMap<object, (invalidation: ViewsInvalidation) => Promise<void>>();

/** One process (no REDIS_URL): delivery is a function call, so the channel is always live. */
export function createLocalViewsChannel(): ViewsChannel {
  return createLocalInvalidationChannel<ViewsInvalidation>();
}

/**
 * Redis pub/sub on `<prefix>chat:views`. Live only while the subscriber is connected, subscribed
 * and answered a ping recently; while it is not, every view is read from the store. A publish
 * that fails is applied here at once and retried until Redis takes it.
 */
export function createRedisViewsChannel(deps: RedisInvalidationChannelDeps): ViewsChannel {
  return createRedisInvalidationChannel<ViewsInvalidation>({
    ...deps,
    parse: parseViewsInvalidation,
    connectionName: 'trade-backend:chat-views',
    messages: {
      down: 'Chat views channel is down: message pages and conversation lists are read from the store until it is back',
      notConnected: 'Chat views channel could not connect yet',
      publishFailed: 'Could not publish a chat views invalidation; retrying',
    },
  });
}

import {
  createLocalInvalidationChannel,
  createRedisInvalidationChannel,
  type InvalidationChannel,
  type RedisInvalidationChannelDeps,
} from '../../platform/invalidation-channel';
import type { Logger } from '../../platform/logger';

/** The pub/sub channel of changed profiles, under the deployment's key prefix. */
export const profileChannelName = (keyPrefix: string) => `${keyPrefix}users:profiles`;

/**
 * How every process hears that a user's profile changed (the same rules as auth's access channel,
 * the InvalidationChannel of src/platform/invalidation-channel.ts, for display data): a cache may
 * serve an entry only while `live()` holds and `generation()` is the one it was cached under,
 * since a channel that went down may have lost messages. The message is the changed user ids;
 * the handler is registered with `onChange` (the generic channel's `onInvalidation`).
 */
export interface ProfileChannel extends Omit<InvalidationChannel<string[]>, 'onInvalidation'> {
  onChange(handler: (userIds: string[]) => void): void;
}

function parse(raw: string): string[] | null {
  try {
    const value = JSON.parse(raw) as unknown;
    return Array.isArray(value) && value.every((id) => typeof id === 'string') ? (value as string[]) : null;
  } catch {
    return null;
  }
}

function asProfileChannel(channel: InvalidationChannel<string[]>): ProfileChannel {
  return {
    live: channel.live,
    generation: channel.generation,
    publish: channel.publish,
    onChange: channel.onInvalidation,
    onDown: channel.onDown,
    settle: channel.settle,
    start: channel.start,
    close: channel.close,
  };
}

/** One process (no REDIS_URL): delivery is a function call, always live. */
export function createLocalProfileChannel(): ProfileChannel {
  return asProfileChannel(createLocalInvalidationChannel<string[]>());
}

export interface RedisProfileChannelDeps extends RedisInvalidationChannelDeps {
  logger: Logger;
}

/**
 * Redis pub/sub. Live only while the subscriber is connected, subscribed and answered a ping
 * within `staleAfterMs`; while it is not, caches read the store. A publish that fails is applied
 * here at once and retried every ping until Redis takes it.
 */
export function createRedisProfileChannel(deps: RedisProfileChannelDeps): ProfileChannel {
  return asProfileChannel(
    createRedisInvalidationChannel<string[]>({
      ...deps,
      parse,
      connectionName: 'trade-backend:users-profiles',
      messages: {
        down: 'Profile cache channel is down: profile summaries are read from the store until it is back',
        notConnected: 'Profile cache channel could not connect yet',
        publishFailed: 'Could not publish a profile change; retrying',
      },
    }),
  );
}

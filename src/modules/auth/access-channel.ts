import {
  createLocalInvalidationChannel,
  createRedisInvalidationChannel,
  type InvalidationChannel,
  type RedisInvalidationChannelDeps,
} from '../../platform/invalidation-channel';
import type { Logger } from '../../platform/logger';

/** The pub/sub channel, under the deployment's key prefix. */
export const accessChannelName = (keyPrefix: string) => `${keyPrefix}auth:access`;

/** What changed: sessions revoked, or users whose role or status changed. */
export interface AccessInvalidation {
  sessions?: string[];
  users?: string[];
}

/**
 * How every process hears that cached access state is wrong (the contract and its guarantees
 * are documented on InvalidationChannel in src/platform/invalidation-channel.ts). A cache may
 * serve an entry only while `live()` holds and `generation()` is the one it was cached under.
 */
export type AccessChannel = InvalidationChannel<AccessInvalidation>;

function parse(raw: string): AccessInvalidation | null {
  try {
    const value = JSON.parse(raw) as AccessInvalidation;
    const ids = (list: unknown) => Array.isArray(list) && list.every((id) => typeof id === 'string');
    if ((value.sessions !== undefined && !ids(value.sessions)) || (value.users !== undefined && !ids(value.users))) return null;
    return value;
  } catch {
    return null;
  }
}

/** One process (no REDIS_URL): delivery is a function call, so the channel is always live. */
export function createLocalAccessChannel(): AccessChannel {
  return createLocalInvalidationChannel<AccessInvalidation>();
}

export interface RedisAccessChannelDeps extends RedisInvalidationChannelDeps {
  logger: Logger;
}

/**
 * Redis pub/sub on `<prefix>auth:access`. Live only while the subscriber is connected, subscribed
 * and answered a ping recently (a half-open TCP connection delivers nothing and reports nothing).
 * A publish that fails is applied here at once and retried until Redis takes it.
 */
export function createRedisAccessChannel(deps: RedisAccessChannelDeps): AccessChannel {
  return createRedisInvalidationChannel<AccessInvalidation>({
    ...deps,
    parse,
    connectionName: 'trade-backend:auth-access',
    messages: {
      down: 'Access cache channel is down: authentication reads the store until it is back',
      notConnected: 'Access cache channel could not connect yet',
      publishFailed: 'Could not publish an access invalidation; retrying',
    },
  });
}

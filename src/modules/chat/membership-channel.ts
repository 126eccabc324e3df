import {
  createLocalInvalidationChannel,
  createRedisInvalidationChannel,
  type InvalidationChannel,
  type RedisInvalidationChannelDeps,
} from '../../platform/invalidation-channel';

/** The pub/sub channel, under the deployment's key prefix. */
export const membershipChannelName = (keyPrefix: string) => `${keyPrefix}chat:membership`;

/** Conversations whose participant list changed (a member added, removed, or left). */
export interface MembershipInvalidation {
  conversations: string[];
}

/**
 * How every process hears that a cached participant list is wrong (the contract of
 * InvalidationChannel in src/platform/invalidation-channel.ts, shared with auth's access channel).
 * A cache may serve an entry only while `live()` holds and `generation()` is the one it was cached
 * under: a channel that went down may have lost messages, so everything cached before is
 * distrusted once it is back.
 */
export type MembershipChannel = InvalidationChannel<MembershipInvalidation>;

function parse(raw: string): MembershipInvalidation | null {
  try {
    const value = JSON.parse(raw) as MembershipInvalidation;
    if (!Array.isArray(value.conversations) || !value.conversations.every((id) => typeof id === 'string')) return null;
    return value;
  } catch {
    return null;
  }
}

/** One process (no REDIS_URL): delivery is a function call, so the channel is always live. */
export function createLocalMembershipChannel(): MembershipChannel {
  return createLocalInvalidationChannel<MembershipInvalidation>();
}

export type RedisMembershipChannelDeps = RedisInvalidationChannelDeps;

/**
 * Redis pub/sub on `<prefix>chat:membership`. Live only while the subscriber is connected,
 * subscribed and answered a ping recently (a half-open TCP connection delivers nothing and
 * reports nothing). A publish that fails is applied here at once and retried until Redis takes it.
 */
export function createRedisMembershipChannel(deps: RedisMembershipChannelDeps): MembershipChannel {
  return createRedisInvalidationChannel<MembershipInvalidation>({
    ...deps,
    parse,
    connectionName: 'trade-backend:chat-membership',
    messages: {
      down: 'Chat membership channel is down: sends read participants from the store until it is back',
      notConnected: 'Chat membership channel could not connect yet',
      publishFailed: 'Could not publish a chat membership invalidation; retrying',
    },
  });
}

/**
 * Per app context, what drops a conversation's cached participant lists on every process: the
 * chat module registers its membership cache's `invalidate` here, and chat's maintenance (started
 * apart from the module, on the same context) calls it when a repair pulls a participant.
 */
export const membershipInvalidators = new WeakMap<object, (conversationIds: string[]) => Promise<void>>();

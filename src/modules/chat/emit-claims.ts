import type { Redis } from 'ioredis';
import type { Collection } from 'mongodb';
import type { Types } from 'mongoose';
import { isDuplicateKey } from '../../platform/mongo';
import type { ChatModels, EmitDoc } from './chat.model';
import { emitDay } from './emits-sweep';

export interface EmitClaimsDeps {
  models: Pick<ChatModels, 'Emit'>;
  redis: Redis | null;
  keyPrefix: string;
  /** How long a claim is kept (CHAT_EMIT_RETENTION_HOURS): a retry later than this emits once more. */
  retentionMs: number;
  clock: () => Date;
}

/**
 * Who emits a stored message: the first caller to claim its id (the sender's process right after
 * the insert, or a retry that finds the message stored, on any process). With Redis the claim is a
 * `SET NX` with the retention as its expiry: one Redis command instead of a store insert on every
 * send. Without Redis, or while it does not answer, the claim is a document in `chat_message_emits`
 * (unique `_id`, swept by emits-sweep.ts). A claim taken in one place is not seen in the other, so a
 * retry that lands during a Redis outage may emit a message a second time: a duplicate live event
 * (clients apply messages by id), never a lost one.
 */
export function createEmitClaims({ models, redis, keyPrefix, retentionMs, clock }: EmitClaimsDeps) {
  const emits = models.Emit.collection as unknown as Collection<EmitDoc>;
  const keyOf = (messageId: Types.ObjectId) => `${keyPrefix}chat:emit:${messageId.toHexString()}`;

  async function claimInStore(messageId: Types.ObjectId): Promise<boolean> {
    try {
      const at = clock();
      await emits.insertOne({ _id: messageId, at, day: emitDay(at) });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  return {
    /** True for the one caller that is to emit the message. */
    async claim(messageId: Types.ObjectId): Promise<boolean> {
      if (redis && redis.status === 'ready') {
        try {
          return (await redis.set(keyOf(messageId), '1', 'PX', retentionMs, 'NX')) === 'OK';
        } catch {
          // Redis trouble must not stop chat: the store decides instead.
        }
      }
      return claimInStore(messageId);
    },
  };
}

export type EmitClaims = ReturnType<typeof createEmitClaims>;

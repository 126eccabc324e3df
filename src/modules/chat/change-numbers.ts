import type { Connection } from 'mongoose';
import { createBlockSequence, createSequenceAllocator } from '../../platform/sequences';
import type { ChatConfig } from './chat.config';

/** The counter chat's change numbers were claimed under one by one, before blocks; blocks continue above it. */
const SINGLE_CLAIM_COUNTER = 'chat:change';

/**
 * Chat's change numbers (what /sync pages by), claimed 64 at a time (platform/sequences.ts,
 * createBlockSequence): one store insert per block instead of one per message, receipt or
 * membership change. A block is used for at most a quarter of CHAT_SYNC_SETTLE_MS (500 ms by
 * default), so a change that takes a lower number than one already stored elsewhere is stored
 * well before /sync trusts the higher one; with a settle time of 0 every number comes from its
 * own block.
 */
export function createChangeNumbers(mongo: Connection, config: Pick<ChatConfig, 'syncSettleMs'>) {
  return createBlockSequence(mongo, createSequenceAllocator(mongo), SINGLE_CLAIM_COUNTER, {
    validMs: Math.floor(config.syncSettleMs / 4),
    continuesCounter: SINGLE_CLAIM_COUNTER,
  });
}

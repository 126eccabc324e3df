import type { RetryPolicy } from './types';

/**
 * The runner's time rules, as pure functions of their inputs (clock and randomness injected), so
 * they are tested without waiting. Both modes use them: BullMQ through a custom backoff strategy,
 * the in-process mode for its timers.
 */

/**
 * Delay before the next attempt after `attemptsMade` failed ones (1 = the first failure):
 * exponential from baseDelayMs, capped at maxDelayMs, then reduced by up to `jitter` of itself.
 */
export function backoffDelayMs(attemptsMade: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attemptsMade - 1, 40));
  const capped = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  const r = Math.min(1, Math.max(0, random()));
  return Math.max(0, Math.round(capped * (1 - jitter * r)));
}

export function retryAt(now: Date, attemptsMade: number, policy: RetryPolicy, random: () => number = Math.random): Date {
  return new Date(now.getTime() + backoffDelayMs(attemptsMade, policy, random));
}

/**
 * The first slot strictly after `now` on the grid of multiples of everyMs since the epoch. The
 * grid is what makes a slot the same on every process (and is how BullMQ's `every` aligns).
 */
export function nextDueAt(now: Date, everyMs: number): Date {
  if (!Number.isInteger(everyMs) || everyMs <= 0) throw new Error('everyMs must be a positive integer');
  return new Date((Math.floor(now.getTime() / everyMs) + 1) * everyMs);
}

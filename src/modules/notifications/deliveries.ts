import type { Model } from 'mongoose';
import type { Locks } from '../../platform/locks';
import type { LifecycleEvents } from './lifecycle-events';
import type { DeliveryDoc } from './notifications.model';
import type { DeliveryStatus } from './notifications.types';

/** How far along a delivery is. A status never moves back: a late "sent" does not undo "delivered". */
const RANK: Record<DeliveryStatus, number> = { queued: 0, delayed: 0, sent: 1, delivered: 2, failed: 2, suppressed: 2 };
export const isFinal = (status: DeliveryStatus) => RANK[status] === 2;
export const isPending = (status: DeliveryStatus) => RANK[status] === 0;

/** A running attempt holds its delivery this long; a crashed one is taken over after it. */
export const ATTEMPT_LEASE_MS = 2 * 60_000;

export interface DeliveryChange {
  status: DeliveryStatus;
  reason?: string | null;
  providerId?: string | null;
}

/**
 * Every write to a delivery is a read-modify-write under the delivery's lock (jobs, retries and
 * provider callbacks race on it, and FerretDB does not isolate updates).
 */
export function createDeliveryStore(deps: { deliveries: Model<DeliveryDoc>; locks: Locks; clock: () => Date; lifecycle: LifecycleEvents }) {
  const { deliveries, locks, clock } = deps;
  const lockKey = (id: string) => `notification-delivery:${id}`;

  async function apply(id: string, change: DeliveryChange): Promise<DeliveryDoc | null> {
    const applied = await locks.withLock(lockKey(id), async () => {
      const current = await deliveries.findById(id).lean();
      if (!current) return null;
      const now = clock();
      const $set: Record<string, unknown> = { updatedAt: now, leaseUntil: null };
      if (change.providerId) $set.providerId = change.providerId;
      const moves = !isFinal(current.status) && RANK[change.status] >= RANK[current.status] && change.status !== current.status;
      if (moves) {
        $set.status = change.status;
        $set.reason = change.reason ?? null;
      }
      const update: Record<string, unknown> = { $set };
      if (moves) update.$push = { history: { status: change.status, at: now, reason: change.reason ?? null } };
      await deliveries.updateOne({ _id: id }, update);
      const next = { ...current, ...(moves ? { status: change.status, reason: change.reason ?? null } : {}), providerId: change.providerId ?? current.providerId };
      return { next, delivered: moves && change.status === 'delivered' ? now : null };
    });
    if (!applied) return null;
    if (applied.delivered) deps.lifecycle.delivered(applied.next, applied.delivered);
    return applied.next;
  }

  return {
    apply,

    /**
     * Takes the delivery for one attempt: only a pending one, due at `now`, that no other attempt
     * holds. Returns it with the attempt counted, or null when there is nothing to do.
     */
    async claimAttempt(id: string): Promise<DeliveryDoc | null> {
      return locks.withLock(lockKey(id), async () => {
        const current = await deliveries.findById(id).lean();
        const now = clock();
        if (!current || !isPending(current.status)) return null;
        if (current.notBefore && current.notBefore.getTime() > now.getTime()) return null;
        const lease = current.leaseUntil;
        if (lease && lease.getTime() > now.getTime()) return null;
        const attempts = (current.attempts ?? 0) + 1;
        await deliveries.updateOne({ _id: id }, { $set: { attempts, leaseUntil: new Date(now.getTime() + ATTEMPT_LEASE_MS), updatedAt: now } });
        return { ...current, attempts };
      });
    },

    /** A failed attempt that will be retried: the delivery stays pending and says why. */
    async attemptFailed(id: string, reason: string): Promise<void> {
      await locks.withLock(lockKey(id), async () => {
        await deliveries.updateOne({ _id: id }, { $set: { reason, leaseUntil: null, updatedAt: clock() } });
      });
    },
  };
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;

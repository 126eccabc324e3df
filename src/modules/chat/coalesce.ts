/**
 * Forward-only updates of one key, merged while one is running: at most one runs per key in this
 * process, and callers that arrive meanwhile are folded into the next run, which applies only the
 * highest value. Each caller resolves once a run that covered its value has finished (or rejects
 * with that run's error). For derived state that only moves forward (a conversation's summary, a
 * member's positions), so a burst of n sends costs about two locked updates instead of n.
 */
export function createCoalescer<T extends { seq: number }>(apply: (key: string, value: T) => Promise<void>) {
  interface Pending {
    value: T;
    waiters: { resolve: () => void; reject: (err: unknown) => void }[];
  }
  const running = new Set<string>();
  const queued = new Map<string, Pending>();

  async function drain(key: string): Promise<void> {
    running.add(key);
    try {
      for (let next = queued.get(key); next; next = queued.get(key)) {
        queued.delete(key);
        try {
          await apply(key, next.value);
          for (const waiter of next.waiters) waiter.resolve();
        } catch (err) {
          for (const waiter of next.waiters) waiter.reject(err);
        }
      }
    } finally {
      running.delete(key);
    }
  }

  return (key: string, value: T): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const pending = queued.get(key);
      if (pending) {
        if (value.seq > pending.value.seq) pending.value = value;
        pending.waiters.push({ resolve, reject });
      } else {
        queued.set(key, { value, waiters: [{ resolve, reject }] });
      }
      if (!running.has(key)) void drain(key);
    });
}

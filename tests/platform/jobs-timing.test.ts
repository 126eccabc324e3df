import { backoffDelayMs, decodeJobId, encodeJobId, nextDueAt, retryAt, type RetryPolicy } from '../../src/platform/jobs';

const policy: RetryPolicy = { attempts: 8, baseDelayMs: 1_000, maxDelayMs: 30_000, jitter: 0.5 };

describe('job time rules, computed from an injected clock and randomness', () => {
  it('doubles the retry delay after each failure and caps it', () => {
    const none = () => 0;
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelayMs(attempt, policy, none))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
  });

  it('takes away at most the jitter share of a delay, so a burst of retries spreads out', () => {
    expect(backoffDelayMs(3, policy, () => 1)).toBe(2_000);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(3_000);
    expect(backoffDelayMs(3, { ...policy, jitter: 0 }, () => 0.9)).toBe(4_000);
  });

  it('places a retry that many milliseconds after the clock', () => {
    const now = new Date('2026-01-01T00:00:00.000Z');
    expect(retryAt(now, 2, policy, () => 0).toISOString()).toBe('2026-01-01T00:00:02.000Z');
  });

  it('puts a schedule on the grid of its interval, strictly after now, the same on every process', () => {
    expect(nextDueAt(new Date('2026-01-01T00:00:07.500Z'), 5_000).toISOString()).toBe('2026-01-01T00:00:10.000Z');
    // Exactly on a slot: that slot is taken, the next one is due.
    expect(nextDueAt(new Date('2026-01-01T00:00:10.000Z'), 5_000).toISOString()).toBe('2026-01-01T00:00:15.000Z');
    expect(nextDueAt(new Date('2026-01-01T00:09:59.000Z'), 600_000).toISOString()).toBe('2026-01-01T00:10:00.000Z');
    expect(() => nextDueAt(new Date(), 0)).toThrow();
  });

  it('turns business keys into BullMQ job ids and back without losing anything', () => {
    for (const key of ['payment:pay_1', 'a%3Ab', '%', '42', '%2342', 'offer:1:v2', 'plain-key']) {
      const id = encodeJobId(key);
      expect(id).not.toContain(':');
      expect(`${parseInt(id, 10)}`).not.toBe(id);
      expect(decodeJobId(id)).toBe(key);
    }
    expect(encodeJobId('42')).not.toBe(encodeJobId('%2342'));
  });
});

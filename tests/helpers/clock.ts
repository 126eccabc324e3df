/**
 * A clock a test moves by hand: time rules (grace periods, edit windows, expiry) are tested by
 * advancing it, never by sleeping. It runs with real time plus an offset that `advance` grows, so
 * it stays consistent with timestamps the store's layer writes on its own (Mongoose timestamps).
 */
export interface TestClock {
  (): Date;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offsetMs = 0;
  const clock = (() => new Date(Date.now() + offsetMs)) as TestClock;
  clock.advance = (ms) => {
    offsetMs += ms;
  };
  return clock;
}

/**
 * A clock a test moves by hand: time rules (grace periods, edit windows, expiry) are tested by
 * advancing it, never by sleeping. It starts at the real time so stored dates look ordinary.
 */
export interface TestClock {
  (): Date;
  advance(ms: number): void;
  set(date: Date): void;
}

export function testClock(start = new Date()): TestClock {
  let now = start.getTime();
  const clock = (() => new Date(now)) as TestClock;
  clock.advance = (ms) => {
    now += ms;
  };
  clock.set = (date) => {
    now = date.getTime();
  };
  return clock;
}

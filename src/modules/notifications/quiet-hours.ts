/**
 * Quiet hours: a daily window in the user's IANA time zone when nothing but critical
 * notifications leaves the app. Pure functions of an instant, so tests pass any clock.
 */
export interface QuietHours {
  enabled: boolean;
  /** HH:mm, local. A start after the end crosses midnight (22:00–07:00). */
  start: string;
  end: string;
}

const MINUTES_PER_DAY = 24 * 60;

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, found);
  }
  return found;
}

/** A zone Intl does not know is read as UTC rather than failing a notification. */
export function safeZone(timeZone: string): string {
  try {
    formatter(timeZone);
    return timeZone;
  } catch {
    return 'UTC';
  }
}

/** Minutes since local midnight of `at` in `timeZone`. */
export function localMinutes(at: Date, timeZone: string): number {
  const parts = formatter(safeZone(timeZone)).formatToParts(at);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

export function isQuiet(at: Date, timeZone: string, quiet: QuietHours): boolean {
  if (!quiet.enabled) return false;
  const start = toMinutes(quiet.start);
  const end = toMinutes(quiet.end);
  if (start === end) return false;
  const now = localMinutes(at, timeZone);
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/**
 * When the quiet window that contains `at` ends (the instant the local clock reads `end`), or
 * null when `at` is not quiet. Daylight-saving jumps are corrected by reading the local time of
 * the first guess back.
 */
export function quietUntil(at: Date, timeZone: string, quiet: QuietHours): Date | null {
  if (!isQuiet(at, timeZone, quiet)) return null;
  const end = toMinutes(quiet.end);
  const now = localMinutes(at, timeZone);
  const wait = (end - now + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  const minuteStart = Math.floor(at.getTime() / 60_000) * 60_000;
  let guess = new Date(minuteStart + wait * 60_000);
  const drift = ((end - localMinutes(guess, timeZone) + MINUTES_PER_DAY + MINUTES_PER_DAY / 2) % MINUTES_PER_DAY) - MINUTES_PER_DAY / 2;
  if (drift !== 0) guess = new Date(guess.getTime() + drift * 60_000);
  return guess.getTime() > at.getTime() ? guess : new Date(at.getTime() + 60_000);
}

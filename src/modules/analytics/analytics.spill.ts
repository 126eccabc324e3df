import type { Redis } from 'ioredis';
import type { AnalyticsRow } from './analytics.rows';

/**
 * The analytics writer's overflow: a Redis list shared by every process of the deployment,
 * bounded at `maxEvents`. Rows are appended at the tail; a drainer reads the head, inserts it
 * into PostgreSQL, and then removes exactly what it read (compare-and-trim in one script), so
 * several processes may drain the same list: at worst two insert the same rows, which the
 * events table's primary key makes harmless, and nothing is removed that was not stored.
 */
export interface AnalyticsSpill {
  /** Whether Redis answers commands now (the client does not queue them while it is away). */
  available(): boolean;
  /** Appends rows in order up to the bound; answers how many were stored and the list's length. */
  push(rows: AnalyticsRow[]): Promise<{ stored: number; length: number }>;
  /** The oldest `n` entries, left in place; `rows` are those that parse, `raw` is every entry read. */
  peek(n: number): Promise<{ rows: AnalyticsRow[]; raw: string[]; corrupt: number }>;
  /** Removes `raw` from the head if it is still the head (another drainer may have taken it). */
  remove(raw: string[]): Promise<{ removed: boolean; length: number }>;
  length(): Promise<number>;
}

// Appends as many of ARGV[2..] as fit under ARGV[1]; answers { stored, length }.
const PUSH = `
local room = tonumber(ARGV[1]) - redis.call('LLEN', KEYS[1])
local n = #ARGV - 1
if room < n then n = room end
if n > 0 then redis.call('RPUSH', KEYS[1], unpack(ARGV, 2, n + 1)) else n = 0 end
return { n, redis.call('LLEN', KEYS[1]) }`;

// Removes the first ARGV[1] entries only if the head still starts with ARGV[2] and ends with ARGV[3]
// (entries are unique: each carries its event id).
const REMOVE = `
local n = tonumber(ARGV[1])
if redis.call('LINDEX', KEYS[1], 0) == ARGV[2] and redis.call('LINDEX', KEYS[1], n - 1) == ARGV[3] then
  redis.call('LTRIM', KEYS[1], n, -1)
  return { 1, redis.call('LLEN', KEYS[1]) }
end
return { 0, redis.call('LLEN', KEYS[1]) }`;

/** Rows per script call: Lua's unpack has a stack limit, and one call should stay short. */
const CHUNK = 500;

export function serializeRow(row: AnalyticsRow): string {
  return JSON.stringify({ ...row, occurredAt: row.occurredAt.toISOString() });
}

export function parseRow(raw: string): AnalyticsRow | null {
  try {
    const value = JSON.parse(raw) as Record<string, unknown>;
    const occurredAt = new Date(String(value.occurredAt));
    if (typeof value.eventId !== 'string' || typeof value.name !== 'string' || Number.isNaN(occurredAt.getTime())) return null;
    return {
      eventId: value.eventId,
      name: value.name,
      occurredAt,
      userId: typeof value.userId === 'string' ? value.userId : null,
      entityId: typeof value.entityId === 'string' ? value.entityId : null,
      amount: typeof value.amount === 'number' ? value.amount : null,
      currency: typeof value.currency === 'string' ? value.currency : null,
      properties: value.properties && typeof value.properties === 'object' ? (value.properties as AnalyticsRow['properties']) : {},
    };
  } catch {
    return null;
  }
}

export function createRedisSpill(options: { redis: Redis; key: string; maxEvents: number }): AnalyticsSpill {
  const { redis, key, maxEvents } = options;
  const pair = (answer: unknown): [number, number] => {
    const [a, b] = answer as [number, number];
    return [Number(a), Number(b)];
  };
  return {
    available: () => redis.status === 'ready',

    async push(rows) {
      let stored = 0;
      let length = 0;
      for (let i = 0; i < rows.length; i += CHUNK) {
        const chunk = rows.slice(i, i + CHUNK).map(serializeRow);
        const [n, len] = pair(await redis.eval(PUSH, 1, key, maxEvents, ...chunk));
        stored += n;
        length = len;
        if (n < chunk.length) break; // full: the rest would not fit either
      }
      return { stored, length };
    },

    async peek(n) {
      const raw = await redis.lrange(key, 0, n - 1);
      const rows: AnalyticsRow[] = [];
      let corrupt = 0;
      for (const entry of raw) {
        const row = parseRow(entry);
        if (row) rows.push(row);
        else corrupt += 1;
      }
      return { rows, raw, corrupt };
    },

    async remove(raw) {
      if (raw.length === 0) return { removed: true, length: await redis.llen(key) };
      const [removed, length] = pair(await redis.eval(REMOVE, 1, key, raw.length, raw[0] as string, raw[raw.length - 1] as string));
      return { removed: removed === 1, length };
    },

    length: () => redis.llen(key),
  };
}

import type { Pool } from 'pg';

const DAY_MS = 86_400_000;

/** The UTC day (YYYY-MM-DD) of an instant. */
export const utcDay = (at: Date) => at.toISOString().slice(0, 10);

// One statement per day: the day's rows are replaced whole, under a lock per day, so concurrent or
// repeated runs (several processes, a recompute after late events) leave the same figures.
const ROLLUP_SQL = `
INSERT INTO analytics_daily (day, metric, dimension, value)
SELECT $1::date, 'events', name, count(*) FROM analytics_domain_events
  WHERE occurred_at >= $2 AND occurred_at < $3 GROUP BY name
UNION ALL
SELECT $1::date, 'active_users', '', count(DISTINCT user_id) FROM analytics_domain_events
  WHERE occurred_at >= $2 AND occurred_at < $3 AND user_id IS NOT NULL
UNION ALL
SELECT $1::date, 'mau', '', count(DISTINCT user_id) FROM analytics_domain_events
  WHERE occurred_at >= $4 AND occurred_at < $3 AND user_id IS NOT NULL
UNION ALL
SELECT $1::date, 'amount', name || ':' || currency, sum(amount)::bigint FROM analytics_domain_events
  WHERE occurred_at >= $2 AND occurred_at < $3 AND amount IS NOT NULL AND currency IS NOT NULL GROUP BY name, currency`;

export function createRollups(pool: Pool) {
  /** Recomputes one UTC day (idempotent); returns the rows written. */
  async function rollupDay(day: string): Promise<number> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`Not a day: ${day}`);
    const start = new Date(`${day}T00:00:00.000Z`);
    const end = new Date(start.getTime() + DAY_MS);
    const mauStart = new Date(end.getTime() - 30 * DAY_MS);
    const client = await pool.connect();
    // A connection cut while this client is checked out is reported as an 'error' event on it; with
    // no listener that would crash the process. The failing query below rejects and is handled.
    let broken = false;
    const ignore = () => {
      broken = true;
    };
    client.on('error', ignore);
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('analytics_rollup:' || $1))", [day]);
      await client.query('DELETE FROM analytics_daily WHERE day = $1::date', [day]);
      const result = await client.query(ROLLUP_SQL, [day, start.toISOString(), end.toISOString(), mauStart.toISOString()]);
      await client.query('COMMIT');
      return result.rowCount ?? 0;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', ignore);
      // A broken connection is destroyed rather than handed to the next caller.
      client.release(broken);
    }
  }

  return {
    rollupDay,
    /** Every day from `from` to `to` inclusive (UTC), oldest first. */
    async rollupRange(from: Date, to: Date): Promise<string[]> {
      const days: string[] = [];
      for (let t = Date.parse(`${utcDay(from)}T00:00:00.000Z`); t <= to.getTime(); t += DAY_MS) days.push(utcDay(new Date(t)));
      for (const day of days) await rollupDay(day);
      return days;
    },
  };
}

export type Rollups = ReturnType<typeof createRollups>;

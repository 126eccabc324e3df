import type { Pool } from 'pg';

export type Interval = 'day' | 'week' | 'month';
export interface Period {
  from: Date;
  to: Date;
}

export interface TimeseriesPoint {
  at: string;
  value: number;
}

export interface FunnelStep {
  step: 'offer_created' | 'offer_accepted' | 'order_delivered' | 'order_paid';
  count: number;
  /** Share of the previous step's offers that reached this one (1 for the first step; null when the previous step is empty). */
  conversion: number | null;
  /** Median seconds from the previous step (negative when this one came first, as a prepaid order's payment does). */
  medianSecondsFromPrevious: number | null;
}

export interface CohortRow {
  cohort: string;
  size: number;
  /** active[k]: users of the cohort with any event k weeks after the cohort's week began. */
  active: number[];
}

export interface TopVendor {
  vendorId: string;
  currency: string;
  value: number;
  orders: number;
}

export interface TopProduct {
  /** The offer item's sku, else its name, as stored. */
  product: string;
  sku: string | null;
  /** A name it was traded under (the smallest, for a stable answer). */
  name: string;
  unit: string;
  /** Units traded in orders created in the period (volumes in different units are ranked apart). */
  quantity: number;
  orders: number;
  vendors: number;
}

export interface AnalyticsKpis {
  from: string;
  to: string;
  /** Distinct users with any event in the period. */
  activeUsers: number;
  /** Distinct users in the last day and the last 30 days before `to`. */
  dau: number;
  mau: number;
  /** Events in the period by name. */
  counts: Record<string, number>;
  /** Money in the period by event name, per currency (minor units). */
  amounts: Array<{ event: string; currency: string; amount: number }>;
}

const DAY_MS = 86_400_000;

/** The start of the UTC bucket holding `at` (weeks start on Monday, as PostgreSQL's date_trunc). */
export function bucketStart(at: Date, interval: Interval): Date {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  if (interval === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  if (interval === 'month') d.setUTCDate(1);
  return d;
}

function nextBucket(at: Date, interval: Interval): Date {
  const d = new Date(at);
  if (interval === 'day') d.setUTCDate(d.getUTCDate() + 1);
  else if (interval === 'week') d.setUTCDate(d.getUTCDate() + 7);
  else d.setUTCMonth(d.getUTCMonth() + 1);
  return d;
}

// Buckets come back as 'YYYY-MM-DD' text: a timestamp without time zone would be read in the process's zone.
function fill(period: Period, interval: Interval, rows: Array<{ bucket: string; value: string | number }>): TimeseriesPoint[] {
  const byBucket = new Map(rows.map((row) => [row.bucket, Number(row.value)]));
  const points: TimeseriesPoint[] = [];
  for (let b = bucketStart(period.from, interval); b < period.to; b = nextBucket(b, interval)) {
    const key = b.toISOString().slice(0, 10);
    points.push({ at: b.toISOString(), value: byBucket.get(key) ?? 0 });
  }
  return points;
}

const FUNNEL_SQL = `
WITH created AS (
  SELECT properties->>'offerId' AS offer_id, min(occurred_at) AS t FROM analytics_domain_events
  WHERE name = 'offer.created' AND occurred_at >= $1 AND occurred_at < $2 AND properties ? 'offerId' GROUP BY 1),
accepted AS (
  SELECT c.offer_id, min(e.occurred_at) AS t, min(e.properties->>'orderId') AS order_id
  FROM created c JOIN analytics_domain_events e ON e.name = 'offer.accepted' AND e.properties->>'offerId' = c.offer_id
  GROUP BY c.offer_id),
delivered AS (
  SELECT a.offer_id, min(e.occurred_at) AS t
  FROM accepted a JOIN analytics_domain_events e
    ON e.name = 'order.status_changed' AND e.properties->>'orderId' = a.order_id AND e.properties->>'to' = 'delivered'
  GROUP BY a.offer_id),
paid AS (
  SELECT d.offer_id, min(e.occurred_at) AS t
  FROM delivered d JOIN accepted a USING (offer_id)
  JOIN analytics_domain_events e ON e.name = 'payment.succeeded' AND e.properties->>'orderId' = a.order_id
  GROUP BY d.offer_id)
SELECT 1 AS i, (SELECT count(*) FROM created)::int AS n, NULL::float8 AS median
UNION ALL SELECT 2, count(*)::int, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.t - c.t)) FROM accepted a JOIN created c USING (offer_id)
UNION ALL SELECT 3, count(*)::int, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.t - a.t)) FROM delivered d JOIN accepted a USING (offer_id)
UNION ALL SELECT 4, count(*)::int, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM p.t - d.t)) FROM paid p JOIN delivered d USING (offer_id)
ORDER BY i`;

const STEPS: FunnelStep['step'][] = ['offer_created', 'offer_accepted', 'order_delivered', 'order_paid'];

/** The dashboard's reads, in SQL over the events table and the daily rollups. */
export function createAnalyticsQueries(pool: Pool) {
  return {
    /** `metric` is an event name (counts from the daily rollups) or `active_users` (distinct users per bucket, from the events). */
    async timeseries(metric: string, period: Period, interval: Interval): Promise<TimeseriesPoint[]> {
      if (metric === 'active_users') {
        const { rows } = await pool.query<{ bucket: string; value: string }>(
          `SELECT to_char(date_trunc($3, occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS bucket, count(DISTINCT user_id) AS value
           FROM analytics_domain_events WHERE occurred_at >= $1 AND occurred_at < $2 AND user_id IS NOT NULL GROUP BY 1`,
          [period.from.toISOString(), period.to.toISOString(), interval],
        );
        return fill(period, interval, rows);
      }
      const { rows } = await pool.query<{ bucket: string; value: string }>(
        `SELECT to_char(date_trunc($3, day::timestamp), 'YYYY-MM-DD') AS bucket, sum(value) AS value FROM analytics_daily
         WHERE metric = 'events' AND dimension = $4 AND day >= ($1::timestamptz AT TIME ZONE 'UTC')::date AND day < ($2::timestamptz AT TIME ZONE 'UTC')::date
         GROUP BY 1`,
        [period.from.toISOString(), period.to.toISOString(), interval, metric],
      );
      return fill(period, interval, rows);
    },

    /** Offers created in the period, followed through acceptance, delivery of their order, and its payment. */
    async funnel(period: Period): Promise<FunnelStep[]> {
      const { rows } = await pool.query<{ i: number; n: number; median: number | null }>(FUNNEL_SQL, [period.from.toISOString(), period.to.toISOString()]);
      return rows.map((row, index) => {
        const previous = index === 0 ? null : (rows[index - 1] as { n: number }).n;
        return {
          step: STEPS[index] as FunnelStep['step'],
          count: row.n,
          conversion: index === 0 ? 1 : previous ? Math.round((row.n / previous) * 10_000) / 10_000 : null,
          medianSecondsFromPrevious: row.median === null ? null : Math.round(Number(row.median)),
        };
      });
    },

    /** Weekly signup cohorts of the period and how many of each were active in each following week. */
    async cohorts(period: Period, weeks: number): Promise<CohortRow[]> {
      const { rows } = await pool.query<{ cohort: string; week: number; n: number }>(
        `WITH signups AS (
           SELECT user_id, date_trunc('week', min(occurred_at) AT TIME ZONE 'UTC') AS cohort FROM analytics_domain_events
           WHERE name = 'user.registered' AND user_id IS NOT NULL AND occurred_at >= $1 AND occurred_at < $2 GROUP BY user_id),
         activity AS (
           SELECT DISTINCT e.user_id, s.cohort, floor(extract(epoch FROM (e.occurred_at AT TIME ZONE 'UTC') - s.cohort) / 604800)::int AS week
           FROM analytics_domain_events e JOIN signups s USING (user_id)
           WHERE e.name <> 'user.registered' AND e.occurred_at >= $1 AND e.occurred_at < ($2::timestamptz + make_interval(weeks => $3::int)))
         SELECT to_char(cohort, 'YYYY-MM-DD') AS cohort, -1 AS week, count(*)::int AS n FROM signups GROUP BY cohort
         UNION ALL
         SELECT to_char(cohort, 'YYYY-MM-DD'), week, count(*)::int FROM activity WHERE week >= 0 AND week < $3::int GROUP BY cohort, week
         ORDER BY 1, 2`,
        [period.from.toISOString(), period.to.toISOString(), weeks],
      );
      const byCohort = new Map<string, CohortRow>();
      for (const row of rows) {
        const key = `${row.cohort}T00:00:00.000Z`;
        const entry = byCohort.get(key) ?? { cohort: key, size: 0, active: Array.from({ length: weeks }, () => 0) };
        if (row.week === -1) entry.size = row.n;
        else entry.active[row.week] = row.n;
        byCohort.set(key, entry);
      }
      return [...byCohort.values()];
    },

    /** Vendors by the value of orders created in the period, per currency. */
    async topVendors(period: Period, limit: number): Promise<TopVendor[]> {
      const { rows } = await pool.query<{ vendor_id: string; currency: string; value: string; orders: number }>(
        `SELECT properties->>'vendorId' AS vendor_id, currency, sum(amount) AS value, count(*)::int AS orders
         FROM analytics_domain_events WHERE name = 'order.created' AND occurred_at >= $1 AND occurred_at < $2
           AND amount IS NOT NULL AND properties ? 'vendorId'
         GROUP BY 1, 2 ORDER BY sum(amount) DESC, 1 LIMIT $3`,
        [period.from.toISOString(), period.to.toISOString(), limit],
      );
      return rows.map((row) => ({ vendorId: row.vendor_id, currency: row.currency, value: Number(row.value), orders: row.orders }));
    },

    /** Products by the quantity in orders created in the period, per product and unit. */
    async topProducts(period: Period, limit: number): Promise<TopProduct[]> {
      const { rows } = await pool.query<{ product: string; sku: string | null; name: string; unit: string; quantity: string; orders: number; vendors: number }>(
        `SELECT properties->>'product' AS product, min(properties->>'sku') AS sku, min(properties->>'productName') AS name, properties->>'unit' AS unit,
                sum((properties->>'quantity')::numeric) AS quantity, count(DISTINCT entity_id)::int AS orders, count(DISTINCT properties->>'vendorId')::int AS vendors
         FROM analytics_domain_events WHERE name = 'order.line' AND occurred_at >= $1 AND occurred_at < $2 AND properties ? 'product'
         GROUP BY 1, 4 ORDER BY sum((properties->>'quantity')::numeric) DESC, 1, 4 LIMIT $3`,
        [period.from.toISOString(), period.to.toISOString(), limit],
      );
      return rows.map((row) => ({ product: row.product, sku: row.sku, name: row.name, unit: row.unit, quantity: Number(row.quantity), orders: row.orders, vendors: row.vendors }));
    },

    async kpis(period: Period): Promise<AnalyticsKpis> {
      const args = [period.from.toISOString(), period.to.toISOString()];
      const [counts, amounts, users] = await Promise.all([
        pool.query<{ name: string; n: number }>(
          'SELECT name, count(*)::int AS n FROM analytics_domain_events WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY name',
          args,
        ),
        pool.query<{ name: string; currency: string; amount: string }>(
          `SELECT name, currency, sum(amount) AS amount FROM analytics_domain_events
           WHERE occurred_at >= $1 AND occurred_at < $2 AND amount IS NOT NULL AND currency IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
          args,
        ),
        pool.query<{ active: number; dau: number; mau: number }>(
          `SELECT
             (SELECT count(DISTINCT user_id) FROM analytics_domain_events WHERE occurred_at >= $1 AND occurred_at < $2 AND user_id IS NOT NULL)::int AS active,
             (SELECT count(DISTINCT user_id) FROM analytics_domain_events WHERE occurred_at >= $3 AND occurred_at < $2 AND user_id IS NOT NULL)::int AS dau,
             (SELECT count(DISTINCT user_id) FROM analytics_domain_events WHERE occurred_at >= $4 AND occurred_at < $2 AND user_id IS NOT NULL)::int AS mau`,
          [...args, new Date(period.to.getTime() - DAY_MS).toISOString(), new Date(period.to.getTime() - 30 * DAY_MS).toISOString()],
        ),
      ]);
      const row = users.rows[0] ?? { active: 0, dau: 0, mau: 0 };
      return {
        from: period.from.toISOString(),
        to: period.to.toISOString(),
        activeUsers: row.active,
        dau: row.dau,
        mau: row.mau,
        counts: Object.fromEntries(counts.rows.map((r) => [r.name, r.n])),
        amounts: amounts.rows.map((r) => ({ event: r.name, currency: r.currency, amount: Number(r.amount) })),
      };
    },

    /** A user's latest events (the admin's view of an account). */
    async recentForUser(userId: string, limit: number): Promise<Array<{ name: string; at: string; entityId: string | null }>> {
      const { rows } = await pool.query<{ name: string; occurred_at: Date; entity_id: string | null }>(
        'SELECT name, occurred_at, entity_id FROM analytics_domain_events WHERE user_id = $1 ORDER BY occurred_at DESC LIMIT $2',
        [userId, limit],
      );
      return rows.map((r) => ({ name: r.name, at: new Date(r.occurred_at).toISOString(), entityId: r.entity_id }));
    },
  };
}

export type AnalyticsQueries = ReturnType<typeof createAnalyticsQueries>;

-- Domain events recorded by the analytics module (src/modules/analytics): one row per event, ids
-- only (no names, emails, IPs or free text), partitioned by month so old months can be detached or
-- dropped whole. event_id is made by the writer, so a batch retried after a timeout that had in
-- fact committed inserts nothing twice (ON CONFLICT DO NOTHING on the primary key).
CREATE TABLE analytics_domain_events (
  event_id    uuid        NOT NULL,
  name        text        NOT NULL,
  occurred_at timestamptz NOT NULL,
  user_id     text,
  entity_id   text,
  amount      bigint,
  currency    text,
  properties  jsonb       NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);

-- Catches a row whose month partition could not be made; it stays queryable there.
CREATE TABLE analytics_domain_events_default PARTITION OF analytics_domain_events DEFAULT;

CREATE INDEX analytics_domain_events_name_time ON analytics_domain_events (name, occurred_at);
CREATE INDEX analytics_domain_events_user_time ON analytics_domain_events (user_id, occurred_at) WHERE user_id IS NOT NULL;
CREATE INDEX analytics_domain_events_offer ON analytics_domain_events ((properties->>'offerId'));
CREATE INDEX analytics_domain_events_order ON analytics_domain_events ((properties->>'orderId'));

-- Makes the month partition holding `at` unless it exists. Several processes may call it at once:
-- the advisory lock orders them and the second finds the table. If the default partition already
-- holds rows of that month the CREATE fails; the rows stay in the default partition (a warning).
CREATE FUNCTION analytics_ensure_month(at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  start_at date := date_trunc('month', at AT TIME ZONE 'UTC')::date;
  part text := format('analytics_domain_events_%s', to_char(start_at, 'YYYY_MM'));
BEGIN
  IF to_regclass(part) IS NOT NULL THEN RETURN; END IF;
  PERFORM pg_advisory_xact_lock(727002);
  IF to_regclass(part) IS NOT NULL THEN RETURN; END IF;
  EXECUTE format(
    'CREATE TABLE %I PARTITION OF analytics_domain_events FOR VALUES FROM (%L) TO (%L)',
    part,
    (start_at::timestamp AT TIME ZONE 'UTC'),
    ((start_at + interval '1 month')::timestamp AT TIME ZONE 'UTC')
  );
EXCEPTION WHEN others THEN
  RAISE WARNING 'analytics partition % not created: %', part, SQLERRM;
END
$$;

SELECT analytics_ensure_month(now());
SELECT analytics_ensure_month(now() + interval '1 month');

-- Daily rollups: one row per (UTC day, metric, dimension), recomputed whole for a day, so running a
-- rollup twice, or again after late events, gives the same figures.
--   events        dimension = event name, value = count
--   active_users  dimension = '', distinct users with any event that day
--   mau           dimension = '', distinct users in the 30 days ending that day
--   amount        dimension = '<event name>:<currency>', sum of minor units
CREATE TABLE analytics_daily (
  day         date        NOT NULL,
  metric      text        NOT NULL,
  dimension   text        NOT NULL DEFAULT '',
  value       bigint      NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (day, metric, dimension)
);
CREATE INDEX analytics_daily_metric_day ON analytics_daily (metric, dimension, day);

-- Raw analytics events, appended by the app; rollups and reports are built from this table.
CREATE TABLE analytics_events (
  id          bigserial PRIMARY KEY,
  name        text        NOT NULL,
  user_id     text,
  properties  jsonb       NOT NULL DEFAULT '{}'::jsonb,
  occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX analytics_events_name_time ON analytics_events (name, occurred_at);
CREATE INDEX analytics_events_user_time ON analytics_events (user_id, occurred_at);

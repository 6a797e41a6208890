-- Execution (issue 9): what a closed trade needs to be explained later, what pattern learning keeps per coin and
-- range, the refusals the execution actor stores, and the execution state (paper broker, risk state) that a
-- restart resumes from. Runs everywhere (PostgreSQL, PGlite, TimescaleDB).

ALTER TABLE trades
  ADD COLUMN signal_id          text,
  ADD COLUMN fees_usd           double precision CHECK (fees_usd >= 0),
  ADD COLUMN leverage           double precision CHECK (leverage >= 1),
  ADD COLUMN liquidation_range  text,
  ADD COLUMN liquidation_source text,
  ADD COLUMN target_cluster_usd double precision;
CREATE INDEX trades_signal ON trades (signal_id);

ALTER TABLE coin_liquidation_patterns
  ADD COLUMN avg_cluster_usd     double precision,
  ADD COLUMN typical_cluster_usd double precision,
  ADD COLUMN min_cluster_usd     double precision;

CREATE TABLE execution_refusals (
  ts         timestamptz NOT NULL,
  signal_id  text NOT NULL,
  symbol     text NOT NULL,
  reason     text NOT NULL,
  message    text NOT NULL,
  PRIMARY KEY (signal_id, reason, ts)
);
CREATE INDEX execution_refusals_reason_time ON execution_refusals (reason, ts DESC);

-- One JSON document per component ('paper-broker', 'risk', 'execution'), newest wins.
CREATE TABLE execution_state (
  name        text PRIMARY KEY,
  state       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL
);

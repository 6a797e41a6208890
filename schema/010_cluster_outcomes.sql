-- Cluster outcomes (issue 12): what became of every significant cluster the engine followed. A cluster is *hit*
-- when the price reached its centre within its range's horizon (12 h for 12h, 7 days for 7d, …) and *expired*
-- otherwise. Runs everywhere (PostgreSQL, PGlite, TimescaleDB).
--
-- A table of its own rather than hit_at/expired_at columns on liquidation_clusters: that table is a compressed
-- hypertable on TimescaleDB, and an outcome arrives hours to a month after the row was written, when its chunk
-- is usually compressed already; updating compressed chunks decompresses them and races the compression job.
-- Here a row is written once, when the outcome is known, keyed by the cluster's natural key in
-- liquidation_clusters (its first detection), so the two join on (symbol, range, source, side, price_low,
-- detected_at). One row per distinct cluster (re-detections of a cluster still followed are not new clusters),
-- so the table stays small and is a plain table, not a hypertable.

CREATE TABLE cluster_outcomes (
  detected_at   timestamptz NOT NULL,
  symbol        text NOT NULL,
  range         text NOT NULL,
  source        text NOT NULL,
  side          text NOT NULL CHECK (side IN ('long', 'short')),
  price_low     double precision NOT NULL,
  price_high    double precision NOT NULL,
  center_price  double precision NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('hit', 'expired')),
  hit_at        timestamptz,
  expired_at    timestamptz,
  resolved_at   timestamptz NOT NULL,
  PRIMARY KEY (symbol, range, source, side, price_low, detected_at),
  CHECK (price_low <= price_high),
  CHECK ((outcome = 'hit') = (hit_at IS NOT NULL) AND (outcome = 'expired') = (expired_at IS NOT NULL))
);
CREATE INDEX cluster_outcomes_symbol_time ON cluster_outcomes (symbol, resolved_at DESC);

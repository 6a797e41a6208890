-- Liquidation intelligence, second pass (issue 11).
--
-- coin_thresholds.override_usd: an operator's per-coin significance floor. The daemon writes the other columns
-- (the threshold it uses and where it came from) and never touches this one; it reads it at start and every
-- few minutes. The environment's THRESHOLD_OVERRIDES_USD wins over it.
ALTER TABLE coin_thresholds ADD COLUMN override_usd double precision CHECK (override_usd IS NULL OR override_usd > 0);

-- Learned typical cluster size per coin, range and source (coinglass | estimate), so a restart keeps it.
CREATE TABLE coin_typical_cluster_sizes (
  coin              text NOT NULL,
  range             text NOT NULL,
  source            text NOT NULL,
  typical_usd       double precision NOT NULL CHECK (typical_usd > 0),
  samples           integer NOT NULL CHECK (samples >= 0),
  last_observed_at  timestamptz NOT NULL,
  PRIMARY KEY (coin, range, source)
);

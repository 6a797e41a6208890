-- whalestack:requires timescaledb
-- whalestack:no-transaction
-- whalestack:feature continuous aggregate market_bars_1h (hourly bars for dashboards)
--
-- A continuous aggregate cannot be created inside a transaction block, so the migrator runs these statements
-- one by one; each is idempotent (IF NOT EXISTS / if_not_exists) so a run interrupted halfway can be repeated.
-- first()/last() are TimescaleDB aggregates ordered by the time column.

CREATE MATERIALIZED VIEW IF NOT EXISTS market_bars_1h
WITH (timescaledb.continuous) AS
SELECT
  symbol,
  time_bucket(INTERVAL '1 hour', ts) AS bucket,
  first(open, ts) AS open,
  max(high) AS high,
  min(low) AS low,
  last(close, ts) AS close,
  sum(buy_volume_qty) AS buy_volume_qty,
  sum(sell_volume_qty) AS sell_volume_qty,
  sum(buy_turnover_usd) AS buy_turnover_usd,
  sum(sell_turnover_usd) AS sell_turnover_usd,
  sum(trade_count) AS trade_count,
  last(open_interest, ts) AS open_interest,
  last(open_interest_usd, ts) AS open_interest_usd,
  last(funding_rate, ts) AS funding_rate
FROM market_bars_1m
GROUP BY symbol, time_bucket(INTERVAL '1 hour', ts)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('market_bars_1h', start_offset => INTERVAL '3 hours', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes', if_not_exists => TRUE);

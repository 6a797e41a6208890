-- whalestack:requires timescaledb
-- whalestack:feature history hypertables (klines, open interest), compressed after {{compress_after}}, kept {{retention_bars}}
--
-- The history tables of 008 as hypertables. Monthly chunks: a year of hourly bars for 500 coins is 4.4M rows, a
-- month of minute bars 21.6M; a backfill writes old time ranges, so chunks are large and few. Segment by symbol
-- and interval and order by time, so every key column is in segmentby or orderby.

SELECT create_hypertable('history_klines', by_range('ts', INTERVAL '30 days'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('history_open_interest', by_range('ts', INTERVAL '30 days'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);

ALTER TABLE history_klines SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol, interval', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE history_open_interest SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol, interval', timescaledb.compress_orderby = 'ts DESC');

SELECT add_compression_policy('history_klines', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_compression_policy('history_open_interest', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_retention_policy('history_klines', drop_after => INTERVAL '{{retention_bars}}', if_not_exists => TRUE);
SELECT add_retention_policy('history_open_interest', drop_after => INTERVAL '{{retention_bars}}', if_not_exists => TRUE);

-- whalestack:requires timescaledb
-- whalestack:feature hypertables on the time-series tables (chunk interval {{chunk_interval}})
--
-- Generalized hypertable API (TimescaleDB >= 2.13): create_hypertable(relation, by_range(column, interval)).
-- migrate_data moves rows written before TimescaleDB was installed; if_not_exists makes a re-run harmless.
-- Default indexes are off because 001 already created (time DESC) indexes.

CREATE EXTENSION IF NOT EXISTS timescaledb;

SELECT create_hypertable('liquidation_data_raw', by_range('fetched_at', INTERVAL '{{chunk_interval}}'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('liquidation_clusters', by_range('detected_at', INTERVAL '{{chunk_interval}}'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('oi_volume_spikes', by_range('ts', INTERVAL '{{chunk_interval}}'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('fast_price_movers', by_range('ts', INTERVAL '{{chunk_interval}}'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('coin_rankings', by_range('ranked_at', INTERVAL '{{chunk_interval}}'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('position_monitor_logs', by_range('ts', INTERVAL '{{chunk_interval}}'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('agent_logs', by_range('ts', INTERVAL '{{chunk_interval}}'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('signals', by_range('ts', INTERVAL '{{chunk_interval}}'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('market_bars_1m', by_range('ts', INTERVAL '{{chunk_interval}}'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('liquidations', by_range('ts', INTERVAL '{{chunk_interval}}'), create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE);

-- whalestack:requires timescaledb
-- whalestack:feature compression after {{compress_after}}; retention: snapshots {{retention_snapshots}}, events {{retention_events}}, bars {{retention_bars}}
--
-- Segment by the columns queries filter on (symbol first) and order by time, keeping every primary-key column
-- in segmentby or orderby so uniqueness stays cheap to check on compressed chunks. Audit tables (signals,
-- agent_logs, position_monitor_logs) are compressed but never dropped.

ALTER TABLE liquidation_data_raw SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol, range, source', timescaledb.compress_orderby = 'fetched_at DESC');
ALTER TABLE liquidation_clusters SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol, range, source, side', timescaledb.compress_orderby = 'detected_at DESC, price_low');
ALTER TABLE oi_volume_spikes SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol, kind', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE fast_price_movers SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE coin_rankings SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = 'ranked_at DESC');
ALTER TABLE position_monitor_logs SET (timescaledb.compress, timescaledb.compress_segmentby = 'trade_id', timescaledb.compress_orderby = 'ts DESC, action');
ALTER TABLE agent_logs SET (timescaledb.compress, timescaledb.compress_segmentby = 'agent_name', timescaledb.compress_orderby = 'ts DESC, event_id');
ALTER TABLE signals SET (timescaledb.compress, timescaledb.compress_segmentby = 'signal_id', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE market_bars_1m SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE liquidations SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = 'ts DESC, seq, side, price, qty');

SELECT add_compression_policy('liquidation_data_raw', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_compression_policy('liquidation_clusters', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_compression_policy('oi_volume_spikes', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_compression_policy('fast_price_movers', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_compression_policy('coin_rankings', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_compression_policy('position_monitor_logs', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_compression_policy('agent_logs', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_compression_policy('signals', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_compression_policy('market_bars_1m', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);
SELECT add_compression_policy('liquidations', compress_after => INTERVAL '{{compress_after}}', if_not_exists => TRUE);

SELECT add_retention_policy('liquidation_data_raw', drop_after => INTERVAL '{{retention_snapshots}}', if_not_exists => TRUE);
SELECT add_retention_policy('liquidation_clusters', drop_after => INTERVAL '{{retention_snapshots}}', if_not_exists => TRUE);
SELECT add_retention_policy('oi_volume_spikes', drop_after => INTERVAL '{{retention_events}}', if_not_exists => TRUE);
SELECT add_retention_policy('fast_price_movers', drop_after => INTERVAL '{{retention_events}}', if_not_exists => TRUE);
SELECT add_retention_policy('coin_rankings', drop_after => INTERVAL '{{retention_events}}', if_not_exists => TRUE);
SELECT add_retention_policy('liquidations', drop_after => INTERVAL '{{retention_events}}', if_not_exists => TRUE);
SELECT add_retention_policy('market_bars_1m', drop_after => INTERVAL '{{retention_bars}}', if_not_exists => TRUE);

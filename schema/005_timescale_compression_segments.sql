-- whalestack:requires timescaledb
-- whalestack:feature compression segments sized for the queries (signals and spikes by symbol, rankings by time)
--
-- TimescaleDB compresses each segmentby value of a chunk into its own batches of up to 1000 rows, so a
-- segmentby column needs many rows per value per chunk. 003 segmented signals by signal_id (unique: one row per
-- segment, no compression at all), spikes by (symbol, kind) (kind is a combination of reasons: tiny segments)
-- and rankings by symbol (only the top 10 are stored, so most symbols have a handful of rows a day). Signals and
-- spikes are read per symbol over time; rankings per ranking round (the latest, or one instant), in rank order.
-- Every key column stays in segmentby or orderby. New settings apply to chunks compressed from now on.

ALTER TABLE signals SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = 'ts DESC, signal_id');
ALTER TABLE oi_volume_spikes SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = 'ts DESC, kind');
ALTER TABLE coin_rankings SET (timescaledb.compress, timescaledb.compress_segmentby = '', timescaledb.compress_orderby = 'ranked_at DESC, rank, symbol');

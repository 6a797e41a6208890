-- whalestack:feature core tables, natural keys and indexes (plain PostgreSQL, PGlite and TimescaleDB)
--
-- Every table has a natural key so a batch retried after an ambiguous failure is a no-op. Tables that
-- TimescaleDB turns into hypertables (002) carry their time column in the primary key, as it requires.

CREATE TABLE liquidation_data_raw (
  fetched_at    timestamptz NOT NULL,
  symbol        text NOT NULL,
  range         text NOT NULL,
  source        text NOT NULL,
  ref_price     double precision NOT NULL CHECK (ref_price > 0),
  level_prices  double precision[] NOT NULL,
  level_usd     double precision[] NOT NULL,
  level_sides   text[] NOT NULL,
  PRIMARY KEY (symbol, range, source, fetched_at),
  CHECK (cardinality(level_prices) = cardinality(level_usd) AND cardinality(level_usd) = cardinality(level_sides))
);
CREATE INDEX liquidation_data_raw_range_time ON liquidation_data_raw (range, fetched_at DESC);
CREATE INDEX liquidation_data_raw_time ON liquidation_data_raw (fetched_at DESC);

CREATE TABLE liquidation_clusters (
  detected_at   timestamptz NOT NULL,
  symbol        text NOT NULL,
  range         text NOT NULL,
  source        text NOT NULL,
  side          text NOT NULL CHECK (side IN ('long', 'short')),
  price_low     double precision NOT NULL,
  price_high    double precision NOT NULL,
  center_price  double precision NOT NULL,
  total_usd     double precision NOT NULL CHECK (total_usd >= 0),
  level_count   integer NOT NULL CHECK (level_count >= 0),
  ref_price     double precision NOT NULL,
  distance_pct  double precision NOT NULL,
  significant   boolean NOT NULL,
  PRIMARY KEY (symbol, range, source, side, price_low, detected_at),
  CHECK (price_low <= price_high)
);
CREATE INDEX liquidation_clusters_range_time ON liquidation_clusters (range, detected_at DESC);
CREATE INDEX liquidation_clusters_time ON liquidation_clusters (detected_at DESC);

CREATE TABLE oi_volume_spikes (
  ts                   timestamptz NOT NULL,
  symbol               text NOT NULL,
  kind                 text NOT NULL,
  price                double precision NOT NULL,
  oi_change_pct_15m    double precision,
  volume_ratio_5m      double precision,
  price_change_pct_1m  double precision,
  price_change_pct_5m  double precision,
  direction            text NOT NULL CHECK (direction IN ('up', 'down')),
  PRIMARY KEY (symbol, kind, ts)
);
CREATE INDEX oi_volume_spikes_time ON oi_volume_spikes (ts DESC);

CREATE TABLE fast_price_movers (
  ts                   timestamptz NOT NULL,
  symbol               text NOT NULL,
  price                double precision NOT NULL,
  price_change_pct_1m  double precision,
  price_change_pct_5m  double precision,
  direction            text NOT NULL CHECK (direction IN ('up', 'down')),
  PRIMARY KEY (symbol, ts)
);
CREATE INDEX fast_price_movers_time ON fast_price_movers (ts DESC);

CREATE TABLE coin_thresholds (
  symbol          text PRIMARY KEY,
  threshold_usd   double precision NOT NULL CHECK (threshold_usd > 0),
  source          text NOT NULL,
  market_cap_usd  double precision,
  updated_at      timestamptz NOT NULL
);

CREATE TABLE coin_liquidation_patterns (
  symbol                  text NOT NULL,
  range                   text NOT NULL,
  success_count           integer NOT NULL CHECK (success_count >= 0),
  failure_count           integer NOT NULL CHECK (failure_count >= 0),
  success_rate            double precision NOT NULL CHECK (success_rate BETWEEN 0 AND 1),
  failure_rate            double precision NOT NULL CHECK (failure_rate BETWEEN 0 AND 1),
  avg_time_to_target_sec  double precision,
  updated_at              timestamptz NOT NULL,
  PRIMARY KEY (symbol, range)
);
CREATE INDEX coin_liquidation_patterns_range ON coin_liquidation_patterns (range);

CREATE TABLE coin_rankings (
  ranked_at         timestamptz NOT NULL,
  symbol            text NOT NULL,
  rank              integer NOT NULL CHECK (rank >= 1),
  score             double precision NOT NULL,
  imbalance         double precision NOT NULL CHECK (imbalance BETWEEN 0 AND 1),
  cluster_size_pct  double precision NOT NULL,
  success_rate      double precision NOT NULL,
  direction         text NOT NULL CHECK (direction IN ('long', 'short')),
  armed             boolean NOT NULL,
  PRIMARY KEY (symbol, ranked_at)
);
CREATE INDEX coin_rankings_time_rank ON coin_rankings (ranked_at DESC, rank);

CREATE TABLE trades (
  trade_id           text PRIMARY KEY,
  agent_name         text NOT NULL,
  symbol             text NOT NULL,
  side               text NOT NULL CHECK (side IN ('long', 'short')),
  entry_price        double precision NOT NULL CHECK (entry_price > 0),
  exit_price         double precision,
  stop_loss_price    double precision NOT NULL CHECK (stop_loss_price > 0),
  take_profit_price  double precision NOT NULL CHECK (take_profit_price > 0),
  size_qty           double precision NOT NULL CHECK (size_qty > 0),
  size_usd           double precision NOT NULL CHECK (size_usd > 0),
  pnl_pct            double precision,
  pnl_usd            double precision,
  status             text NOT NULL,
  exit_reason        text,
  opened_at          timestamptz NOT NULL,
  closed_at          timestamptz,
  updated_at         timestamptz NOT NULL
);
CREATE INDEX trades_symbol_opened ON trades (symbol, opened_at DESC);
CREATE INDEX trades_agent_opened ON trades (agent_name, opened_at DESC);

CREATE TABLE position_monitor_logs (
  ts                 timestamptz NOT NULL,
  trade_id           text NOT NULL,
  agent_name         text NOT NULL,
  symbol             text NOT NULL,
  price              double precision NOT NULL,
  pnl_pct            double precision,
  stop_loss_price    double precision,
  take_profit_price  double precision,
  action             text NOT NULL,
  message            text NOT NULL,
  PRIMARY KEY (trade_id, action, ts)
);
CREATE INDEX position_monitor_logs_symbol_time ON position_monitor_logs (symbol, ts DESC);

CREATE TABLE agent_logs (
  ts          timestamptz NOT NULL,
  agent_name  text NOT NULL,
  event_id    text NOT NULL,
  level       text NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  event       text NOT NULL,
  message     text NOT NULL,
  details     jsonb,
  PRIMARY KEY (agent_name, event_id, ts)
);
CREATE INDEX agent_logs_time ON agent_logs (ts DESC);

CREATE TABLE signals (
  signal_id           text NOT NULL,
  ts                  timestamptz NOT NULL,
  symbol              text NOT NULL,
  direction           text NOT NULL CHECK (direction IN ('long', 'short')),
  range               text NOT NULL,
  score               double precision NOT NULL,
  imbalance           double precision NOT NULL,
  entry_price         double precision NOT NULL CHECK (entry_price > 0),
  stop_loss_price     double precision NOT NULL CHECK (stop_loss_price > 0),
  take_profit_price   double precision NOT NULL CHECK (take_profit_price > 0),
  target_cluster_usd  double precision NOT NULL,
  reason              text NOT NULL,
  PRIMARY KEY (signal_id, ts)
);
CREATE INDEX signals_symbol_time ON signals (symbol, ts DESC);
CREATE INDEX signals_range_time ON signals (range, ts DESC);

CREATE TABLE orders (
  order_id        text PRIMARY KEY,
  trade_id        text,
  venue           text NOT NULL,
  symbol          text NOT NULL,
  side            text NOT NULL CHECK (side IN ('buy', 'sell')),
  order_type      text NOT NULL,
  price           double precision,
  qty             double precision NOT NULL CHECK (qty > 0),
  filled_qty      double precision NOT NULL CHECK (filled_qty >= 0),
  avg_fill_price  double precision,
  reduce_only     boolean NOT NULL,
  status          text NOT NULL,
  reject_reason   text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);
CREATE INDEX orders_symbol_created ON orders (symbol, created_at DESC);
CREATE INDEX orders_trade ON orders (trade_id);

CREATE TABLE market_bars_1m (
  ts                 timestamptz NOT NULL,
  symbol             text NOT NULL,
  open               double precision NOT NULL,
  high               double precision NOT NULL,
  low                double precision NOT NULL,
  close              double precision NOT NULL,
  buy_volume_qty     double precision NOT NULL CHECK (buy_volume_qty >= 0),
  sell_volume_qty    double precision NOT NULL CHECK (sell_volume_qty >= 0),
  buy_turnover_usd   double precision NOT NULL CHECK (buy_turnover_usd >= 0),
  sell_turnover_usd  double precision NOT NULL CHECK (sell_turnover_usd >= 0),
  trade_count        integer NOT NULL CHECK (trade_count >= 0),
  open_interest      double precision,
  open_interest_usd  double precision,
  funding_rate       double precision,
  PRIMARY KEY (symbol, ts),
  CHECK (low <= high AND low <= open AND open <= high AND low <= close AND close <= high)
);
CREATE INDEX market_bars_1m_time ON market_bars_1m (ts DESC);

CREATE TABLE liquidations (
  ts      timestamptz NOT NULL,
  symbol  text NOT NULL,
  side    text NOT NULL CHECK (side IN ('long', 'short')),
  price   double precision NOT NULL CHECK (price > 0),
  qty     double precision NOT NULL CHECK (qty > 0),
  usd     double precision NOT NULL CHECK (usd >= 0),
  seq     integer NOT NULL CHECK (seq >= 0),
  PRIMARY KEY (symbol, ts, seq, side, price, qty)
);
CREATE INDEX liquidations_time ON liquidations (ts DESC);

-- Rows the writer could not store (bad values), with the reason. Not a hypertable: small and kept forever.
CREATE TABLE write_quarantine (
  quarantined_at  timestamptz NOT NULL DEFAULT now(),
  table_name      text NOT NULL,
  reason          text NOT NULL,
  payload         text NOT NULL,
  payload_sha256  text NOT NULL,
  PRIMARY KEY (table_name, payload_sha256)
);

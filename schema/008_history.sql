-- History (issue 12): Bybit public REST history that `whalestack backfill` pulls and `run` keeps current, read by
-- the wick statistics and the backtester. Runs everywhere (PostgreSQL, PGlite, TimescaleDB); 009 turns both
-- tables into hypertables when TimescaleDB is on. Keys are the natural ones (symbol, interval, bar open time), so
-- a resumed or repeated backfill inserts nothing twice.
--
-- interval: Bybit's own codes, '1' (1 minute) and '60' (1 hour) for klines, '5min' and '1h' for open interest.

CREATE TABLE history_klines (
  symbol    text NOT NULL,
  interval  text NOT NULL CHECK (interval IN ('1', '60')),
  ts        timestamptz NOT NULL,
  open      double precision NOT NULL CHECK (open > 0),
  high      double precision NOT NULL CHECK (high > 0),
  low       double precision NOT NULL CHECK (low > 0),
  close     double precision NOT NULL CHECK (close > 0),
  volume    double precision NOT NULL CHECK (volume >= 0),
  turnover  double precision NOT NULL CHECK (turnover >= 0),
  CHECK (low <= high),
  PRIMARY KEY (symbol, interval, ts)
);
CREATE INDEX history_klines_time ON history_klines (ts DESC);

CREATE TABLE history_open_interest (
  symbol         text NOT NULL,
  interval       text NOT NULL CHECK (interval IN ('5min', '1h')),
  ts             timestamptz NOT NULL,
  open_interest  double precision NOT NULL CHECK (open_interest >= 0),
  PRIMARY KEY (symbol, interval, ts)
);
CREATE INDEX history_open_interest_time ON history_open_interest (ts DESC);

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDatabase } from '../src/sinks/db/database.js';
import { migrate } from '../src/sinks/db/migrator.js';
import { ROOT } from './support/run-cli.js';
import { PG_URL, STORAGE_MODES, pgAvailable } from './support/services.js';
import { createTestDatabase, recentBaseMs, type TestDatabase } from './support/storage-db.js';

interface Target { refId: string; rawSql?: string; expr?: string; datasource?: { uid: string } }
interface Panel { type: string; title: string; targets?: Target[] }
interface Dashboard { uid: string; panels: Panel[]; templating?: { list: { name: string; query: string; datasource?: { uid: string } }[] } }

const DASH_DIR = path.join(ROOT, 'ops/grafana/dashboards');
const dashboards = readdirSync(DASH_DIR).filter((f) => f.endsWith('.json')).map((f) => ({ file: f, json: JSON.parse(readFileSync(path.join(DASH_DIR, f), 'utf8')) as Dashboard }));

/** Every SQL query in the dashboards (panel targets and template variables), named `file: panel / refId`. */
const queries = dashboards.flatMap(({ file, json }) => [
  ...json.panels.flatMap((p) => (p.targets ?? []).filter((t) => t.rawSql !== undefined).map((t) => ({ name: `${file}: ${p.title} / ${t.refId}`, sql: t.rawSql! }))),
  ...(json.templating?.list ?? []).filter((v) => v.datasource?.uid === 'timescaledb').map((v) => ({ name: `${file}: variable ${v.name}`, sql: v.query })),
]);

/** The columns each query must return (what the panels' field names and overrides rely on). */
const EXPECTED_COLUMNS: Record<string, string[]> = {
  'Cumulative closed-trade PnL (USDT) / A': ['time', 'cumulative PnL'],
  'PnL per interval (USDT) / A': ['time', 'PnL', 'trades'],
  'Win rate and R:R by coin and range / A': ['symbol', 'range', 'trades', 'win rate', 'planned R:R', 'realized R:R', 'PnL USDT', 'avg PnL %'],
  'Learned patterns (coin_liquidation_patterns) / A': ['symbol', 'range', 'wins', 'losses', 'success rate', 'avg time to target s', 'typical cluster USD', 'smallest cluster that worked', 'updated_at'],
  'Current top 10 / A': ['rank', 'symbol', 'direction', 'score', 'imbalance', 'cluster % of typical', 'success rate', 'armed', 'ranked at'],
  'Top-10 scores over time / A': ['time', 'metric', 'score'],
  'Recent signals / A': ['time', 'symbol', 'direction', 'range', 'score', 'imbalance', 'entry', 'stop', 'target', 'target cluster USD', 'reason'],
  'Refusals / A': ['time', 'symbol', 'reason', 'message'],
  'Refusals / B': ['reason', 'refusals'],
  'Open positions with stops and targets / A': ['symbol', 'side', 'entry', 'stop', 'target', 'last price', 'PnL %', 'leverage', 'qty', 'range', 'opened', 'last check'],
  'Orders / A': ['time', 'symbol', 'side', 'type', 'price', 'qty', 'filled', 'reduce only', 'status', 'reject reason', 'venue'],
  'Trailing-stop moves and closes / A': ['time', 'symbol', 'trade_id', 'action', 'price', 'PnL %', 'stop', 'target', 'message'],
  'Spikes and fast movers per interval / A': ['time', 'spikes'],
  'Spikes and fast movers per interval / B': ['time', 'fast movers'],
  'Hourly close (market_bars_1h) / A': ['time', 'metric', 'close'],
  'Recent spikes / A': ['time', 'symbol', 'kind', 'direction', 'price', 'OI 15m %', 'vol ratio 5m', '1m %', '5m %'],
  'Fast movers / A': ['time', 'symbol', 'direction', 'price', '1m %', '5m %'],
  'Agent logs / A': ['time', 'agent', 'level', 'event', 'message'],
  'Execution state / A': ['name', 'updated at', 'bytes'],
  'variable symbol': ['symbol'],
};

const BASE = recentBaseMs();
const iso = (ms: number) => new Date(ms).toISOString();
const FROM = iso(BASE - 6 * 3_600_000);
const TO = iso(BASE + 3_600_000);

/**
 * Grafana's PostgreSQL macros and this dashboard's template variables, expanded the way Grafana does for the
 * given time range, `$__interval` and variable values. A macro or variable left over fails the test.
 */
function expand(sql: string, vars: { symbol: string; level: string; intervalSec: number }): string {
  const out = sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, col: string) => `${col.trim()} BETWEEN '${FROM}' AND '${TO}'`)
    .replace(/\$__timeFrom\(\)/g, `'${FROM}'`)
    .replace(/\$__timeTo\(\)/g, `'${TO}'`)
    .replace(/\$__timeGroupAlias\(([^,]+),\s*\$__interval\)/g, (_, col: string) => `floor(extract(epoch from ${col.trim()})/${vars.intervalSec})*${vars.intervalSec} AS "time"`)
    .replace(/\$symbol\b/g, vars.symbol)
    .replace(/\$level\b/g, vars.level);
  expect(out, `unexpanded macro in\n${out}`).not.toMatch(/\$\w/);
  return out;
}

const SEED = (m: (minutes: number) => string) => `
INSERT INTO trades (trade_id, agent_name, symbol, side, entry_price, exit_price, stop_loss_price, take_profit_price, size_qty, size_usd, pnl_pct, pnl_usd, status, exit_reason, opened_at, closed_at, updated_at, signal_id, fees_usd, leverage, liquidation_range, liquidation_source, target_cluster_usd) VALUES
 ('t1', 'paper', 'SOLUSDT', 'long', 100, 110, 95, 110, 10, 1000, 9.8, 98, 'closed', 'TAKE_PROFIT', '${m(10)}', '${m(70)}', '${m(70)}', 's1', 2, 5, '7d', 'coinglass', 3e7),
 ('t2', 'paper', 'SOLUSDT', 'long', 100, 95, 95, 110, 10, 1000, -5.2, -52, 'closed', 'STOP_LOSS', '${m(80)}', '${m(120)}', '${m(120)}', 's2', 2, 5, '7d', 'coinglass', 3e7),
 ('t3', 'paper', 'BTCUSDT', 'short', 60000, NULL, 63000, 57000, 0.1, 6000, NULL, NULL, 'open', NULL, '${m(200)}', NULL, '${m(200)}', 's3', 3, 4, '30d', 'estimate', 2e8);
INSERT INTO position_monitor_logs (ts, trade_id, agent_name, symbol, price, pnl_pct, stop_loss_price, take_profit_price, action, message) VALUES
 ('${m(210)}', 't3', 'paper', 'BTCUSDT', 59000, 6.5, 63000, 57000, 'hold', 'profit below 10%: stop unchanged'),
 ('${m(220)}', 't3', 'paper', 'BTCUSDT', 58000, 13.2, 59950, 57000, 'move_sl', 'stop to breakeven');
INSERT INTO coin_rankings (ranked_at, symbol, rank, score, imbalance, cluster_size_pct, success_rate, direction, armed) VALUES
 ('${m(100)}', 'SOLUSDT', 1, 90, 0.7, 150, 0.5, 'long', true),
 ('${m(200)}', 'BTCUSDT', 2, 80, 0.2, 120, 0.5, 'short', true),
 ('${m(200)}', 'SOLUSDT', 1, 100.4, 0.714, 159, 0.67, 'long', true);
INSERT INTO signals (signal_id, ts, symbol, direction, range, score, imbalance, entry_price, stop_loss_price, take_profit_price, target_cluster_usd, reason) VALUES
 ('s1', '${m(9)}', 'SOLUSDT', 'long', '7d', 100.4, 0.714, 100, 95, 110, 3e7, 'trigger'),
 ('s3', '${m(199)}', 'BTCUSDT', 'short', '30d', 80, 0.2, 60000, 63000, 57000, 2e8, 'trigger');
INSERT INTO execution_refusals (ts, signal_id, symbol, reason, message) VALUES
 ('${m(150)}', 's4', 'ETHUSDT', 'RISK_MAX_POSITIONS', '3 positions open'),
 ('${m(151)}', 's5', 'ETHUSDT', 'RISK_MAX_POSITIONS', '3 positions open'),
 ('${m(152)}', 's6', 'SOLUSDT', 'TP_NOT_BEYOND_ENTRY', 'take-profit not beyond entry');
INSERT INTO orders (order_id, trade_id, venue, symbol, side, order_type, price, qty, filled_qty, avg_fill_price, reduce_only, status, reject_reason, created_at, updated_at) VALUES
 ('e3-BTCUSDT-a', 't3', 'paper', 'BTCUSDT', 'sell', 'market', NULL, 0.1, 0.1, 60000, false, 'filled', NULL, '${m(200)}', '${m(200)}');
INSERT INTO oi_volume_spikes (ts, symbol, kind, price, oi_change_pct_15m, volume_ratio_5m, price_change_pct_1m, price_change_pct_5m, direction) VALUES
 ('${m(30)}', 'SOLUSDT', 'oi', 101, 4.2, 1.1, 0.3, 1.2, 'up'), ('${m(31)}', 'SOLUSDT', 'volume', 101, 1, 2.2, 0.3, 1.2, 'up');
INSERT INTO fast_price_movers (ts, symbol, price, price_change_pct_1m, price_change_pct_5m, direction) VALUES ('${m(32)}', 'SOLUSDT', 103, 2.5, 5.5, 'up');
INSERT INTO agent_logs (ts, agent_name, event_id, level, event, message, details) VALUES
 ('${m(40)}', 'paper', 'risk-1', 'warn', 'risk_state', 'ACTIVE → REDUCING: daily loss', '{}'),
 ('${m(41)}', 'paper', 'dbg-1', 'debug', 'tick', 'debug noise', NULL);
INSERT INTO execution_state (name, state, updated_at) VALUES ('paper-broker', '{"balanceUsd": 10046}', '${m(200)}');
INSERT INTO coin_liquidation_patterns (symbol, range, success_count, failure_count, success_rate, failure_rate, avg_time_to_target_sec, updated_at, avg_cluster_usd, typical_cluster_usd, min_cluster_usd) VALUES
 ('SOLUSDT', '7d', 1, 1, 0.5, 0.5, 3600, '${m(120)}', 3e7, 3e7, 3e7);
INSERT INTO market_bars_1m (ts, symbol, open, high, low, close, buy_volume_qty, sell_volume_qty, buy_turnover_usd, sell_turnover_usd, trade_count)
 SELECT '${m(0)}'::timestamptz + make_interval(mins => g), 'SOLUSDT', 100, 103, 99, 100 + g / 100.0, 1, 1, 100, 100, 2 FROM generate_series(0, 179) g;
`;

/**
 * The SQL of ops/timescaledb/init/10-grafana-reader.sh (the read-only role Grafana logs in with), with psql's
 * variables filled in and the role renamed, since roles are shared by every database on the test server.
 */
function readerRoleSql(role: string, dbname: string, owner: string): string {
  const script = readFileSync(path.join(ROOT, 'ops/timescaledb/init/10-grafana-reader.sh'), 'utf8');
  const sql = /<<'SQL'\n([\s\S]*?)\nSQL\n/.exec(script)![1]!;
  return sql.replaceAll('grafana_reader', role).replaceAll(`:'reader_password'`, `'test-reader'`).replaceAll(':"dbname"', `"${dbname}"`).replaceAll(':"owner"', `"${owner}"`);
}

describe.runIf(pgAvailable).each(STORAGE_MODES)('Grafana dashboard SQL on the real schema, as the read-only Grafana role ($name)', (mode) => {
  let tdb: TestDatabase;
  let owner: pg.Client;
  let client: pg.Client;
  const role = `gr_${randomBytes(5).toString('hex')}`;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    owner = new pg.Client({ connectionString: tdb.url });
    await owner.connect();
    // As in the container: the role and its default privileges exist before the daemon's first migration.
    const ownerName = (await owner.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u;
    await owner.query(readerRoleSql(role, tdb.name, ownerName));
    const db = new PgDatabase({ connectionString: tdb.url });
    await migrate(db, { timescaledb: mode.timescaledb });
    await db.close();
    const start = BASE - 5 * 3_600_000;
    await owner.query(SEED((min) => iso(start + min * 60_000)));
    if (mode.name === 'timescaledb') {
      // The aggregate's own refresh policy may be running right after the migration: wait for it, then refresh.
      for (let attempt = 0; ; attempt++) {
        try {
          await owner.query(`CALL refresh_continuous_aggregate('market_bars_1h', '${FROM}', '${TO}')`);
          break;
        } catch (err) {
          if (attempt >= 50 || !String(err).includes('concurrent refresh')) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
    const asReader = new URL(tdb.url);
    asReader.username = role;
    client = new pg.Client({ connectionString: asReader.toString() });
    await client.connect();
  }, 60_000);
  afterAll(async () => {
    await client?.end();
    await owner?.end();
    await tdb?.drop();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end());
  });

  it('the Grafana role reads but cannot write', async () => {
    expect((await client.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).toBe(role);
    await expect(client.query(`DELETE FROM trades`)).rejects.toThrow(/read-only transaction|permission denied/);
    await expect(client.query(`INSERT INTO agent_logs (ts, agent_name, event_id, level, event, message) VALUES (now(), 'g', 'g', 'info', 'g', 'g')`)).rejects.toThrow(/read-only transaction|permission denied/);
    await client.query('BEGIN READ WRITE').catch(() => undefined);
    await expect(client.query(`UPDATE execution_state SET state = '{}'`)).rejects.toThrow(/permission denied/);
    await client.query('ROLLBACK');
  });

  it('finds the trading dashboard queries and knows the columns of each', () => {
    expect(queries.length).toBeGreaterThanOrEqual(20);
    for (const q of queries) expect(Object.keys(EXPECTED_COLUMNS), q.name).toContain(q.name.split(': ').slice(1).join(': '));
  });

  it.each(queries.map((q) => [q.name, q.sql] as const))('%s runs and returns its columns', async (name, sql) => {
    const key = name.split(': ').slice(1).join(': ');
    for (const vars of [{ symbol: `'%'`, level: `'debug','info','warn','error'`, intervalSec: 60 }, { symbol: `'SOLUSDT','BTCUSDT'`, level: `'warn'`, intervalSec: 3600 }]) {
      const text = expand(sql, vars);
      if (key.startsWith('Hourly close') && mode.name === 'plain') {
        // No continuous aggregate without TimescaleDB: the panel shows this error, the others are unaffected.
        await expect(client.query(text)).rejects.toThrow('relation "market_bars_1h" does not exist');
        continue;
      }
      const r = await client.query(text);
      expect(r.fields.map((f) => f.name), name).toEqual(EXPECTED_COLUMNS[key]);
      expect(r.rowCount, `${name} returned no rows on the seeded data`).toBeGreaterThan(0);
    }
  });

  const run = async (title: string, symbol = `'%'`) => {
    const q = queries.find((x) => x.name.endsWith(`: ${title}`))!;
    return (await client.query(expand(q.sql, { symbol, level: `'info','warn','error'`, intervalSec: 3600 }))).rows as Record<string, unknown>[];
  };

  it('computes what the panels claim: top 10 of the last round, win rate and R:R, trailed stops, cumulative PnL', async () => {
    expect((await run('Current top 10 / A')).map((r) => [r.rank, r.symbol, r.score])).toEqual([[1, 'SOLUSDT', 100.4], [2, 'BTCUSDT', 80]]);
    const [sol] = await run('Win rate and R:R by coin and range / A');
    expect(sol).toMatchObject({ symbol: 'SOLUSDT', range: '7d', trades: '2', 'planned R:R': 2, 'realized R:R': 98 / 52, 'PnL USDT': 46 });
    expect(Number(sol!['win rate'])).toBe(0.5);
    const [pos] = await run('Open positions with stops and targets / A');
    expect(pos).toMatchObject({ symbol: 'BTCUSDT', side: 'short', entry: 60000, stop: 59950, target: 57000, 'last price': 58000 });
    expect((await run('Cumulative closed-trade PnL (USDT) / A')).map((r) => r['cumulative PnL'])).toEqual([98, 46]);
    expect((await run('Refusals / B')).map((r) => [r.reason, Number(r.refusals)])).toEqual([['RISK_MAX_POSITIONS', 2], ['TP_NOT_BEYOND_ENTRY', 1]]);
    expect((await run('Trailing-stop moves and closes / A')).map((r) => r.action)).toEqual(['move_sl']);
    expect((await run('Agent logs / A')).map((r) => r.level)).toEqual(['warn']);
    expect(await run('Recent signals / A', `'BTCUSDT'`)).toHaveLength(1);
    if (mode.name === 'timescaledb') {
      const bars = await run('Hourly close (market_bars_1h) / A');
      expect(bars.map((r) => r.close)).toEqual([100.59, 101.19, 101.79]);
    }
  });
});

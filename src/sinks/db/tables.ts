import type { TableName, TableRows } from './row-types.js';

/**
 * What the writer knows about each table: columns in COPY order, the natural key that makes a retried batch a
 * no-op, the time column, and whether TimescaleDB turns it into a hypertable. `schema/001_core_tables.sql` must
 * agree with this file; `test/storage-migrations.test.ts` compares the two against the live catalog.
 *
 * Field names are derived from column names: snake_case → camelCase, and timestamptz columns get an `Ms`
 * suffix because rows carry epoch milliseconds (`fetched_at` ← `fetchedAtMs`, `ts` ← `tsMs`).
 */

export type ColumnType = 'text' | 'float8' | 'int4' | 'int8' | 'bool' | 'timestamptz' | 'float8[]' | 'text[]' | 'jsonb';

export interface ColumnSpec {
  readonly name: string;
  /** Property of the typed row that feeds this column. */
  readonly field: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  /** Text: maximum characters (default 64). jsonb: maximum serialized characters. */
  readonly maxLength: number;
  /** Allowed values for enum-like text and text[] columns. */
  readonly values?: readonly string[];
  /** Arrays: maximum element count. */
  readonly maxItems: number;
}

/**
 * `nothing`: insert-only, a row whose key exists is skipped. `update`: the row is current state; a newer
 * `versionColumn` replaces the stored row, an equal or older one is skipped (so replays are no-ops).
 */
export type ConflictPolicy =
  | { readonly kind: 'nothing' }
  /** `keepColumns`: columns an update never changes (an operator's value in a table the daemon also writes). */
  | { readonly kind: 'update'; readonly versionColumn: string; readonly keepColumns?: readonly string[] };

export interface TableSpec {
  readonly name: TableName;
  readonly columns: readonly ColumnSpec[];
  readonly key: readonly string[];
  readonly timeColumn: string;
  readonly hypertable: boolean;
  readonly conflict: ConflictPolicy;
  /** Cross-field validation run by `encodeRow`; returns a reason when the row is unusable. */
  readonly check?: (row: Record<string, unknown>) => string | undefined;
}

interface ColumnOptions {
  readonly null?: true;
  readonly max?: number;
  readonly values?: readonly string[];
  readonly items?: number;
}
type ColumnDef = readonly [name: string, type: ColumnType, options?: ColumnOptions];

const SIDES = ['long', 'short'] as const;
const DIRECTIONS = ['up', 'down'] as const;

function fieldOf(name: string, type: ColumnType): string {
  const camel = name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return type === 'timestamptz' ? `${camel}Ms` : camel;
}

function table(
  name: TableName,
  defs: readonly ColumnDef[],
  meta: { key: readonly string[]; time: string; hypertable: boolean; conflict?: ConflictPolicy; check?: TableSpec['check'] },
): TableSpec {
  const columns = defs.map(([col, type, o]): ColumnSpec => ({
    name: col,
    field: fieldOf(col, type),
    type,
    nullable: o?.null === true,
    maxLength: o?.max ?? (type === 'jsonb' ? 65_536 : 64),
    ...(o?.values ? { values: o.values } : {}),
    maxItems: o?.items ?? 20_000,
  }));
  for (const k of [...meta.key, meta.time]) {
    if (!columns.some((c) => c.name === k)) throw new Error(`tables.ts: ${name} has no column ${k}`);
  }
  if (meta.hypertable && !meta.key.includes(meta.time)) {
    throw new Error(`tables.ts: hypertable ${name} must have its time column in the key`);
  }
  return {
    name,
    columns,
    key: meta.key,
    timeColumn: meta.time,
    hypertable: meta.hypertable,
    conflict: meta.conflict ?? { kind: 'nothing' },
    ...(meta.check ? { check: meta.check } : {}),
  };
}

function sameLengths(...fields: string[]) {
  return (row: Record<string, unknown>): string | undefined => {
    const lengths = fields.map((f) => (Array.isArray(row[f]) ? (row[f] as unknown[]).length : -1));
    return lengths.every((n) => n === lengths[0]) ? undefined : `arrays ${fields.join(', ')} differ in length (${lengths.join(', ')})`;
  };
}

const specs: readonly TableSpec[] = [
  table(
    'liquidation_data_raw',
    [
      ['fetched_at', 'timestamptz'], ['symbol', 'text'], ['range', 'text', { max: 16 }], ['source', 'text', { max: 32 }],
      ['ref_price', 'float8'], ['level_prices', 'float8[]'], ['level_usd', 'float8[]'], ['level_sides', 'text[]', { values: SIDES }],
    ],
    { key: ['symbol', 'range', 'source', 'fetched_at'], time: 'fetched_at', hypertable: true, check: sameLengths('levelPrices', 'levelUsd', 'levelSides') },
  ),
  table(
    'liquidation_clusters',
    [
      ['detected_at', 'timestamptz'], ['symbol', 'text'], ['range', 'text', { max: 16 }], ['source', 'text', { max: 32 }],
      ['side', 'text', { values: SIDES }], ['price_low', 'float8'], ['price_high', 'float8'], ['center_price', 'float8'],
      ['total_usd', 'float8'], ['level_count', 'int4'], ['ref_price', 'float8'], ['distance_pct', 'float8'], ['significant', 'bool'],
    ],
    { key: ['symbol', 'range', 'source', 'side', 'price_low', 'detected_at'], time: 'detected_at', hypertable: true },
  ),
  table(
    'oi_volume_spikes',
    [
      ['ts', 'timestamptz'], ['symbol', 'text'], ['kind', 'text', { max: 32 }], ['price', 'float8'],
      ['oi_change_pct_15m', 'float8', { null: true }], ['volume_ratio_5m', 'float8', { null: true }],
      ['price_change_pct_1m', 'float8', { null: true }], ['price_change_pct_5m', 'float8', { null: true }],
      ['direction', 'text', { values: DIRECTIONS }],
    ],
    { key: ['symbol', 'kind', 'ts'], time: 'ts', hypertable: true },
  ),
  table(
    'fast_price_movers',
    [
      ['ts', 'timestamptz'], ['symbol', 'text'], ['price', 'float8'], ['price_change_pct_1m', 'float8', { null: true }],
      ['price_change_pct_5m', 'float8', { null: true }], ['direction', 'text', { values: DIRECTIONS }],
    ],
    { key: ['symbol', 'ts'], time: 'ts', hypertable: true },
  ),
  table(
    'coin_thresholds',
    [
      ['symbol', 'text'], ['threshold_usd', 'float8'], ['source', 'text', { max: 32 }], ['market_cap_usd', 'float8', { null: true }], ['updated_at', 'timestamptz'],
      ['override_usd', 'float8', { null: true }],
    ],
    { key: ['symbol'], time: 'updated_at', hypertable: false, conflict: { kind: 'update', versionColumn: 'updated_at', keepColumns: ['override_usd'] } },
  ),
  table(
    'coin_typical_cluster_sizes',
    [
      ['coin', 'text'], ['range', 'text', { max: 16 }], ['source', 'text', { max: 16 }], ['typical_usd', 'float8'], ['samples', 'int4'],
      ['last_observed_at', 'timestamptz'],
    ],
    { key: ['coin', 'range', 'source'], time: 'last_observed_at', hypertable: false, conflict: { kind: 'update', versionColumn: 'last_observed_at' } },
  ),
  table(
    'coin_liquidation_patterns',
    [
      ['symbol', 'text'], ['range', 'text', { max: 16 }], ['success_count', 'int4'], ['failure_count', 'int4'],
      ['success_rate', 'float8'], ['failure_rate', 'float8'], ['avg_time_to_target_sec', 'float8', { null: true }], ['updated_at', 'timestamptz'],
      ['avg_cluster_usd', 'float8', { null: true }], ['typical_cluster_usd', 'float8', { null: true }], ['min_cluster_usd', 'float8', { null: true }],
    ],
    { key: ['symbol', 'range'], time: 'updated_at', hypertable: false, conflict: { kind: 'update', versionColumn: 'updated_at' } },
  ),
  table(
    'coin_rankings',
    [
      ['ranked_at', 'timestamptz'], ['symbol', 'text'], ['rank', 'int4'], ['score', 'float8'], ['imbalance', 'float8'],
      ['cluster_size_pct', 'float8'], ['success_rate', 'float8'], ['direction', 'text', { values: SIDES }], ['armed', 'bool'],
    ],
    { key: ['symbol', 'ranked_at'], time: 'ranked_at', hypertable: true },
  ),
  table(
    'trades',
    [
      ['trade_id', 'text'], ['agent_name', 'text'], ['symbol', 'text'], ['side', 'text', { values: SIDES }],
      ['entry_price', 'float8'], ['exit_price', 'float8', { null: true }], ['stop_loss_price', 'float8'], ['take_profit_price', 'float8'],
      ['size_qty', 'float8'], ['size_usd', 'float8'], ['pnl_pct', 'float8', { null: true }], ['pnl_usd', 'float8', { null: true }],
      ['status', 'text', { max: 16 }], ['exit_reason', 'text', { null: true, max: 256 }], ['opened_at', 'timestamptz'],
      ['closed_at', 'timestamptz', { null: true }], ['updated_at', 'timestamptz'],
      ['signal_id', 'text', { null: true, max: 128 }], ['fees_usd', 'float8', { null: true }], ['leverage', 'float8', { null: true }],
      ['liquidation_range', 'text', { null: true, max: 16 }], ['liquidation_source', 'text', { null: true, max: 32 }], ['target_cluster_usd', 'float8', { null: true }],
    ],
    { key: ['trade_id'], time: 'opened_at', hypertable: false, conflict: { kind: 'update', versionColumn: 'updated_at' } },
  ),
  table(
    'position_monitor_logs',
    [
      ['ts', 'timestamptz'], ['trade_id', 'text'], ['agent_name', 'text'], ['symbol', 'text'], ['price', 'float8'],
      ['pnl_pct', 'float8', { null: true }], ['stop_loss_price', 'float8', { null: true }], ['take_profit_price', 'float8', { null: true }],
      ['action', 'text', { max: 32 }], ['message', 'text', { max: 2000 }],
    ],
    { key: ['trade_id', 'action', 'ts'], time: 'ts', hypertable: true },
  ),
  table(
    'agent_logs',
    [
      ['ts', 'timestamptz'], ['agent_name', 'text'], ['event_id', 'text', { max: 128 }], ['level', 'text', { values: ['debug', 'info', 'warn', 'error'] }],
      ['event', 'text'], ['message', 'text', { max: 4000 }], ['details', 'jsonb', { null: true }],
    ],
    { key: ['agent_name', 'event_id', 'ts'], time: 'ts', hypertable: true },
  ),
  table(
    'signals',
    [
      ['signal_id', 'text', { max: 128 }], ['ts', 'timestamptz'], ['symbol', 'text'], ['direction', 'text', { values: SIDES }],
      ['range', 'text', { max: 16 }], ['score', 'float8'], ['imbalance', 'float8'], ['entry_price', 'float8'], ['stop_loss_price', 'float8'],
      ['take_profit_price', 'float8'], ['target_cluster_usd', 'float8'], ['reason', 'text', { max: 1000 }],
    ],
    { key: ['signal_id', 'ts'], time: 'ts', hypertable: true },
  ),
  table(
    'orders',
    [
      ['order_id', 'text', { max: 128 }], ['trade_id', 'text', { null: true }], ['venue', 'text', { max: 32 }], ['symbol', 'text'],
      ['side', 'text', { values: ['buy', 'sell'] }], ['order_type', 'text', { max: 32 }], ['price', 'float8', { null: true }],
      ['qty', 'float8'], ['filled_qty', 'float8'], ['avg_fill_price', 'float8', { null: true }], ['reduce_only', 'bool'],
      ['status', 'text', { max: 32 }], ['reject_reason', 'text', { null: true, max: 512 }], ['created_at', 'timestamptz'], ['updated_at', 'timestamptz'],
    ],
    { key: ['order_id'], time: 'created_at', hypertable: false, conflict: { kind: 'update', versionColumn: 'updated_at' } },
  ),
  table(
    'execution_refusals',
    [['ts', 'timestamptz'], ['signal_id', 'text', { max: 128 }], ['symbol', 'text'], ['reason', 'text', { max: 64 }], ['message', 'text', { max: 2000 }]],
    { key: ['signal_id', 'reason', 'ts'], time: 'ts', hypertable: false },
  ),
  table(
    'market_bars_1m',
    [
      ['ts', 'timestamptz'], ['symbol', 'text'], ['open', 'float8'], ['high', 'float8'], ['low', 'float8'], ['close', 'float8'],
      ['buy_volume_qty', 'float8'], ['sell_volume_qty', 'float8'], ['buy_turnover_usd', 'float8'], ['sell_turnover_usd', 'float8'],
      ['trade_count', 'int4'], ['open_interest', 'float8', { null: true }], ['open_interest_usd', 'float8', { null: true }],
      ['funding_rate', 'float8', { null: true }],
    ],
    { key: ['symbol', 'ts'], time: 'ts', hypertable: true },
  ),
  table(
    'liquidations',
    [['ts', 'timestamptz'], ['symbol', 'text'], ['side', 'text', { values: SIDES }], ['price', 'float8'], ['qty', 'float8'], ['usd', 'float8'], ['seq', 'int4']],
    { key: ['symbol', 'ts', 'seq', 'side', 'price', 'qty'], time: 'ts', hypertable: true },
  ),
  table(
    'history_klines',
    [
      ['symbol', 'text'], ['interval', 'text', { max: 4, values: ['1', '60'] }], ['ts', 'timestamptz'], ['open', 'float8'], ['high', 'float8'],
      ['low', 'float8'], ['close', 'float8'], ['volume', 'float8'], ['turnover', 'float8'],
    ],
    { key: ['symbol', 'interval', 'ts'], time: 'ts', hypertable: true },
  ),
  table(
    'history_open_interest',
    [['symbol', 'text'], ['interval', 'text', { max: 4, values: ['5min', '1h'] }], ['ts', 'timestamptz'], ['open_interest', 'float8']],
    { key: ['symbol', 'interval', 'ts'], time: 'ts', hypertable: true },
  ),
  table(
    'cluster_outcomes',
    [
      ['detected_at', 'timestamptz'], ['symbol', 'text'], ['range', 'text', { max: 16 }], ['source', 'text', { max: 32 }],
      ['side', 'text', { values: SIDES }], ['price_low', 'float8'], ['price_high', 'float8'], ['center_price', 'float8'],
      ['outcome', 'text', { values: ['hit', 'expired'] }], ['hit_at', 'timestamptz', { null: true }], ['expired_at', 'timestamptz', { null: true }],
      ['resolved_at', 'timestamptz'],
    ],
    {
      key: ['symbol', 'range', 'source', 'side', 'price_low', 'detected_at'],
      time: 'resolved_at',
      hypertable: false,
      check: (r) => ((r.outcome === 'hit') !== (r.hitAtMs !== null) || (r.outcome === 'expired') !== (r.expiredAtMs !== null) ? 'hit_at (for a hit) or expired_at (for an expiry), not both' : undefined),
    },
  ),
];

/** Every table the writer writes, by name. */
export const TABLES: Readonly<Record<TableName, TableSpec>> = Object.freeze(
  Object.fromEntries(specs.map((s) => [s.name, s])) as Record<TableName, TableSpec>,
);

export const TABLE_NAMES: readonly TableName[] = specs.map((s) => s.name);

/** Narrows an arbitrary string (e.g. a journal record header) to a known table. */
export function isTableName(name: string): name is TableName {
  return Object.prototype.hasOwnProperty.call(TABLES, name);
}

/** Type-level helper: the row type accepted for table `T`. */
export type RowOf<T extends TableName> = TableRows[T];

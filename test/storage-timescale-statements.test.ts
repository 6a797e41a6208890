import { describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATION_SETTINGS, defaultSchemaDir, loadMigrations, renderMigration } from '../src/sinks/db/migrator.js';
import { splitSqlStatements } from '../src/sinks/db/sql-script.js';
import { TABLES, TABLE_NAMES, isTableName } from '../src/sinks/db/tables.js';

/**
 * A static check that needs no server (test/storage-timescale.test.ts runs the same files on a real TimescaleDB).
 * It checks the statements against the documented API (docs: create_hypertable with by_range — generalized API since 2.13; ALTER TABLE … SET
 * (timescaledb.compress, timescaledb.compress_segmentby, timescaledb.compress_orderby); add_compression_policy;
 * add_retention_policy; CREATE MATERIALIZED VIEW … WITH (timescaledb.continuous); add_continuous_aggregate_policy),
 * and against our own tables: every referenced column exists, hypertables partition on the key's time column,
 * and the continuous aggregate lives in a no-transaction migration.
 */

interface Signature {
  readonly positional: readonly string[];
  readonly named: readonly string[];
  readonly required: readonly string[];
}

// Argument names as documented on the TimescaleDB API reference pages.
const DOCUMENTED: Readonly<Record<string, Signature>> = {
  create_hypertable: { positional: ['relation', 'dimension'], named: ['create_default_indexes', 'if_not_exists', 'migrate_data'], required: [] },
  by_range: { positional: ['column_name', 'partition_interval'], named: ['partition_func'], required: [] },
  add_compression_policy: {
    positional: ['hypertable', 'compress_after'],
    named: ['compress_after', 'if_not_exists', 'schedule_interval', 'initial_start', 'timezone', 'compress_created_before'],
    required: ['compress_after'],
  },
  add_retention_policy: {
    positional: ['relation', 'drop_after'],
    named: ['drop_after', 'if_not_exists', 'schedule_interval', 'initial_start', 'timezone', 'drop_created_before'],
    required: ['drop_after'],
  },
  add_continuous_aggregate_policy: {
    positional: ['continuous_aggregate'],
    named: ['start_offset', 'end_offset', 'schedule_interval', 'if_not_exists', 'initial_start', 'timezone'],
    required: ['start_offset', 'end_offset', 'schedule_interval'],
  },
};

/** Splits `a, f(b, c), d => e` at top-level commas. */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') depth--;
    else if (!quoted && depth === 0 && ch === ',') {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out.filter((a) => a.length > 0);
}

/** Parses `fn(args)` into positional and named arguments, checking names against the documented signature. */
function parseCall(call: string): { fn: string; positional: string[]; named: Map<string, string> } {
  const m = /^([a-z_]+)\(([\s\S]*)\)$/.exec(call.trim());
  if (!m) throw new Error(`not a call: ${call}`);
  const fn = m[1] as string;
  const sig = DOCUMENTED[fn];
  if (!sig) throw new Error(`undocumented function ${fn}`);
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const arg of splitArgs(m[2] as string)) {
    const nm = /^([a-z_]+)\s*=>\s*([\s\S]+)$/.exec(arg);
    if (nm) named.set(nm[1] as string, nm[2] as string);
    else {
      if (named.size > 0) throw new Error(`${fn}: positional argument after named ones`);
      positional.push(arg);
    }
  }
  if (positional.length > sig.positional.length) throw new Error(`${fn}: too many positional arguments`);
  for (const n of named.keys()) if (!sig.named.includes(n)) throw new Error(`${fn}: undocumented argument ${n}`);
  for (const r of sig.required) if (!named.has(r) && !positional[sig.positional.indexOf(r)]) throw new Error(`${fn}: missing ${r}`);
  return { fn, positional, named };
}

const INTERVAL_ARG = /^INTERVAL '[1-9][0-9]* (minute|hour|day|week|month|year)s?'$/;
const tableArg = (text: string | undefined): string => /^'([a-z0-9_]+)'$/.exec(text ?? '')?.[1] ?? `<bad relation ${text}>`;
const columnsOf = (t: string): string[] => (isTableName(t) ? TABLES[t].columns.map((c) => c.name) : []);

describe('TimescaleDB statements follow the documented API', () => {
  const migrations = loadMigrations(defaultSchemaDir());
  const tsMigrations = migrations.filter((m) => m.requiresTimescale);

  it('keeps TimescaleDB-only syntax out of files that run on plain PostgreSQL and PGlite', () => {
    expect(tsMigrations.map((m) => m.name)).toEqual([
      '002_timescale_hypertables.sql',
      '003_timescale_compression_retention.sql',
      '004_timescale_bars_hourly.sql',
      '005_timescale_compression_segments.sql',
      '009_timescale_history.sql',
    ]);
    for (const m of migrations.filter((f) => !f.requiresTimescale)) {
      expect(m.sql, m.name).not.toMatch(/create_hypertable|timescaledb\.|add_[a-z_]+_policy|time_bucket|CREATE EXTENSION/i);
    }
  });

  it('uses only documented calls and options, on real tables and columns', () => {
    const hypertables = new Map<string, string>();
    const compressed = new Set<string>();
    const retained = new Set<string>();
    const caggs = new Set<string>();
    for (const m of tsMigrations) {
      const sql = renderMigration(m, DEFAULT_MIGRATION_SETTINGS);
      for (const stmt of splitSqlStatements(sql)) {
        const s = stmt.replace(/^(--[^\n]*\n)+/, '').trim();
        if (s === 'CREATE EXTENSION IF NOT EXISTS timescaledb') continue;
        const select = /^SELECT ([a-z_]+\([\s\S]*\))$/.exec(s);
        if (select) {
          const call = parseCall(select[1] as string);
          const rel = tableArg(call.positional[0]);
          if (call.fn === 'create_hypertable') {
            const dim = parseCall(call.positional[1] ?? '');
            expect(dim.fn).toBe('by_range');
            const col = tableArg(dim.positional[0]);
            expect(dim.positional[1]).toMatch(INTERVAL_ARG);
            expect(isTableName(rel) && TABLES[rel].hypertable, `${rel} is meant to be a hypertable`).toBe(true);
            expect(col, `${rel} partitions on its time column`).toBe(isTableName(rel) ? TABLES[rel].timeColumn : '');
            expect(call.named.get('migrate_data')).toBe('TRUE');
            hypertables.set(rel, col);
          } else if (call.fn === 'add_compression_policy') {
            expect(compressed.has(rel), `compression enabled on ${rel} before its policy`).toBe(true);
            expect(call.named.get('compress_after')).toMatch(INTERVAL_ARG);
          } else if (call.fn === 'add_retention_policy') {
            expect(hypertables.has(rel), `${rel} is a hypertable`).toBe(true);
            expect(call.named.get('drop_after')).toMatch(INTERVAL_ARG);
            retained.add(rel);
          } else if (call.fn === 'add_continuous_aggregate_policy') {
            expect(caggs.has(rel), `${rel} is a continuous aggregate created earlier`).toBe(true);
            for (const k of ['start_offset', 'end_offset', 'schedule_interval']) expect(call.named.get(k)).toMatch(INTERVAL_ARG);
          }
          expect(call.named.get('if_not_exists') ?? 'TRUE', `${call.fn} re-runnable`).toBe('TRUE');
          continue;
        }
        const alter = /^ALTER TABLE ([a-z0-9_]+) SET \((.*)\)$/.exec(s);
        if (alter) {
          const rel = alter[1] as string;
          expect(hypertables.has(rel), `compression on hypertable ${rel}`).toBe(true);
          const opts = splitArgs(alter[2] as string);
          expect(opts[0]).toBe('timescaledb.compress');
          const byName = new Map(opts.slice(1).map((o) => o.split(/\s*=\s*/) as [string, string]));
          for (const k of byName.keys()) expect(['timescaledb.compress_segmentby', 'timescaledb.compress_orderby']).toContain(k);
          const segment = (byName.get('timescaledb.compress_segmentby') ?? "''").slice(1, -1).split(/,\s*/).filter((c) => c !== '');
          const order = (byName.get('timescaledb.compress_orderby') ?? "''").slice(1, -1).split(/,\s*/).map((o) => o.replace(/ (ASC|DESC)$/, ''));
          for (const c of [...segment, ...order]) expect(columnsOf(rel), `${rel}.${c}`).toContain(c);
          expect(order[0], `${rel} orders by time`).toBe(hypertables.get(rel));
          if (isTableName(rel)) for (const k of TABLES[rel].key) expect([...segment, ...order], `${rel} key column ${k}`).toContain(k);
          compressed.add(rel);
          continue;
        }
        const cagg = /^CREATE MATERIALIZED VIEW (?:IF NOT EXISTS )?([a-z0-9_]+)\s+WITH \(timescaledb\.continuous\) AS\s+SELECT[\s\S]+FROM ([a-z0-9_]+)\s+GROUP BY [\s\S]*time_bucket\(INTERVAL '1 hour', ts\)[\s\S]*WITH NO DATA$/.exec(s);
        if (cagg) {
          expect(m.noTransaction, `${m.name} must be marked no-transaction`).toBe(true);
          expect(hypertables.has(cagg[2] as string)).toBe(true);
          caggs.add(cagg[1] as string);
          continue;
        }
        throw new Error(`${m.name}: statement not recognised as documented TimescaleDB API:\n${s}`);
      }
    }
    expect([...hypertables.keys()].sort()).toEqual(TABLE_NAMES.filter((t) => TABLES[t].hypertable).sort());
    expect([...compressed].sort()).toEqual([...hypertables.keys()].sort());
    expect(retained.has('market_bars_1m') && retained.has('liquidation_data_raw')).toBe(true);
    for (const audit of ['signals', 'agent_logs', 'position_monitor_logs']) expect(retained.has(audit), `${audit} is never dropped`).toBe(false);
    expect(caggs).toEqual(new Set(['market_bars_1h']));
  });

  it('rejects an undocumented argument (the checker can fail)', () => {
    expect(() => parseCall(`add_retention_policy('x', older_than => INTERVAL '1 day')`)).toThrow(/undocumented argument older_than/);
    expect(() => parseCall(`add_continuous_aggregate_policy('v', start_offset => INTERVAL '1 day')`)).toThrow(/missing end_offset/);
  });
});

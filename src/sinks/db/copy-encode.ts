import type { ColumnSpec, TableSpec } from './tables.js';

/**
 * Pure encoding of typed rows into PostgreSQL COPY text format (one line per row, tab separated, `\N` for
 * NULL), with validation. Everything PostgreSQL would reject or silently store wrong is caught here so one bad
 * row is quarantined with a reason instead of failing a whole batch: NaN and ±Infinity, wrong JS types,
 * oversized or NUL-containing text, unknown enum values, out-of-range integers and implausible timestamps
 * (before 2000 — usually seconds passed as milliseconds — or after 2200).
 */

export type EncodeResult = { readonly ok: true; readonly line: string } | { readonly ok: false; readonly reason: string };

const MIN_TS_MS = 946_684_800_000; // 2000-01-01
const MAX_TS_MS = 7_258_118_400_000; // 2200-01-01
const INT4_MAX = 2_147_483_647;

const NEEDS_ESCAPE = /[\\\n\r\t]/;

/** Escapes a value for COPY text format (backslash, newline, carriage return, tab). */
export function escapeCopyText(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/[\\\n\r\t]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : '\\t'));
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `string(${value.length})`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function checkText(col: ColumnSpec, value: unknown): string | undefined {
  if (typeof value !== 'string') return `${col.name}: expected string, got ${describe(value)}`;
  if (value.length > col.maxLength) return `${col.name}: text of ${value.length} chars exceeds ${col.maxLength}`;
  if (value.includes('\u0000')) return `${col.name}: text contains NUL`;
  if (col.values && !col.values.includes(value)) return `${col.name}: '${value.slice(0, 32)}' not one of ${col.values.join('|')}`;
  return undefined;
}

function quoteArrayElement(text: string): string {
  return `"${text.replace(/["\\]/g, (ch) => `\\${ch}`)}"`;
}

/** Returns the COPY field for one column, or an error reason. */
function encodeValue(col: ColumnSpec, value: unknown): string | { reason: string } {
  if (value === null || value === undefined) {
    return col.nullable ? '\\N' : { reason: `${col.name}: required, got ${value === null ? 'null' : 'undefined'}` };
  }
  switch (col.type) {
    case 'float8':
      if (typeof value !== 'number') return { reason: `${col.name}: expected number, got ${describe(value)}` };
      if (!Number.isFinite(value)) return { reason: `${col.name}: non-finite number ${value}` };
      return String(value);
    case 'int4':
    case 'int8': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return { reason: `${col.name}: expected integer, got ${describe(value)}` };
      const limit = col.type === 'int4' ? INT4_MAX : Number.MAX_SAFE_INTEGER;
      if (Math.abs(value) > limit) return { reason: `${col.name}: integer ${value} out of range` };
      return String(value);
    }
    case 'bool':
      if (typeof value !== 'boolean') return { reason: `${col.name}: expected boolean, got ${describe(value)}` };
      return value ? 't' : 'f';
    case 'timestamptz':
      if (typeof value !== 'number' || !Number.isFinite(value)) return { reason: `${col.name}: expected epoch ms, got ${describe(value)}` };
      if (value < MIN_TS_MS || value > MAX_TS_MS) return { reason: `${col.name}: epoch ms ${value} outside 2000..2200` };
      return new Date(value).toISOString();
    case 'text': {
      const bad = checkText(col, value);
      return bad === undefined ? escapeCopyText(value as string) : { reason: bad };
    }
    case 'float8[]': {
      if (!Array.isArray(value)) return { reason: `${col.name}: expected number[], got ${describe(value)}` };
      if (value.length > col.maxItems) return { reason: `${col.name}: ${value.length} items exceeds ${col.maxItems}` };
      for (const v of value as unknown[]) {
        if (typeof v !== 'number' || !Number.isFinite(v)) return { reason: `${col.name}: element ${describe(v)} is not a finite number` };
      }
      return `{${value.join(',')}}`;
    }
    case 'text[]': {
      if (!Array.isArray(value)) return { reason: `${col.name}: expected string[], got ${describe(value)}` };
      if (value.length > col.maxItems) return { reason: `${col.name}: ${value.length} items exceeds ${col.maxItems}` };
      const parts: string[] = [];
      for (const v of value as unknown[]) {
        const bad = checkText(col, v);
        if (bad !== undefined) return { reason: bad };
        parts.push(col.values ? (v as string) : quoteArrayElement(v as string));
      }
      return escapeCopyText(`{${parts.join(',')}}`);
    }
    case 'jsonb': {
      if (typeof value !== 'object') return { reason: `${col.name}: expected object, got ${describe(value)}` };
      let json: string;
      try {
        json = JSON.stringify(value);
      } catch (err) {
        return { reason: `${col.name}: not serializable (${(err as Error).message})` };
      }
      if (json.length > col.maxLength) return { reason: `${col.name}: json of ${json.length} chars exceeds ${col.maxLength}` };
      if (json.includes('\\u0000')) return { reason: `${col.name}: json contains NUL` };
      return escapeCopyText(json);
    }
  }
}

/**
 * Encodes one row of `spec`'s table as a COPY line (with trailing newline). Never throws: anything unusable
 * comes back as `{ ok: false, reason }` naming the column.
 */
export function encodeRow(spec: TableSpec, row: unknown): EncodeResult {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return { ok: false, reason: `row: expected object, got ${describe(row)}` };
  const record = row as Record<string, unknown>;
  const fields: string[] = [];
  for (const col of spec.columns) {
    const encoded = encodeValue(col, record[col.field]);
    if (typeof encoded !== 'string') return { ok: false, reason: encoded.reason };
    fields.push(encoded);
  }
  const bad = spec.check?.(record);
  if (bad !== undefined) return { ok: false, reason: bad };
  return { ok: true, line: `${fields.join('\t')}\n` };
}

/** SQL the database layer runs for one table: staging DDL, COPY column list and the idempotent insert. */
export interface WritePlan {
  readonly table: string;
  readonly stageTable: string;
  readonly createStageSql: string;
  /** Quoted, comma separated column list in COPY order. */
  readonly columnList: string;
  readonly insertSql: string;
}

const quote = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;

/**
 * Builds the write plan: COPY into a per-session temp table that empties on commit, then one INSERT … SELECT
 * that skips rows whose natural key exists (insert-only tables) or keeps the newest version (state tables;
 * DISTINCT ON first, because ON CONFLICT DO UPDATE refuses to touch a row twice in one statement).
 */
export function buildWritePlan(spec: TableSpec): WritePlan {
  const stageTable = `ws_stage_${spec.name}`;
  const cols = spec.columns.map((c) => quote(c.name));
  const columnList = cols.join(', ');
  const createStageSql = `CREATE TEMP TABLE IF NOT EXISTS ${quote(stageTable)} (LIKE ${quote(spec.name)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`;
  let insertSql: string;
  if (spec.conflict.kind === 'nothing') {
    insertSql = `INSERT INTO ${quote(spec.name)} (${columnList}) SELECT ${columnList} FROM ${quote(stageTable)} ON CONFLICT DO NOTHING`;
  } else {
    const key = spec.key.map(quote).join(', ');
    const version = quote(spec.conflict.versionColumn);
    const keep = spec.conflict.keepColumns ?? [];
    const updates = spec.columns
      .filter((c) => !spec.key.includes(c.name) && !keep.includes(c.name))
      .map((c) => `${quote(c.name)} = EXCLUDED.${quote(c.name)}`)
      .join(', ');
    insertSql =
      `INSERT INTO ${quote(spec.name)} (${columnList}) SELECT DISTINCT ON (${key}) ${columnList} FROM ${quote(stageTable)} ` +
      `ORDER BY ${key}, ${version} DESC ON CONFLICT (${key}) DO UPDATE SET ${updates} ` +
      `WHERE ${quote(spec.name)}.${version} < EXCLUDED.${version}`;
  }
  return { table: spec.name, stageTable, createStageSql, columnList, insertSql };
}

/** JSON for a quarantined raw row: non-finite numbers become strings so the evidence survives. */
export function quarantinePayload(row: unknown): string {
  try {
    return JSON.stringify(row, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(row);
  } catch {
    return String(row);
  }
}

/**
 * Splits a SQL script into statements at top-level semicolons, respecting '…' strings, "…" identifiers,
 * $tag$…$tag$ bodies, -- line comments and nested block comments. Needed for migrations that must run
 * statement by statement outside a transaction: a multi-statement simple query is itself an implicit
 * transaction block, which e.g. CREATE MATERIALIZED VIEW … WITH (timescaledb.continuous) refuses.
 * Comment-only fragments are dropped.
 */
export function splitSqlStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  let meaningful = false;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i] as string;
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (ch === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') (depth += 1), (i += 2);
        else if (sql[i] === '*' && sql[i + 1] === '/') (depth -= 1), (i += 2);
        else i += 1;
      }
      continue;
    }
    if (ch === "'" || ch === '"') {
      meaningful = true;
      i += 1;
      while (i < n) {
        if (sql[i] === ch) {
          if (sql[i + 1] === ch) i += 2;
          else break;
        } else i += 1;
      }
      i += 1;
      continue;
    }
    if (ch === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (m) {
        meaningful = true;
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        i = end === -1 ? n : end + tag.length;
        continue;
      }
    }
    if (ch === ';') {
      if (meaningful) out.push(sql.slice(start, i).trim());
      start = i + 1;
      meaningful = false;
      i += 1;
      continue;
    }
    if (!/\s/.test(ch)) meaningful = true;
    i += 1;
  }
  if (meaningful) out.push(sql.slice(start).trim());
  return out;
}

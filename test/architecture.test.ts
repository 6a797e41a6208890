import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const IMPORT_RE = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

/** Which top-level folder under src/ an import resolves to, or 'external:<pkg>'. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return `external:${spec}`;
  const resolved = path.resolve(path.dirname(file), spec);
  const rel = path.relative(SRC, resolved);
  if (rel.startsWith('..')) return `outside:${rel}`;
  return rel.split(path.sep)[0]!;
}

const ALLOWED: Record<string, (t: string) => boolean> = {
  core: (t) => t === 'core',
  actors: (t) => t === 'core' || t === 'actors',
  streams: (t) => t === 'core' || t === 'streams' || t === 'actors' || t.startsWith('external:'),
  sinks: (t) => t === 'core' || t === 'sinks' || t.startsWith('external:'),
  // The engine composes the pure decoder (streams) with the actors; it does no I/O of its own.
  engine: (t) => t === 'core' || t === 'actors' || t === 'engine' || t === 'streams',
  // A venue session (REST orders, private stream, reconciliation) shares keys, clock offset and rate-limit state.
  venues: (t) => t === 'core' || t === 'venues' || t.startsWith('external:'),
};

describe('layering: imports point inward only', () => {
  for (const layer of Object.keys(ALLOWED)) {
    it(`src/${layer} imports only what it may`, () => {
      const violations: string[] = [];
      for (const file of filesUnder(path.join(SRC, layer))) {
        const isTest = file.endsWith('.test.ts');
        for (const spec of importsOf(file)) {
          const t = target(file, spec);
          if (isTest && (t === 'external:vitest' || t === 'external:fast-check')) continue;
          if (!ALLOWED[layer]!(t)) violations.push(`${path.relative(ROOT, file)} imports ${spec}`);
        }
      }
      expect(violations).toEqual([]);
    });
  }

  it('streams import nothing from actors but message types', () => {
    const violations: string[] = [];
    for (const file of filesUnder(path.join(SRC, 'streams'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/import\s+(type\s+)?[^;]*?from\s+['"](\.[^'"]*actors\/[^'"]+)['"]/g)) {
        if (m[1] === undefined) violations.push(`${path.relative(ROOT, file)} imports values from ${m[2]}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('core and actors never read the wall clock, set timers or draw randomness', () => {
    const banned = /\bDate\.now\(|\bnew Date\(|\bsetTimeout\(|\bsetInterval\(|\bsetImmediate\(|\bMath\.random\(|\bperformance\.now\(|\bprocess\.hrtime/;
    const violations: string[] = [];
    for (const layer of ['core', 'actors']) {
      for (const file of filesUnder(path.join(SRC, layer))) {
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            const code = line.replace(/\/\/.*$/, '');
            if (banned.test(code)) violations.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(violations).toEqual([]);
  });

  it('the checker itself catches an outward import', () => {
    const fake = path.join(SRC, 'core', 'x.ts');
    expect(ALLOWED.core!(target(fake, '../streams/bybit-decoder.js'))).toBe(false);
    expect(ALLOWED.core!(target(fake, 'rxjs'))).toBe(false);
    expect(ALLOWED.core!(target(fake, 'node:fs'))).toBe(false);
    expect(ALLOWED.core!(target(fake, './clock.js'))).toBe(true);
  });
});

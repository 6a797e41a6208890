/** Small helpers shared by the benchmarks. */

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function mb(bytes: number): number {
  return round(bytes / (1024 * 1024), 1);
}

/** True when this module is the process entry point (`node dist/bench/x.js`). */
export function isMain(metaUrl: string): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  return metaUrl === new URL(`file://${arg.startsWith('/') ? arg : `${process.cwd()}/${arg}`}`).href;
}

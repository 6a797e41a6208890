import { writeTape } from '../sinks/tape-writer.js';
import { simSymbolNames, simulateMarket, type MarketScenario } from '../streams/market-simulator.js';
import { prepareDir } from './prepare-dir.js';

export const SIMULATE_USAGE = `usage: whalestack simulate --out <dir> [--symbols N] [--minutes M] [--seed S] [--start ISO]
                          [--majors] [--scenario kind:SYMBOL:startMin:durationMin:movePct[:oiChangePct[:volumeMult]]]...

Writes a realistic Bybit v5 tape (tickers snapshot + deltas, publicTrade batches, allLiquidation) for N
simulated symbols (SYM001USDT…, plus BTCUSDT/ETHUSDT with --majors), deterministic for a seed. kind is pump,
dump or quiet; times are minutes from the start. Example:
  whalestack simulate --out ./tapes/demo --symbols 50 --minutes 30 --scenario pump:SYM001USDT:10:5:8:6:4`;

export const SIMULATE_OPTIONS = {
  out: { type: 'string' as const },
  symbols: { type: 'string' as const },
  minutes: { type: 'string' as const },
  seed: { type: 'string' as const },
  start: { type: 'string' as const },
  majors: { type: 'boolean' as const },
  scenario: { type: 'string' as const, multiple: true },
};

/** Parses `kind:SYMBOL:startMin:durationMin:movePct[:oiChangePct[:volumeMult]]`. */
export function parseScenario(spec: string, startMs: number): MarketScenario {
  const parts = spec.split(':');
  const [kind, symbol, startMin, durMin, move, oi, vol] = parts;
  if (parts.length < 4 || parts.length > 7 || (kind !== 'pump' && kind !== 'dump' && kind !== 'quiet') || !symbol) {
    throw new Error(`bad --scenario '${spec}': expected kind:SYMBOL:startMin:durationMin[:movePct[:oiChangePct[:volumeMult]]] with kind pump, dump or quiet`);
  }
  const num = (s: string | undefined, name: string) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n)) throw new Error(`bad --scenario '${spec}': ${name} must be a number`);
    return n;
  };
  const start = num(startMin, 'startMin')!;
  const duration = num(durMin, 'durationMin')!;
  if (!(duration > 0) || start < 0) throw new Error(`bad --scenario '${spec}': startMin ≥ 0 and durationMin > 0 are required`);
  return {
    kind,
    symbol,
    startMs: startMs + start * 60_000,
    durationMs: duration * 60_000,
    movePct: num(move, 'movePct'),
    oiChangePct: num(oi, 'oiChangePct'),
    volumeMult: num(vol, 'volumeMult'),
  };
}

/** `whalestack simulate`: returns the exit code. */
export async function simulateCommand(values: Record<string, string | boolean | string[] | undefined>): Promise<number> {
  const fail = (msg: string) => {
    process.stderr.write(`whalestack simulate: ${msg}\n`);
    return 2;
  };
  const out = values.out;
  if (typeof out !== 'string') return fail('--out <dir> is required');
  const symbols = Number(values.symbols ?? 50);
  const minutes = Number(values.minutes ?? 10);
  const seed = (values.seed as string | undefined) ?? '1';
  const startMs = values.start === undefined ? Date.UTC(2026, 0, 1) : Date.parse(values.start as string);
  if (!Number.isInteger(symbols) || symbols < 1 || symbols > 5000) return fail(`--symbols must be an integer 1..5000 (got ${String(values.symbols)})`);
  if (!(minutes > 0) || minutes > 24 * 60) return fail(`--minutes must be in (0, 1440] (got ${String(values.minutes)})`);
  if (!Number.isFinite(startMs)) return fail(`--start must be an ISO date (got ${String(values.start)})`);
  let scenarios: MarketScenario[];
  try {
    const specs = values.scenario === undefined ? [] : Array.isArray(values.scenario) ? values.scenario : [String(values.scenario)];
    scenarios = specs.map((s) => parseScenario(s, startMs));
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  const names = new Set(simSymbolNames(symbols, values.majors === true));
  const unknown = scenarios.find((s) => !names.has(s.symbol));
  if (unknown !== undefined) {
    const sims = simSymbolNames(symbols);
    return fail(`--scenario symbol ${unknown.symbol} is not simulated; with --symbols ${symbols} the symbols are ${sims[0]}…${sims.at(-1)}${values.majors === true ? ', BTCUSDT and ETHUSDT' : ' (add --majors for BTCUSDT and ETHUSDT)'}`);
  }
  const dirProblem = prepareDir(out, '--out');
  if (dirProblem !== undefined) return fail(dirProblem);
  const summary = await writeTape(
    simulateMarket({ seed, symbolCount: symbols, includeMajors: values.majors === true, startMs, durationMs: minutes * 60_000, scenarios, includeInstruments: true }),
    { dir: out, prefix: 'sim', onError: (err) => process.stderr.write(`whalestack simulate: ${err.message}\n`) },
  );
  process.stdout.write(
    `wrote ${summary.stats.records} records (${(summary.stats.bytes / 1e6).toFixed(1)} MB uncompressed) to ${summary.files.length} file(s) in ${out} in ${(summary.elapsedMs / 1000).toFixed(1)} s\n`,
  );
  return summary.stats.errors > 0 || summary.stats.dropped > 0 ? 1 : 0;
}

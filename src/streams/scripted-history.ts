import type { HistoryBar, OpenInterestReading, StoredHistory } from '../core/bar-events.js';
import { Prng } from '../core/prng.js';

/** A scripted move on one coin: price drifts by `movePct` over the span, OI by `oiPct`, volume × `volumeMult`. */
export interface BarScenario {
  readonly symbol: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly movePct: number;
  readonly oiPct: number;
  readonly volumeMult: number;
}

export interface ScriptedCoin {
  readonly symbol: string;
  readonly price: number;
  /** Open interest, contracts. */
  readonly openInterest: number;
  /** Base-coin volume of a quiet minute. */
  readonly minuteVolume: number;
  /** Standard deviation of a quiet minute's log return; default 0.0002 (0.02 %). */
  readonly noise?: number;
}

/**
 * Seeded 1-minute klines and 5-minute open-interest readings for a few coins, the stored-history counterpart of
 * the tape simulator (market-simulator.ts): a quiet random walk (0.02 % a minute) with scripted pumps and dumps on
 * top, in the shape `backfill` stores. Same inputs, same rows. Tests and the backtest bench trade on it.
 */
export function scriptedHistory(opts: { seed: string; startMs: number; days: number; coins: readonly ScriptedCoin[]; scenarios: readonly BarScenario[] }): StoredHistory[] {
  const minutes = opts.days * 1440;
  return opts.coins.map((coin) => {
    const rng = new Prng(opts.seed).fork(coin.symbol);
    const scns = opts.scenarios.filter((s) => s.symbol === coin.symbol);
    const bars: HistoryBar[] = [];
    const oi: OpenInterestReading[] = [];
    let price = coin.price;
    let openInterest = coin.openInterest;
    for (let m = 0; m < minutes; m++) {
      const t = opts.startMs + m * 60_000;
      let drift = 0;
      let oiStep = 0;
      let volMult = 1;
      for (const s of scns) {
        if (t < s.startMs || t >= s.startMs + s.durationMs) continue;
        const n = s.durationMs / 60_000;
        drift += Math.log(1 + s.movePct / 100) / n;
        oiStep += (coin.openInterest * s.oiPct) / 100 / n;
        volMult *= s.volumeMult;
      }
      const open = price;
      const close = open * Math.exp(drift + rng.normal(0, coin.noise ?? 0.0002));
      // Wicks only in quiet minutes: a scripted bar runs straight from open to close, so all its takers are on the
      // move's side (the bar replay gives a falling bar's volume to sellers) and the new OI is one-sided.
      const wick = volMult === 1 ? 0.0003 : 0;
      const high = Math.max(open, close) * (1 + Math.abs(rng.normal(0, wick)));
      const low = Math.min(open, close) * (1 - Math.abs(rng.normal(0, wick)));
      const volume = coin.minuteVolume * volMult * (0.7 + 0.6 * rng.next());
      bars.push({ startMs: t, intervalMs: 60_000, open, high, low, close, volume, turnover: (volume * (open + high + low + close)) / 4 });
      price = close;
      openInterest += oiStep + rng.normal(0, coin.openInterest * 0.00002);
      if ((m + 1) % 5 === 0) oi.push({ tsMs: t + 60_000, openInterest });
    }
    return { symbol: coin.symbol, bars, openInterest: oi, minuteBars: bars.length, hourlyBars: 0 };
  });
}

/** Monday 2026-01-05 00:00 UTC: the scripted week starts here. */
export const WEEK_START = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;

/** Three coins: AAA and CCC get scripted episodes, BBB stays quiet all week. */
export const WEEK_COINS: readonly ScriptedCoin[] = [
    { symbol: 'AAAUSDT', price: 2.5, openInterest: 40e6, minuteVolume: 20_000 },
    { symbol: 'BBBUSDT', price: 140, openInterest: 500e3, minuteVolume: 400 },
    { symbol: 'CCCUSDT', price: 0.8, openInterest: 100e6, minuteVolume: 60_000 },
];

/**
 * AAA: a 3-hour dump on rising OI (shorts pile in), then on day 1 a pump into their liquidations (a LONG);
 * CCC: the mirror on day 4 (longs pile in on a rally, then a dump: a SHORT); AAA again on day 5 (a pump
 * that fails and falls back).
 */
export function weekScenarios(startMs: number): BarScenario[] {
  const at = (day: number, hour: number): number => startMs + day * 86_400_000 + hour * HOUR;
  return [
    { symbol: 'AAAUSDT', startMs: at(0, 20), durationMs: 3 * HOUR, movePct: -12, oiPct: 40, volumeMult: 3 },
    { symbol: 'AAAUSDT', startMs: at(1, 0), durationMs: 20 * 60_000, movePct: 6, oiPct: 8, volumeMult: 6 },
    { symbol: 'AAAUSDT', startMs: at(1, 0) + 20 * 60_000, durationMs: 2 * HOUR, movePct: 15, oiPct: 5, volumeMult: 3 },
    { symbol: 'CCCUSDT', startMs: at(3, 20), durationMs: 3 * HOUR, movePct: 12, oiPct: 40, volumeMult: 3 },
    { symbol: 'CCCUSDT', startMs: at(4, 0), durationMs: 20 * 60_000, movePct: -6, oiPct: 8, volumeMult: 6 },
    { symbol: 'CCCUSDT', startMs: at(4, 0) + 20 * 60_000, durationMs: 2 * HOUR, movePct: -15, oiPct: 5, volumeMult: 3 },
    { symbol: 'AAAUSDT', startMs: at(5, 6), durationMs: 3 * HOUR, movePct: -10, oiPct: 30, volumeMult: 3 },
    { symbol: 'AAAUSDT', startMs: at(5, 12), durationMs: 20 * 60_000, movePct: 5, oiPct: 8, volumeMult: 6 },
    { symbol: 'AAAUSDT', startMs: at(5, 12) + 20 * 60_000, durationMs: 3 * HOUR, movePct: -12, oiPct: -10, volumeMult: 3 },
  ];
}

export const WEEK_SCENARIOS: readonly BarScenario[] = weekScenarios(WEEK_START);

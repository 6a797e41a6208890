import { DEFAULT_COIN_LIQUIDITY_CONFIG, type CoinLiquidityConfig } from '../core/coin-liquidity.js';
import { Prng } from '../core/prng.js';
import type { TapeRecord } from '../core/tape-record.js';

/**
 * A scripted episode for one symbol. `startMs` is epoch ms (same clock as `MarketSimOptions.startMs`).
 * pump: price rises by `movePct` over the duration; dump: falls by `movePct` (sign ignored); quiet: volatility
 * ×0.1 and trade rate × `volumeMult` (default 0.3). `oiChangePct` is signed and applied on top of normal flow.
 */
export interface MarketScenario {
  readonly symbol: string;
  readonly kind: 'pump' | 'dump' | 'quiet';
  readonly startMs: number;
  readonly durationMs: number;
  readonly movePct?: number;
  readonly oiChangePct?: number;
  readonly volumeMult?: number;
}

export interface MarketSimOptions {
  readonly seed: number | string;
  /** Number of `SYM001USDT`-style symbols. */
  readonly symbolCount: number;
  /** Put BTCUSDT and ETHUSDT first (the busiest); default false. */
  readonly includeMajors?: boolean;
  readonly startMs: number;
  readonly durationMs: number;
  readonly scenarios?: readonly MarketScenario[];
  /** Trade rate of the busiest symbol; symbol i trades at max(base, busiest / (i + 1)) per second. Default 25. */
  readonly busiestTradesPerSec?: number;
  /** Default 1. */
  readonly baseTradesPerSec?: number;
  /** Record source; default `sim`. */
  readonly source?: string;
  /** Emit an instruments-info http record (k `http`) before the snapshots; default false. */
  readonly includeInstruments?: boolean;
}

/** Per-symbol constants, independent of the seed so instruments and market agree for any seed. */
interface SymbolSpec {
  readonly symbol: string;
  readonly index: number;
  readonly priceScale: number;
  /** Tick size in units of 10^-priceScale. */
  readonly tickUnits: number;
  readonly qtyDecimals: number;
  readonly refPrice: number;
  readonly fundingIntervalHour: number;
  readonly maxLeverage: number;
  readonly launchTimeMs: number;
}

/** Where the simulated instruments reply claims to come from. */
export const SIM_INSTRUMENTS_URL = 'https://api.bybit.com/v5/market/instruments-info?category=linear&limit=1000';
const STEP_MS = 100;
const FIELDS = [
  'symbol', 'tickDirection', 'price24hPcnt', 'lastPrice', 'prevPrice24h', 'highPrice24h', 'lowPrice24h', 'prevPrice1h',
  'markPrice', 'indexPrice', 'openInterest', 'openInterestValue', 'turnover24h', 'volume24h', 'fundingIntervalHour',
  'fundingCap', 'singleOpenInterest', 'singleOpenInterestValue', 'nextFundingTime', 'fundingRate', 'bid1Price', 'bid1Size',
  'ask1Price', 'ask1Size', 'preOpenPrice', 'preQty', 'curPreListingPhase',
] as const;
const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<(typeof FIELDS)[number], number>;
const bits = (...names: (typeof FIELDS)[number][]): number => names.reduce((m, n) => m | (1 << F[n]), 0);
const TRADE_BITS = bits('tickDirection', 'price24hPcnt', 'lastPrice', 'highPrice24h', 'lowPrice24h', 'turnover24h', 'volume24h');
const OI_BITS = bits('openInterest', 'openInterestValue', 'singleOpenInterest', 'singleOpenInterestValue');
const MARK_BITS = bits('markPrice', 'indexPrice') | OI_BITS;
const BOOK_BITS = bits('bid1Price', 'bid1Size', 'ask1Price', 'ask1Size');
const ALL_BITS = (1 << FIELDS.length) - 1;

/** Symbol names in simulation order: BTCUSDT, ETHUSDT (optional), then SYM001USDT… */
export function simSymbolNames(symbolCount: number, includeMajors = false): string[] {
  const width = Math.max(3, String(symbolCount).length);
  const syms = Array.from({ length: symbolCount }, (_, i) => `SYM${String(i + 1).padStart(width, '0')}USDT`);
  return includeMajors ? ['BTCUSDT', 'ETHUSDT', ...syms] : syms;
}

/**
 * A seeded, streaming Bybit v5 linear market: per symbol a `tickers` snapshot, then 100 ms `delta`s of the
 * changed fields, `publicTrade` batches and `allLiquidation` batches (500 ms), as raw frame text in tape records
 * ordered by tsInit (= tsEvent + seeded latency; per-symbol delivery order kept, as on one connection).
 * Same options → byte-identical records. Memory is O(symbols): records are produced step by step.
 */
export function* simulateMarket(opts: MarketSimOptions): Generator<TapeRecord> {
  validateOptions(opts);
  const source = opts.source ?? 'sim';
  const names = simSymbolNames(opts.symbolCount, opts.includeMajors);
  const root = new Prng(opts.seed);
  const busiest = opts.busiestTradesPerSec ?? 25;
  const base = opts.baseTradesPerSec ?? 1;
  const heap = new RecordHeap();
  const emit = (t: number, d: string): void => heap.push({ t, s: source, d });
  const syms = names.map((name, i) => {
    const scns = (opts.scenarios ?? []).filter((s) => s.symbol === name);
    return new SimSymbol(symbolSpec(name, i), root.fork(name), Math.max(base, busiest / (i + 1)), scns, opts.startMs, emit);
  });
  if (opts.includeInstruments === true) {
    yield { t: opts.startMs, s: source, k: 'http', u: SIM_INSTRUMENTS_URL, d: simulateInstrumentsReply(opts.symbolCount, opts.includeMajors, opts.startMs) };
  }
  for (const s of syms) s.snapshot(opts.startMs);
  const steps = Math.ceil(opts.durationMs / STEP_MS);
  for (let k = 0; k < steps; k++) {
    const tStart = opts.startMs + k * STEP_MS;
    for (const s of syms) s.step(k, tStart);
    const horizon = tStart + STEP_MS;
    while (heap.size > 0 && heap.peekT() < horizon) yield heap.pop();
  }
  while (heap.size > 0) yield heap.pop();
}

/** The instruments-info `result.list` entries (Bybit v5 shape, strings) for the simulated symbols. */
export function simulateInstruments(symbolCount: number, includeMajors = false): Record<string, unknown>[] {
  return simSymbolNames(symbolCount, includeMajors).map((name, i) => {
    const sp = symbolSpec(name, i);
    const tick = sp.tickUnits * 10 ** -sp.priceScale;
    const qtyStep = 10 ** -sp.qtyDecimals;
    const maxQty = Math.max(1, Math.round(5e6 / sp.refPrice / qtyStep)) * qtyStep;
    return {
      symbol: name, contractType: 'LinearPerpetual', status: 'Trading', baseCoin: name.slice(0, -4), quoteCoin: 'USDT',
      launchTime: String(sp.launchTimeMs), deliveryTime: '0', deliveryFeeRate: '', priceScale: String(sp.priceScale),
      leverageFilter: { minLeverage: '1', maxLeverage: sp.maxLeverage.toFixed(2), leverageStep: '0.01' },
      priceFilter: { minPrice: tick.toFixed(sp.priceScale), maxPrice: (tick * 19999998).toFixed(sp.priceScale), tickSize: tick.toFixed(sp.priceScale) },
      lotSizeFilter: {
        maxOrderQty: maxQty.toFixed(sp.qtyDecimals), minOrderQty: qtyStep.toFixed(sp.qtyDecimals), qtyStep: qtyStep.toFixed(sp.qtyDecimals),
        postOnlyMaxOrderQty: maxQty.toFixed(sp.qtyDecimals), maxMktOrderQty: (maxQty / 5).toFixed(sp.qtyDecimals), minNotionalValue: '5',
      },
      unifiedMarginTrade: true, fundingInterval: sp.fundingIntervalHour * 60, settleCoin: 'USDT', copyTrading: 'both',
      upperFundingRate: fundingCap(sp), lowerFundingRate: '-' + fundingCap(sp), isPreListing: false, preListingInfo: null,
      riskParameters: { priceLimitRatioX: '0.05', priceLimitRatioY: '0.1' }, displayName: '', symbolType: '', forbidUplWithdrawal: false,
      symbolId: 1000 + i,
    };
  });
}

/** A complete `/v5/market/instruments-info` reply body for the simulated symbols. */
export function simulateInstrumentsReply(symbolCount: number, includeMajors = false, timeMs = 0): string {
  const result = { category: 'linear', list: simulateInstruments(symbolCount, includeMajors), nextPageCursor: '' };
  return JSON.stringify({ retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: timeMs });
}

function symbolSpec(symbol: string, index: number): SymbolSpec {
  if (symbol === 'BTCUSDT') return { symbol, index, priceScale: 2, tickUnits: 10, qtyDecimals: 3, refPrice: 65000, fundingIntervalHour: 8, maxLeverage: 100, launchTimeMs: 1585526400000 };
  if (symbol === 'ETHUSDT') return { symbol, index, priceScale: 2, tickUnits: 1, qtyDecimals: 2, refPrice: 1900, fundingIntervalHour: 8, maxLeverage: 100, launchTimeMs: 1615766400000 };
  const r = new Prng('whalestack-sim-instruments').fork(symbol);
  const refPrice = 10 ** (r.next() * 5.7 - 3);
  const priceScale = Math.min(8, Math.max(0, Math.ceil(-Math.log10(refPrice * 1e-3))));
  const qtyDecimals = Math.min(3, Math.max(0, Math.ceil(Math.log10(refPrice)) + 1));
  const launchTimeMs = 1640995200000 + r.nextInt(0, 1200) * 86_400_000;
  return { symbol, index, priceScale, tickUnits: 1, qtyDecimals, refPrice, fundingIntervalHour: r.chance(0.6) ? 4 : 8, maxLeverage: [25, 50, 75][r.nextInt(0, 3)] ?? 25, launchTimeMs };
}

function fundingCap(sp: SymbolSpec): string {
  return sp.maxLeverage >= 100 ? '0.005' : sp.maxLeverage >= 50 ? '0.01' : '0.02';
}

interface ActiveScenario {
  readonly kind: MarketScenario['kind'];
  readonly firstStepMs: number;
  readonly endMs: number;
  readonly steps: number;
  readonly logMovePerStep: number;
  readonly oiChangePct: number;
  readonly volumeMult: number;
  readonly liqPerSec: number;
  oiBase: number;
}

/** State and step function of one symbol. Prices are integers in units of 10^-priceScale. */
class SimSymbol {
  private fairLog: number;
  private readonly volStep: number;
  private readonly scale: number;
  private lastUnits: number;
  private lastDir = 'ZeroPlusTick';
  private readonly prev24Units: number;
  private prev1hUnits: number;
  private highUnits: number;
  private lowUnits: number;
  private markUnits = 0;
  private indexUnits = 0;
  private oi: number;
  private fundingRate: number;
  private nextFundingMs: number;
  private bidUnits = 0;
  private bidSteps = 0;
  private askSteps = 0;
  private volume24h: number;
  private turnover24h: number;
  private cs: number;
  private lastTsInit = 0;
  private readonly sent: string[] = [];
  private pendingLiqs: string[] = [];
  private readonly medianTradeUsd: number;
  private readonly head: string;

  constructor(
    private readonly sp: SymbolSpec,
    private readonly rng: Prng,
    private readonly tradesPerSec: number,
    scenarios: readonly MarketScenario[],
    simStartMs: number,
    private readonly emit: (t: number, d: string) => void,
  ) {
    const price = sp.refPrice * Math.exp(rng.normal(0, 0.1));
    this.scale = 10 ** sp.priceScale;
    this.fairLog = Math.log(price);
    this.volStep = (sp.symbol === 'BTCUSDT' || sp.symbol === 'ETHUSDT' ? 0.025 : 0.06) / Math.sqrt(864_000);
    this.lastUnits = this.toTick(price);
    this.prev24Units = this.toTick(price * Math.exp(rng.normal(0, 0.03)));
    this.prev1hUnits = this.toTick(price * Math.exp(rng.normal(0, 0.01)));
    this.highUnits = this.toTick(Math.max(price, this.prev24Units / this.scale) * (1 + rng.next() * 0.03));
    this.lowUnits = this.toTick(Math.min(price, this.prev24Units / this.scale) * (1 - rng.next() * 0.03));
    const oiUsd = sp.symbol === 'BTCUSDT' ? 4e9 : sp.symbol === 'ETHUSDT' ? 2e9 : 2e8 / (sp.index + 1) ** 0.8 + 2e6 * (1 + rng.next());
    this.oi = oiUsd / price;
    this.turnover24h = oiUsd * (0.5 + 2.5 * rng.next());
    this.volume24h = this.turnover24h / price;
    this.fundingRate = Math.round(rng.normal(1e-4, 1e-4) * 1e8) / 1e8;
    const intervalMs = sp.fundingIntervalHour * 3_600_000;
    this.nextFundingMs = (Math.floor(simStartMs / intervalMs) + 1) * intervalMs;
    this.cs = 1e11 + rng.nextInt(0, 2 ** 32) * 100;
    this.medianTradeUsd = 150 * Math.sqrt(tradesPerSec);
    this.head = '{"topic":"tickers.' + sp.symbol + '","type":';
    this.moveMarks();
    this.moveBook(true);
    this.scenarios = scenarios.map((s) => activeScenario(s, simStartMs));
  }

  private readonly scenarios: ActiveScenario[];

  snapshot(tsMs: number): void {
    this.emitTicker('snapshot', tsMs, ALL_BITS);
  }

  step(k: number, tStart: number): void {
    const tEnd = tStart + STEP_MS;
    const rng = this.rng;
    let drift = 0;
    let volScale = 1;
    let rateMult = 1;
    let buyBias = 0;
    let liqPerSec = 0.004 * this.tradesPerSec;
    let dirty = 0;
    for (const sc of this.scenarios) {
      if (tStart < sc.firstStepMs || tStart >= sc.endMs) continue;
      if (Number.isNaN(sc.oiBase)) sc.oiBase = this.oi;
      drift += sc.logMovePerStep;
      rateMult *= sc.volumeMult;
      liqPerSec += sc.liqPerSec;
      volScale *= sc.kind === 'quiet' ? 0.1 : 1.5;
      buyBias += sc.kind === 'pump' ? 0.15 : sc.kind === 'dump' ? -0.15 : 0;
      if (sc.oiChangePct !== 0) {
        this.oi += (sc.oiBase * sc.oiChangePct) / 100 / sc.steps;
        dirty |= OI_BITS;
      }
    }
    const shock = rng.normal(0, this.volStep * volScale);
    this.fairLog += drift + shock;
    if (buyBias === 0) buyBias = Math.max(-0.1, Math.min(0.1, (shock / this.volStep) * 0.05));
    if ((k + this.sp.index) % 10 === 0) {
      this.moveMarks();
      dirty |= MARK_BITS;
    }
    if (this.moveBook(false)) dirty |= BOOK_BITS;

    const frames = rng.poisson((this.tradesPerSec * rateMult * STEP_MS) / 1000 / 1.6);
    if (frames > 0) dirty |= TRADE_BITS | OI_BITS;
    for (const t of sortedTimes(rng, frames, tStart)) this.tradeFrame(t, 0.5 + buyBias);

    const liqs = rng.poisson((liqPerSec * STEP_MS) / 1000);
    for (const t of sortedTimes(rng, liqs, tStart)) this.liquidation(t, buyBias);
    if ((k + 1) % 5 === 0 && this.pendingLiqs.length > 0) {
      this.send(tEnd, '{"topic":"allLiquidation.' + this.sp.symbol + '","type":"snapshot","ts":' + tEnd + ',"data":[' + this.pendingLiqs.join(',') + ']}');
      this.pendingLiqs = [];
    }
    if (tEnd >= this.nextFundingMs) {
      this.nextFundingMs += this.sp.fundingIntervalHour * 3_600_000;
      dirty |= bits('nextFundingTime');
    }
    if ((k + this.sp.index * 7) % 600 === 0) {
      const cap = Number(fundingCap(this.sp));
      this.fundingRate = Math.max(-cap, Math.min(cap, Math.round((this.fundingRate + rng.normal(0, 2e-5)) * 1e8) / 1e8));
      dirty |= bits('fundingRate');
    }
    if (Math.floor(tEnd / 3_600_000) > Math.floor(tStart / 3_600_000)) {
      this.prev1hUnits = this.lastUnits;
      dirty |= bits('prevPrice1h');
    }
    if (dirty !== 0) this.emitTicker('delta', tEnd, dirty);
  }

  private tradeFrame(tMs: number, pBuy: number): void {
    const rng = this.rng;
    const buy = rng.chance(pBuy);
    const fills = 1 + Math.min(20, Math.floor(rng.exponential(0.6)));
    const tick = this.sp.tickUnits;
    let units = buy ? this.bidUnits + tick : this.bidUnits;
    this.cs += rng.nextInt(100, 5000);
    const items: string[] = [];
    for (let i = 0; i < fills; i++) {
      if (i > 0 && rng.chance(0.3)) units = Math.max(tick, units + (buy ? tick : -tick));
      const steps = this.qtySteps(this.medianTradeUsd, 1.1);
      const qty = steps / 10 ** this.sp.qtyDecimals;
      const price = units / this.scale;
      this.lastDir = units > this.lastUnits ? 'PlusTick' : units < this.lastUnits ? 'MinusTick' : this.lastDir.endsWith('PlusTick') ? 'ZeroPlusTick' : 'ZeroMinusTick';
      this.lastUnits = units;
      if (units > this.highUnits) this.highUnits = units;
      if (units < this.lowUnits) this.lowUnits = units;
      this.volume24h += qty;
      this.turnover24h += qty * price;
      this.oi = Math.max(this.oi * 0.5, this.oi + qty * (rng.next() - 0.5) * 0.6);
      items.push(
        '{"T":' + tMs + ',"s":"' + this.sp.symbol + '","S":"' + (buy ? 'Buy' : 'Sell') + '","v":"' + fmtScaled(steps, this.sp.qtyDecimals) +
          '","p":"' + fmtScaled(units, this.sp.priceScale) + '","L":"' + this.lastDir + '","i":"' + uuid(rng) + '","BT":false,"RPI":false,"seq":' + this.cs + '}',
      );
    }
    this.send(tMs + 1, '{"topic":"publicTrade.' + this.sp.symbol + '","type":"snapshot","ts":' + (tMs + 1) + ',"data":[' + items.join(',') + ']}');
  }

  /** `bias` > 0 (buyers pushing up) liquidates shorts: S = "Sell" is the side of the liquidated position. */
  private liquidation(tMs: number, bias: number): void {
    const rng = this.rng;
    const short = rng.chance(0.5 + bias * 3);
    const units = this.toTick(Math.exp(this.fairLog) * (1 + (short ? 1 : -1) * (0.003 + 0.007 * rng.next())));
    const steps = this.qtySteps(2000, 1.2);
    this.pendingLiqs.push(
      '{"T":' + tMs + ',"s":"' + this.sp.symbol + '","S":"' + (short ? 'Sell' : 'Buy') + '","v":"' + fmtScaled(steps, this.sp.qtyDecimals) + '","p":"' + fmtScaled(units, this.sp.priceScale) + '"}',
    );
  }

  private emitTicker(type: 'snapshot' | 'delta', tsMs: number, mask: number): void {
    let body = '"symbol":"' + this.sp.symbol + '"';
    let changed = 0;
    for (let i = 1; i < FIELDS.length; i++) {
      if ((mask & (1 << i)) === 0) continue;
      const v = this.field(i);
      if (type === 'delta' && v === this.sent[i]) continue;
      this.sent[i] = v;
      body += ',"' + FIELDS[i] + '":"' + v + '"';
      changed++;
    }
    if (changed === 0) return;
    this.cs += this.rng.nextInt(100, 5000);
    this.send(tsMs, this.head + '"' + type + '","data":{' + body + '},"cs":' + this.cs + ',"ts":' + tsMs + '}');
  }

  private field(i: number): string {
    const ps = this.sp.priceScale;
    const qd = this.sp.qtyDecimals;
    const mark = this.markUnits / this.scale;
    switch (FIELDS[i]) {
      case 'tickDirection': return this.lastDir;
      case 'price24hPcnt': return trimFixed(this.lastUnits / this.prev24Units - 1, 6);
      case 'lastPrice': return fmtScaled(this.lastUnits, ps);
      case 'prevPrice24h': return fmtScaled(this.prev24Units, ps);
      case 'highPrice24h': return fmtScaled(this.highUnits, ps);
      case 'lowPrice24h': return fmtScaled(this.lowUnits, ps);
      case 'prevPrice1h': return fmtScaled(this.prev1hUnits, ps);
      case 'markPrice': return fmtScaled(this.markUnits, ps);
      case 'indexPrice': return fmtScaled(this.indexUnits, ps);
      case 'openInterest': return this.oi.toFixed(qd);
      case 'openInterestValue': return (this.oi * mark).toFixed(2);
      case 'turnover24h': return this.turnover24h.toFixed(4);
      case 'volume24h': return this.volume24h.toFixed(4);
      case 'fundingIntervalHour': return String(this.sp.fundingIntervalHour);
      case 'fundingCap': return fundingCap(this.sp);
      case 'singleOpenInterest': return (this.oi / 2).toFixed(qd);
      case 'singleOpenInterestValue': return ((this.oi / 2) * mark).toFixed(2);
      case 'nextFundingTime': return String(this.nextFundingMs);
      case 'fundingRate': return trimFixed(this.fundingRate, 8);
      case 'bid1Price': return fmtScaled(this.bidUnits, ps);
      case 'bid1Size': return fmtScaled(this.bidSteps, qd);
      case 'ask1Price': return fmtScaled(this.bidUnits + this.sp.tickUnits, ps);
      case 'ask1Size': return fmtScaled(this.askSteps, qd);
      default: return '';
    }
  }

  private send(tsEventMs: number, d: string): void {
    const latencyMs = 1.5 + Math.min(80, this.rng.exponential(4));
    const t = Math.max(this.lastTsInit, Math.round((tsEventMs + latencyMs) * 1000) / 1000);
    this.lastTsInit = t;
    this.emit(t, d);
  }

  private moveMarks(): void {
    const fair = Math.exp(this.fairLog);
    this.markUnits = Math.max(1, Math.round(fair * (1 + this.rng.normal(0, 5e-5)) * this.scale));
    this.indexUnits = Math.max(1, Math.round(fair * (1 + this.rng.normal(0, 2e-4)) * this.scale));
  }

  /** Best bid follows the fair price; sizes are redrawn when the level moves, and now and then anyway. */
  private moveBook(force: boolean): boolean {
    const bid = this.toTick(Math.exp(this.fairLog));
    const rng = this.rng;
    const depthUsd = this.medianTradeUsd * 30;
    if (force || bid !== this.bidUnits) {
      this.bidUnits = bid;
      this.bidSteps = this.qtySteps(depthUsd, 0.8);
      this.askSteps = this.qtySteps(depthUsd, 0.8);
      return true;
    }
    if (!rng.chance(0.04 + Math.min(0.25, this.tradesPerSec / 80))) return false;
    if (rng.chance(0.5)) this.bidSteps = this.qtySteps(depthUsd, 0.8);
    else this.askSteps = this.qtySteps(depthUsd, 0.8);
    return true;
  }

  /** A lognormal notional around `medianUsd`, as a whole number of qty steps (at least one). */
  private qtySteps(medianUsd: number, sigma: number): number {
    const usd = Math.exp(Math.log(medianUsd) + this.rng.normal(0, sigma));
    return Math.max(1, Math.round((usd / Math.exp(this.fairLog)) * 10 ** this.sp.qtyDecimals));
  }

  private toTick(price: number): number {
    const t = this.sp.tickUnits;
    return Math.max(t, Math.floor((price * this.scale) / t) * t);
  }
}

function activeScenario(s: MarketScenario, simStartMs: number): ActiveScenario {
  const firstStepMs = simStartMs + Math.max(0, Math.ceil((s.startMs - simStartMs) / STEP_MS)) * STEP_MS;
  const endMs = s.startMs + s.durationMs;
  const steps = Math.max(1, Math.ceil((endMs - firstStepMs) / STEP_MS));
  const move = Math.abs(s.movePct ?? (s.kind === 'quiet' ? 0 : 5)) / 100;
  const logMove = s.kind === 'pump' ? Math.log(1 + move) : s.kind === 'dump' ? Math.log(1 - Math.min(move, 0.99)) : 0;
  const liqPerSec = s.kind === 'quiet' ? 0 : move * 100 * 0.4;
  return {
    kind: s.kind, firstStepMs, endMs, steps, logMovePerStep: logMove / steps, oiChangePct: s.oiChangePct ?? 0,
    volumeMult: s.volumeMult ?? (s.kind === 'quiet' ? 0.3 : 1), liqPerSec, oiBase: Number.NaN,
  };
}

function validateOptions(o: MarketSimOptions): void {
  const bad = (what: string): never => {
    throw new Error(`simulateMarket: ${what}`);
  };
  if (!Number.isInteger(o.symbolCount) || o.symbolCount < 0) bad(`symbolCount must be an integer >= 0, got ${o.symbolCount}`);
  if (!Number.isFinite(o.startMs) || o.startMs < 0) bad(`startMs must be finite and >= 0, got ${o.startMs}`);
  if (!Number.isFinite(o.durationMs) || o.durationMs < 0) bad(`durationMs must be finite and >= 0, got ${o.durationMs}`);
  const names = new Set(simSymbolNames(o.symbolCount, o.includeMajors));
  for (const s of o.scenarios ?? []) {
    if (!names.has(s.symbol)) bad(`scenario symbol ${s.symbol} is not simulated`);
    if (!(s.durationMs > 0) || !Number.isFinite(s.startMs)) bad(`scenario for ${s.symbol} needs startMs and durationMs > 0`);
    if (s.volumeMult !== undefined && !(s.volumeMult >= 0)) bad(`scenario for ${s.symbol}: volumeMult must be >= 0`);
  }
}

const NO_TIMES: readonly number[] = [];

function sortedTimes(rng: Prng, n: number, tStart: number): readonly number[] {
  if (n === 0) return NO_TIMES;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(tStart + rng.nextInt(0, STEP_MS));
  return out.sort((a, b) => a - b);
}

/** Integer `n` in units of 10^-decimals as an exact decimal string: (6511430, 2) → "65114.30". */
function fmtScaled(n: number, decimals: number): string {
  if (decimals === 0) return String(n);
  let s = String(Math.abs(n));
  if (s.length <= decimals) s = '0'.repeat(decimals - s.length + 1) + s;
  return (n < 0 ? '-' : '') + s.slice(0, s.length - decimals) + '.' + s.slice(s.length - decimals);
}

/** Fixed decimals without trailing zeros, as Bybit prints rates: 0.0001, -0.006899. */
function trimFixed(x: number, decimals: number): string {
  const s = x.toFixed(decimals).replace(/\.?0+$/, '');
  return s === '-0' || s === '' ? '0' : s;
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A v5-looking UUID (Bybit's trade ids have that shape) drawn from the seeded generator. */
function uuid(rng: Prng): string {
  const h = (x: number): string => (HEX2[x >>> 24] as string) + HEX2[(x >>> 16) & 255] + HEX2[(x >>> 8) & 255] + HEX2[x & 255];
  const a = h(rng.nextUint32());
  const b = h(rng.nextUint32());
  const c = h(rng.nextUint32());
  const d = h(rng.nextUint32());
  return a + '-' + b.slice(0, 4) + '-5' + b.slice(5) + '-' + '89ab'[c.charCodeAt(0) & 3] + c.slice(1, 4) + '-' + c.slice(4) + d;
}

/** Min-heap of records by (t, insertion order), so equal tsInit keep generation order. */
class RecordHeap {
  private readonly items: { rec: TapeRecord; seq: number }[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  peekT(): number {
    return this.items[0]?.rec.t ?? Infinity;
  }

  push(rec: TapeRecord): void {
    const a = this.items;
    a.push({ rec, seq: this.seq++ });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): TapeRecord {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top.rec;
  }
}

function less(x: { rec: TapeRecord; seq: number }, y: { rec: TapeRecord; seq: number }): boolean {
  return x.rec.t < y.rec.t || (x.rec.t === y.rec.t && x.seq < y.seq);
}

/**
 * Liquidity settings for engines fed a simulated market. A simulated tape holds under an hour of new open
 * interest and no bootstrap, so its estimated clusters are about $1M, far under every founder floor ($10M+);
 * scenarios that exercise the mechanics (estimate → ranking → arm → trigger → trade) therefore take significance
 * from each coin's learned typical size (`learned: 'replace'`). The floors themselves are tested separately.
 */
export const SIMULATED_MARKET_LIQUIDITY: CoinLiquidityConfig = {
  ...DEFAULT_COIN_LIQUIDITY_CONFIG,
  evaluation: {
    ...DEFAULT_COIN_LIQUIDITY_CONFIG.evaluation,
    significance: { ...DEFAULT_COIN_LIQUIDITY_CONFIG.evaluation.significance, learned: 'replace' },
  },
};

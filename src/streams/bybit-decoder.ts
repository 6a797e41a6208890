import type { LiquidationsOccurred, MarketEvent, RealizedLiquidation, TickerUpdated, TradesPrinted } from '../core/events.js';
import { TICKER_NUMERIC_FIELDS, emptyTickerState, parseDecimal, type TickerNumericField, type TickerState } from '../core/ticker-state.js';
import { BybitFrameScanner, SCAN_TICKER } from './bybit-scanner.js';

/** Why a frame was refused. Every refusal is counted; none throws. */
export type BadFrameReason = 'json' | 'envelope' | 'ticker' | 'trade' | 'liquidation' | 'symbol-mismatch' | 'delta-before-snapshot' | 'event-time';

export const BAD_FRAME_REASONS: readonly BadFrameReason[] = ['json', 'envelope', 'ticker', 'trade', 'liquidation', 'symbol-mismatch', 'delta-before-snapshot', 'event-time'];

/**
 * How far an exchange time (`ts`, trade/liquidation `T`) may lie from the frame's receipt time (`tsInit`) before
 * the frame is refused (reason `event-time`). Windows are keyed by event time and their head is the largest time
 * seen, so one trade stamped far ahead would move the head and make every honest event after it "too old"
 * (the coin's windows freeze); one stamped at 0 or -5 is nonsense. Relative to `tsInit`, so a replay of a
 * recorded tape judges each record against its own receipt time, exactly as live did.
 */
export interface EventTimeBand {
  /** Largest `event time - tsInit` accepted, ms. */
  readonly maxAheadMs: number;
  /** Largest `tsInit - event time` accepted, ms. */
  readonly maxBehindMs: number;
}

/**
 * Defaults (see README, Failure behaviour): Bybit stamps with NTP-synced clocks and its private API already
 * refuses requests from a host whose clock is off by more than a few seconds, so 5 s ahead covers honest skew;
 * 60 s behind covers network stalls, Bybit's own batching and a busy event loop before a frame counts as
 * history.
 */
export const DEFAULT_EVENT_TIME_BAND: EventTimeBand = { maxAheadMs: 5_000, maxBehindMs: 60_000 };

/** Whether `eventMs` is a time the band accepts for a frame received at `tsInit`. */
export function inEventTimeBand(eventMs: number, tsInit: number, band: EventTimeBand): boolean {
  return eventMs - tsInit <= band.maxAheadMs && tsInit - eventMs <= band.maxBehindMs;
}

/** Per ticker field: 0 any decimal, 1 must be ≥ 0, 2 must be > 0 (prices). `""` (no value) always passes. */
export const TICKER_FIELD_SIGN: Readonly<Partial<Record<TickerNumericField, 1 | 2>>> = {
  lastPrice: 2,
  markPrice: 2,
  indexPrice: 2,
  openInterest: 1,
  openInterestValue: 1,
  volume24h: 1,
  turnover24h: 1,
};
const SIGN_BY_INDEX = Int8Array.from(TICKER_NUMERIC_FIELDS, (f) => TICKER_FIELD_SIGN[f] ?? 0);

export interface DecoderCounters {
  frames: number;
  /** Ticker frames that changed a field the actors use (and so became an event). */
  tickers: number;
  /** Ticker deltas merged into state that changed nothing the actors use (book top, 24 h figures…): no event. */
  tickersQuiet: number;
  trades: number;
  liquidations: number;
  control: number;
  ignoredTopics: number;
  bad: Record<BadFrameReason, number>;
}

export interface BybitDecoderOptions {
  /** Told about every refused frame (rate-limit logging there, not here). */
  readonly onBadFrame?: (reason: BadFrameReason, detail: string, text: string) => void;
  /** Event times outside this band around receipt time are refused; default {@link DEFAULT_EVENT_TIME_BAND}. */
  readonly eventTimeBand?: EventTimeBand;
  /**
   * Read ticker and trade frames with the text scanner (`bybit-scanner.ts`) before falling back to
   * `JSON.parse`; default true. Off only to compare the two paths (tests, bench).
   */
  readonly scanner?: boolean;
}

const FIELD_INDEX = new Map<string, number>(TICKER_NUMERIC_FIELDS.map((f, i) => [f, i]));
/** Merged fields that `TickerUpdated` carries; a delta touching none of them raises no event. */
const EVENT_FIELDS: ReadonlySet<string> = new Set<TickerNumericField>(['lastPrice', 'markPrice', 'openInterest', 'openInterestValue', 'fundingRate']);
const IS_EVENT_FIELD = Uint8Array.from(TICKER_NUMERIC_FIELDS, (f) => (EVENT_FIELDS.has(f) ? 1 : 0));

/**
 * Turns raw Bybit v5 public linear frames into market events. Hand-written validation keeps the hot path at
 * one `JSON.parse` plus field checks; `bybit-schemas.ts` states the same contract in zod and a property test
 * holds the two to the same verdicts.
 */
export class BybitDecoder {
  readonly counters: DecoderCounters = {
    frames: 0,
    tickers: 0,
    tickersQuiet: 0,
    trades: 0,
    liquidations: 0,
    control: 0,
    ignoredTopics: 0,
    bad: { json: 0, envelope: 0, ticker: 0, trade: 0, liquidation: 0, 'symbol-mismatch': 0, 'delta-before-snapshot': 0, 'event-time': 0 },
  };
  private readonly tickers = new Map<string, TickerState>();
  private readonly scratchValues = new Float64Array(TICKER_NUMERIC_FIELDS.length);
  private readonly scratchIdx = new Int32Array(TICKER_NUMERIC_FIELDS.length);

  private readonly maxAheadMs: number;
  private readonly maxBehindMs: number;
  private readonly scanner: BybitFrameScanner | undefined;
  /** Frames the text scanner read without `JSON.parse` (the rest of `counters.frames` took the JSON path). */
  scanHits = 0;

  constructor(private readonly opts: BybitDecoderOptions = {}) {
    const band = opts.eventTimeBand ?? DEFAULT_EVENT_TIME_BAND;
    this.maxAheadMs = band.maxAheadMs;
    this.maxBehindMs = band.maxBehindMs;
    this.scanner = opts.scanner === false ? undefined : new BybitFrameScanner(this.scratchIdx, this.scratchValues, SIGN_BY_INDEX, this.maxAheadMs, this.maxBehindMs);
  }

  /** Merged ticker state of `symbol`, or undefined before its first snapshot. */
  tickerState(symbol: string): Readonly<TickerState> | undefined {
    return this.tickers.get(symbol);
  }

  /** Forgets merged state (e.g. a delisted symbol). */
  forget(symbol: string): void {
    this.tickers.delete(symbol);
  }

  get badFrames(): number {
    let n = 0;
    for (const r of BAD_FRAME_REASONS) n += this.counters.bad[r];
    return n;
  }

  /** Decodes one frame; emits zero or one event through `out`. Never throws on frame content. */
  decode(text: string, tsInit: number, out: (event: MarketEvent) => void): void {
    this.counters.frames++;
    if (this.scanner !== undefined && this.scanned(this.scanner, text, tsInit, out)) return;
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return this.bad('json', 'not JSON', text);
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return this.bad('envelope', 'not an object', text);
    const f = frame as Record<string, unknown>;
    const topic = f.topic;
    if (typeof topic !== 'string') {
      if (typeof f.op === 'string') {
        this.counters.control++;
        return;
      }
      return this.bad('envelope', 'no topic', text);
    }
    const dot = topic.indexOf('.');
    const symbol = topic.slice(dot + 1);
    const ts = f.ts;
    if (typeof ts !== 'number' || !Number.isFinite(ts) || dot < 0 || symbol.length === 0) {
      return this.bad('envelope', `bad ts or topic ${topic}`, text);
    }
    let ev: MarketEvent | string;
    // Compare the prefix in place rather than slicing a string per frame.
    const kind = dot === 7 && topic.startsWith('tickers') ? 'tickers' : dot === 11 && topic.startsWith('publicTrade') ? 'publicTrade' : dot === 14 && topic.startsWith('allLiquidation') ? 'allLiquidation' : '';
    if (kind !== '' && (ts - tsInit > this.maxAheadMs || tsInit - ts > this.maxBehindMs)) {
      return this.bad('event-time', `ts ${ts} is ${ts - tsInit} ms from receipt`, text);
    }
    switch (kind) {
      case 'tickers':
        {
          const t = this.ticker(symbol, f, ts, tsInit);
          if (t === undefined) {
            this.counters.tickersQuiet++;
            return;
          }
          ev = t;
        }
        if (typeof ev === 'string') return this.bad(ev === 'delta-before-snapshot' || ev === 'symbol-mismatch' ? ev : 'ticker', ev, text);
        this.counters.tickers++;
        break;
      case 'publicTrade':
        ev = this.trades(symbol, f.data, tsInit);
        if (typeof ev === 'string') return this.bad(ev === 'symbol-mismatch' || ev === 'event-time' ? ev : 'trade', ev, text);
        this.counters.trades++;
        break;
      case 'allLiquidation':
        ev = this.liquidations(symbol, f.data, ts, tsInit);
        if (typeof ev === 'string') return this.bad(ev === 'symbol-mismatch' || ev === 'event-time' ? ev : 'liquidation', ev, text);
        this.counters.liquidations++;
        break;
      default:
        this.counters.ignoredTopics++;
        return;
    }
    out(ev);
  }

  /** The scanner's fast path: true when the frame was accepted and handled, false to take the JSON path. */
  private scanned(sc: BybitFrameScanner, text: string, tsInit: number, out: (event: MarketEvent) => void): boolean {
    if (!sc.scan(text, tsInit)) return false;
    if (sc.kind === SCAN_TICKER) {
      if (!sc.snapshot && !this.tickers.has(sc.symbol)) return false;
      this.scanHits++;
      const ev = this.commitTicker(sc.symbol, sc.snapshot, sc.ts, sc.cs, sc.fields, tsInit);
      if (ev === undefined) {
        this.counters.tickersQuiet++;
        return true;
      }
      this.counters.tickers++;
      out(ev);
      return true;
    }
    this.scanHits++;
    this.counters.trades++;
    out({ kind: 'trades', symbol: sc.symbol, tsEvent: sc.tsEvent, tsInit, count: sc.count, buyQty: sc.buyQty, sellQty: sc.sellQty, buyTurnoverUsd: sc.buyUsd, sellTurnoverUsd: sc.sellUsd, lastPrice: sc.lastPrice });
    return true;
  }

  private bad(reason: BadFrameReason, detail: string, text: string): void {
    this.counters.bad[reason]++;
    this.opts.onBadFrame?.(reason, detail, text);
  }

  /**
   * Merges one ticker frame. Returns the event, an error string, or undefined for a delta that changed none of
   * the fields the actors use: most deltas only move the book top, and skipping them halves the actor work.
   */
  private ticker(symbol: string, f: Record<string, unknown>, ts: number, tsInit: number): TickerUpdated | string | undefined {
    const type = f.type;
    const data = f.data;
    if (type !== 'snapshot' && type !== 'delta') return `ticker type ${String(type)}`;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'ticker data not an object';
    const d = data as Record<string, unknown>;
    if (d.symbol !== symbol) return 'symbol-mismatch';
    const cs = f.cs;
    if (cs !== undefined && typeof cs !== 'number') return 'ticker cs';
    let state = this.tickers.get(symbol);
    if (type === 'delta' && state === undefined) return 'delta-before-snapshot';
    // Parse every field first so a bad field refuses the frame without touching the state.
    let n = 0;
    for (const key in d) {
      const idx = FIELD_INDEX.get(key);
      if (idx === undefined) continue;
      const v = parseDecimal(d[key]);
      if (v === undefined) return `ticker field ${key}`;
      const sign = SIGN_BY_INDEX[idx]!;
      if (sign !== 0 && (sign === 2 ? v <= 0 : v < 0)) return `ticker field ${key} not ${sign === 2 ? 'positive' : 'non-negative'}`;
      this.scratchIdx[n] = idx;
      this.scratchValues[n] = v;
      n++;
    }
    return this.commitTicker(symbol, type === 'snapshot', ts, cs ?? NaN, n, tsInit);
  }

  /**
   * Merges `n` validated fields (in the scratch arrays) into the symbol's state; both the scanner and the JSON
   * path end here, so they merge alike. `cs` NaN = the frame had none. A delta's state must exist.
   */
  private commitTicker(symbol: string, snapshot: boolean, ts: number, cs: number, n: number, tsInit: number): TickerUpdated | undefined {
    let state = this.tickers.get(symbol);
    if (state === undefined) {
      state = emptyTickerState(symbol);
      this.tickers.set(symbol, state);
    }
    let relevant = snapshot;
    if (snapshot) {
      for (const field of TICKER_NUMERIC_FIELDS) state[field] = NaN;
      state.snapshots++;
    } else {
      state.deltas++;
    }
    for (let i = 0; i < n; i++) {
      const idx = this.scratchIdx[i]!;
      const field = TICKER_NUMERIC_FIELDS[idx] as TickerNumericField;
      const value = this.scratchValues[i]!;
      if (!relevant && IS_EVENT_FIELD[idx] === 1 && !Object.is(state[field], value)) relevant = true;
      state[field] = value;
    }
    state.tsEvent = ts;
    if (!Number.isNaN(cs)) state.cs = cs;
    if (!relevant) return undefined;
    return {
      kind: 'ticker',
      symbol,
      tsEvent: ts,
      tsInit,
      lastPrice: state.lastPrice,
      markPrice: state.markPrice,
      openInterest: state.openInterest,
      openInterestValue: state.openInterestValue,
      fundingRate: state.fundingRate,
    };
  }

  private trades(symbol: string, data: unknown, tsInit: number): TradesPrinted | string {
    if (!Array.isArray(data) || data.length === 0) return 'trade data not a non-empty array';
    let buyQty = 0;
    let sellQty = 0;
    let buyUsd = 0;
    let sellUsd = 0;
    let tsEvent = -Infinity;
    let lastPrice = NaN;
    for (const item of data) {
      if (typeof item !== 'object' || item === null) return 'trade item not an object';
      const t = item as Record<string, unknown>;
      if (t.s !== symbol) return 'symbol-mismatch';
      const T = t.T;
      const qty = parseDecimal(t.v);
      const price = parseDecimal(t.p);
      if (typeof T !== 'number' || !Number.isFinite(T)) return 'trade T';
      if (T - tsInit > this.maxAheadMs || tsInit - T > this.maxBehindMs) return 'event-time';
      if (qty === undefined || !(qty > 0) || price === undefined || !(price > 0)) return 'trade v/p';
      if (t.S === 'Buy') {
        buyQty += qty;
        buyUsd += qty * price;
      } else if (t.S === 'Sell') {
        sellQty += qty;
        sellUsd += qty * price;
      } else return 'trade S';
      if (T >= tsEvent) {
        tsEvent = T;
        lastPrice = price;
      }
    }
    return { kind: 'trades', symbol, tsEvent, tsInit, count: data.length, buyQty, sellQty, buyTurnoverUsd: buyUsd, sellTurnoverUsd: sellUsd, lastPrice };
  }

  private liquidations(symbol: string, data: unknown, ts: number, tsInit: number): LiquidationsOccurred | string {
    // The docs' table says object, their example says array: accept both.
    const list = Array.isArray(data) ? data : typeof data === 'object' && data !== null ? [data] : undefined;
    if (list === undefined || list.length === 0) return 'liquidation data missing';
    const items: RealizedLiquidation[] = [];
    let longUsd = 0;
    let shortUsd = 0;
    for (const item of list) {
      if (typeof item !== 'object' || item === null) return 'liquidation item not an object';
      const l = item as Record<string, unknown>;
      if (l.s !== symbol) return 'symbol-mismatch';
      const T = l.T;
      const qty = parseDecimal(l.v);
      const price = parseDecimal(l.p);
      if (typeof T !== 'number' || !Number.isFinite(T)) return 'liquidation T';
      if (T - tsInit > this.maxAheadMs || tsInit - T > this.maxBehindMs) return 'event-time';
      if (qty === undefined || !(qty > 0) || price === undefined || !(price > 0)) return 'liquidation v/p';
      // S is the side of the liquidated position: Buy = a long was liquidated.
      const side = l.S === 'Buy' ? 'long' : l.S === 'Sell' ? 'short' : undefined;
      if (side === undefined) return 'liquidation S';
      const usd = qty * price;
      if (side === 'long') longUsd += usd;
      else shortUsd += usd;
      items.push({ tsEvent: T, side, price, qty, usd });
    }
    return { kind: 'liquidations', symbol, tsEvent: ts, tsInit, longUsd, shortUsd, items };
  }
}

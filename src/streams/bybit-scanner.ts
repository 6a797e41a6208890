import { MAX_DECIMAL_CHARS, TICKER_NUMERIC_FIELDS } from '../core/ticker-state.js';

/** What {@link BybitFrameScanner.scan} recognised. */
export const SCAN_NONE = 0;
export const SCAN_TICKER = 1;
export const SCAN_TRADES = 2;

/** Exact powers of ten up to 1e15: a ≤ 15-digit mantissa over one of them is one correctly rounded division. */
const POW10 = Float64Array.from({ length: 16 }, (_, k) => 10 ** k);
/** Mantissas of at most this many digits are exact doubles, so `m / 10^k` equals `Number(text)` bit for bit. */
const FAST_DIGITS = 15;
const SYMBOL_KEY = 'symbol';

/** Ticker field names grouped by length, each with its index in `TICKER_NUMERIC_FIELDS` and its sign rule. */
const FIELDS_BY_LENGTH: { name: string; idx: number }[][] = [];
for (let i = 0; i < TICKER_NUMERIC_FIELDS.length; i++) {
  const name = TICKER_NUMERIC_FIELDS[i]!;
  (FIELDS_BY_LENGTH[name.length] ??= []).push({ name, idx: i });
}

/**
 * A scanner for the two frame shapes that are nearly all of Bybit's public traffic, `tickers.*` (snapshot and
 * delta) and `publicTrade.*`: it walks the frame text by char code, parses decimals in place and builds no
 * JSON object. It only ever says "this frame is a valid, accepted frame and here are its values" or "not
 * sure": anything else (another topic, a refusal, an escape, whitespace, a duplicate key, a nested value
 * where a scalar is expected, a float `ts`) returns false and the caller runs the `JSON.parse` path, which
 * decides and counts the refusal. So the scanner never has to reproduce a refusal, only an acceptance, and
 * `bybit-decoder.test.ts` holds its acceptances to the `JSON.parse` path's events and state bit for bit.
 *
 * Results live in the instance's fields (ticker values in the caller's scratch arrays) until the next scan.
 */
export class BybitFrameScanner {
  kind = SCAN_NONE;
  symbol = '';
  snapshot = false;
  ts = 0;
  /** `cs` of a ticker frame, NaN when absent. */
  cs = NaN;
  /** Ticker: number of fields written to the scratch arrays. */
  fields = 0;
  count = 0;
  buyQty = 0;
  sellQty = 0;
  buyUsd = 0;
  sellUsd = 0;
  tsEvent = 0;
  lastPrice = 0;

  private s = '';
  private i = 0;
  private num = 0;
  private tsInit = 0;

  constructor(
    private readonly idx: Int32Array,
    private readonly values: Float64Array,
    private readonly sign: Int8Array,
    private readonly maxAheadMs: number,
    private readonly maxBehindMs: number,
  ) {}

  /** True when `text` is an accepted ticker or trade frame for receipt time `tsInit`; false means "use JSON.parse". */
  scan(text: string, tsInit: number): boolean {
    this.kind = SCAN_NONE;
    if (!text.startsWith('{"topic":"')) return false;
    const s = text;
    const len = s.length;
    let i = 10;
    let dot = -1;
    for (;;) {
      if (i >= len) return false;
      const c = s.charCodeAt(i);
      if (c === 34) break;
      if (c === 92 || c < 32) return false;
      if (c === 46 && dot < 0) dot = i;
      i++;
    }
    let kind = SCAN_NONE;
    if (dot === 17 && s.startsWith('tickers', 10)) kind = SCAN_TICKER;
    else if (dot === 21 && s.startsWith('publicTrade', 10)) kind = SCAN_TRADES;
    if (kind === SCAN_NONE || dot + 1 === i) return false;
    this.symbol = s.slice(dot + 1, i);
    this.s = s;
    this.i = i + 1;
    this.cs = NaN;
    this.tsInit = tsInit;
    let seen = 0;
    for (;;) {
      const c = s.charCodeAt(this.i++);
      if (c === 125) break;
      if (c !== 44 || s.charCodeAt(this.i) !== 34) return false;
      const keyStart = this.i + 1;
      const keyEnd = this.stringEnd(keyStart);
      if (keyEnd < 0 || s.charCodeAt(keyEnd + 1) !== 58) return false;
      this.i = keyEnd + 2;
      const keyLen = keyEnd - keyStart;
      let bit = 0;
      if (keyLen === 2 && s.startsWith('ts', keyStart)) {
        bit = 1;
        if (!this.integer()) return false;
        this.ts = this.num;
      } else if (keyLen === 4 && s.startsWith('data', keyStart)) {
        bit = 2;
        if (!(kind === SCAN_TICKER ? this.tickerData() : this.tradeData())) return false;
      } else if (keyLen === 4 && s.startsWith('type', keyStart)) {
        bit = 4;
        if (kind === SCAN_TICKER) {
          if (s.startsWith('"snapshot"', this.i)) {
            this.snapshot = true;
            this.i += 10;
          } else if (s.startsWith('"delta"', this.i)) {
            this.snapshot = false;
            this.i += 7;
          } else return false;
        } else if (!this.skipScalar()) return false;
      } else if (keyLen === 2 && kind === SCAN_TICKER && s.startsWith('cs', keyStart)) {
        bit = 8;
        if (!this.integer()) return false;
        this.cs = this.num;
      } else if (keyLen === 5 && s.startsWith('topic', keyStart)) {
        return false;
      } else if (!this.skipScalar()) return false;
      if ((seen & bit) !== 0) return false;
      seen |= bit;
    }
    if (this.i !== len || (seen & 3) !== 3 || (kind === SCAN_TICKER && (seen & 4) === 0)) return false;
    if (!this.inBand(this.ts)) return false;
    this.kind = kind;
    return true;
  }

  /** The decoder's event-time rule, written the same way so the floating-point edge falls alike. */
  private inBand(t: number): boolean {
    return !(t - this.tsInit > this.maxAheadMs || this.tsInit - t > this.maxBehindMs);
  }

  /** Index of the closing quote of a string whose body starts at `from`, or -1 on an escape, control char or end. */
  private stringEnd(from: number): number {
    const s = this.s;
    const len = s.length;
    for (let i = from; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c === 34) return i;
      if (c === 92 || c < 32) return -1;
    }
    return -1;
  }

  /** A JSON integer without fraction or exponent into `num`; anything else (1.5, 1e3, 01) is "not sure". */
  private integer(): boolean {
    const s = this.s;
    let i = this.i;
    const neg = s.charCodeAt(i) === 45;
    if (neg) i++;
    const start = i;
    let c = s.charCodeAt(i);
    if (c === 48) {
      this.num = 0;
      c = s.charCodeAt(++i);
    } else {
      let m = 0;
      while (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        c = s.charCodeAt(++i);
      }
      if (i === start) return false;
      this.num = i - start > FAST_DIGITS ? Number(s.slice(start, i)) : m;
    }
    if ((c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69) return false;
    if (neg) this.num = -this.num;
    this.i = i;
    return true;
  }

  /**
   * A quoted Bybit decimal (`parseDecimal`'s grammar) into `num`; `""` gives NaN. The value is the same double
   * `Number(text)` gives: ≤ 15 digits are exact and one division by an exact power of ten rounds correctly.
   */
  private decimal(): boolean {
    const s = this.s;
    let i = this.i;
    if (s.charCodeAt(i) !== 34) return false;
    const open = ++i;
    let c = s.charCodeAt(i);
    if (c === 34) {
      this.num = NaN;
      this.i = i + 1;
      return true;
    }
    const neg = c === 45;
    if (neg) c = s.charCodeAt(++i);
    const intStart = i;
    let m = 0;
    while (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      c = s.charCodeAt(++i);
    }
    if (i === intStart) return false;
    let frac = 0;
    if (c === 46) {
      const fracStart = ++i;
      c = s.charCodeAt(i);
      while (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        c = s.charCodeAt(++i);
      }
      frac = i - fracStart;
      if (frac === 0) return false;
    }
    if (c !== 34 || i - open > MAX_DECIMAL_CHARS) return false;
    const digits = i - intStart - (frac > 0 ? 1 : 0);
    let v: number;
    if (digits > FAST_DIGITS) v = Number(s.slice(open, i));
    else {
      v = frac === 0 ? m : m / POW10[frac]!;
      if (neg) v = -v;
    }
    this.num = v;
    this.i = i + 1;
    return true;
  }

  /** Skips a string (no escapes), number, true, false or null; objects and arrays are "not sure". */
  private skipScalar(): boolean {
    const s = this.s;
    let i = this.i;
    const c = s.charCodeAt(i);
    if (c === 34) {
      const end = this.stringEnd(i + 1);
      if (end < 0) return false;
      this.i = end + 1;
      return true;
    }
    if (c === 116 && s.startsWith('true', i)) this.i = i + 4;
    else if (c === 102 && s.startsWith('false', i)) this.i = i + 5;
    else if (c === 110 && s.startsWith('null', i)) this.i = i + 4;
    else if (c === 45 || (c >= 48 && c <= 57)) {
      // JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
      if (c === 45) i++;
      let d = s.charCodeAt(i);
      if (d === 48) d = s.charCodeAt(++i);
      else {
        const start = i;
        while (d >= 48 && d <= 57) d = s.charCodeAt(++i);
        if (i === start) return false;
      }
      if (d === 46) {
        const start = ++i;
        d = s.charCodeAt(i);
        while (d >= 48 && d <= 57) d = s.charCodeAt(++i);
        if (i === start) return false;
      }
      if (d === 101 || d === 69) {
        d = s.charCodeAt(++i);
        if (d === 43 || d === 45) d = s.charCodeAt(++i);
        const start = i;
        while (d >= 48 && d <= 57) d = s.charCodeAt(++i);
        if (i === start) return false;
      }
      if (d >= 48 && d <= 57) return false;
      this.i = i;
    } else return false;
    return true;
  }

  /** Whether a string equal to the topic's symbol starts at the cursor; moves past it. */
  private symbolValue(): boolean {
    const s = this.s;
    const sym = this.symbol;
    const i = this.i;
    if (s.charCodeAt(i) !== 34 || !s.startsWith(sym, i + 1) || s.charCodeAt(i + 1 + sym.length) !== 34) return false;
    this.i = i + sym.length + 2;
    return true;
  }

  /** A ticker `data` object: `symbol` equal to the topic's, known fields as valid decimals, the rest scalars. */
  private tickerData(): boolean {
    const s = this.s;
    if (s.charCodeAt(this.i) !== 123) return false;
    this.i++;
    let seen = 0;
    let symbolSeen = false;
    let n = 0;
    if (s.charCodeAt(this.i) === 125) return false;
    for (;;) {
      if (s.charCodeAt(this.i) !== 34) return false;
      const keyStart = this.i + 1;
      const keyEnd = this.stringEnd(keyStart);
      if (keyEnd < 0 || s.charCodeAt(keyEnd + 1) !== 58) return false;
      this.i = keyEnd + 2;
      const keyLen = keyEnd - keyStart;
      let field = -1;
      const candidates = FIELDS_BY_LENGTH[keyLen];
      if (candidates !== undefined) {
        for (const f of candidates) {
          if (s.startsWith(f.name, keyStart)) {
            field = f.idx;
            break;
          }
        }
      }
      if (field >= 0) {
        if ((seen & (1 << field)) !== 0 || !this.decimal()) return false;
        seen |= 1 << field;
        const v = this.num;
        const sign = this.sign[field]!;
        if (sign !== 0 && (sign === 2 ? v <= 0 : v < 0)) return false;
        this.idx[n] = field;
        this.values[n] = v;
        n++;
      } else if (keyLen === 6 && s.startsWith(SYMBOL_KEY, keyStart)) {
        if (symbolSeen || !this.symbolValue()) return false;
        symbolSeen = true;
      } else if (!this.skipScalar()) return false;
      const c = s.charCodeAt(this.i++);
      if (c === 125) break;
      if (c !== 44) return false;
    }
    this.fields = n;
    return symbolSeen;
  }

  /** A `publicTrade` `data` array: each item with T (in band), s (the topic's symbol), S, v > 0, p > 0. */
  private tradeData(): boolean {
    const s = this.s;
    if (s.charCodeAt(this.i) !== 91) return false;
    this.i++;
    let count = 0;
    let buyQty = 0;
    let sellQty = 0;
    let buyUsd = 0;
    let sellUsd = 0;
    let tsEvent = -Infinity;
    let lastPrice = NaN;
    for (;;) {
      if (s.charCodeAt(this.i) !== 123) return false;
      this.i++;
      let seen = 0;
      let T = 0;
      let qty = 0;
      let price = 0;
      let buy = false;
      for (;;) {
        if (s.charCodeAt(this.i) !== 34) return false;
        const keyStart = this.i + 1;
        const keyEnd = this.stringEnd(keyStart);
        if (keyEnd < 0 || s.charCodeAt(keyEnd + 1) !== 58) return false;
        this.i = keyEnd + 2;
        let bit = 0;
        if (keyEnd - keyStart === 1) {
          const k = s.charCodeAt(keyStart);
          if (k === 84) {
            bit = 1;
            if (!this.integer()) return false;
            T = this.num;
          } else if (k === 115) {
            bit = 2;
            if (!this.symbolValue()) return false;
          } else if (k === 83) {
            bit = 4;
            if (s.startsWith('"Buy"', this.i)) {
              buy = true;
              this.i += 5;
            } else if (s.startsWith('"Sell"', this.i)) {
              buy = false;
              this.i += 6;
            } else return false;
          } else if (k === 118) {
            bit = 8;
            if (!this.decimal()) return false;
            qty = this.num;
          } else if (k === 112) {
            bit = 16;
            if (!this.decimal()) return false;
            price = this.num;
          } else if (!this.skipScalar()) return false;
        } else if (!this.skipScalar()) return false;
        if ((seen & bit) !== 0) return false;
        seen |= bit;
        const c = s.charCodeAt(this.i++);
        if (c === 125) break;
        if (c !== 44) return false;
      }
      if (seen !== 31 || !this.inBand(T) || !(qty > 0) || !(price > 0)) return false;
      if (buy) {
        buyQty += qty;
        buyUsd += qty * price;
      } else {
        sellQty += qty;
        sellUsd += qty * price;
      }
      if (T >= tsEvent) {
        tsEvent = T;
        lastPrice = price;
      }
      count++;
      const c = s.charCodeAt(this.i++);
      if (c === 93) break;
      if (c !== 44) return false;
    }
    this.count = count;
    this.buyQty = buyQty;
    this.sellQty = sellQty;
    this.buyUsd = buyUsd;
    this.sellUsd = sellUsd;
    this.tsEvent = tsEvent;
    this.lastPrice = lastPrice;
    return true;
  }
}

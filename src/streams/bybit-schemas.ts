import { z } from 'zod';
import { TICKER_NUMERIC_FIELDS, parseDecimal } from '../core/ticker-state.js';
import { DEFAULT_EVENT_TIME_BAND, TICKER_FIELD_SIGN, inEventTimeBand, type EventTimeBand } from './bybit-decoder.js';

/**
 * The Bybit v5 public linear frame contract in zod. The hot-path decoder (`bybit-decoder.ts`) checks the same
 * rules by hand for speed; `bybit-decoder.test.ts` feeds both random and mutated frames and requires the same
 * verdict, so this file is the readable specification of what the decoder accepts.
 */
const decimal = z.string().refine((s) => parseDecimal(s) !== undefined, 'not a decimal string');
const positiveDecimal = z.string().refine((s) => {
  const n = parseDecimal(s);
  return n !== undefined && n > 0;
}, 'not a positive decimal string');
/** `""` (no value) or a decimal ≥ 0 (sign 1) or > 0 (sign 2, prices). */
const signedDecimal = (sign: 1 | 2) =>
  z.string().refine((s) => {
    const n = parseDecimal(s);
    return n !== undefined && (Number.isNaN(n) || (sign === 2 ? n > 0 : n >= 0));
  }, sign === 2 ? 'not a positive decimal string' : 'not a non-negative decimal string');
const finite = z.number().refine(Number.isFinite, 'not finite');

const tickerFields = Object.fromEntries(
  TICKER_NUMERIC_FIELDS.map((f) => {
    const sign = TICKER_FIELD_SIGN[f];
    return [f, (sign === undefined ? decimal : signedDecimal(sign)).optional()];
  }),
) as Record<(typeof TICKER_NUMERIC_FIELDS)[number], z.ZodOptional<typeof decimal>>;

export const tickerFrameSchema = z
  .object({
    topic: z.string().regex(/^tickers\..+$/),
    type: z.enum(['snapshot', 'delta']),
    ts: finite,
    cs: z.number().optional(),
    data: z.looseObject({ symbol: z.string(), ...tickerFields }),
  })
  .refine((f) => f.data.symbol === f.topic.slice('tickers.'.length), 'data.symbol does not match topic');

const tradeItem = z.looseObject({ T: finite, s: z.string(), S: z.enum(['Buy', 'Sell']), v: positiveDecimal, p: positiveDecimal });

export const tradeFrameSchema = z
  .object({ topic: z.string().regex(/^publicTrade\..+$/), ts: finite, data: z.array(tradeItem).min(1) })
  .refine((f) => f.data.every((t) => t.s === f.topic.slice('publicTrade.'.length)), 'trade symbol does not match topic');

const liquidationItem = z.looseObject({ T: finite, s: z.string(), S: z.enum(['Buy', 'Sell']), v: positiveDecimal, p: positiveDecimal });

export const liquidationFrameSchema = z
  .object({
    topic: z.string().regex(/^allLiquidation\..+$/),
    ts: finite,
    data: z.union([z.array(liquidationItem).min(1), liquidationItem]),
  })
  .refine((f) => {
    const symbol = f.topic.slice('allLiquidation.'.length);
    return (Array.isArray(f.data) ? f.data : [f.data]).every((l) => l.s === symbol);
  }, 'liquidation symbol does not match topic');

export const controlFrameSchema = z.looseObject({ op: z.string() });

/**
 * Classifies a frame received at `tsInit` with the zod contract: the kind it is valid as, 'control', 'ignored' or
 * 'bad'. The event-time rule depends on the receipt time, so it is checked after the shape: the envelope `ts` and
 * every item's `T` must lie inside `band` around `tsInit` (see `EventTimeBand`).
 */
export function classifyWithSchemas(
  text: string,
  tsInit = 0,
  band: EventTimeBand = DEFAULT_EVENT_TIME_BAND,
): 'tickers' | 'publicTrade' | 'allLiquidation' | 'control' | 'ignored' | 'bad' {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return 'bad';
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return 'bad';
  const topic = (frame as { topic?: unknown }).topic;
  if (typeof topic !== 'string') return controlFrameSchema.safeParse(frame).success ? 'control' : 'bad';
  const dot = topic.indexOf('.');
  const kind = topic.slice(0, dot);
  const ts = (frame as { ts?: unknown }).ts;
  if (dot < 0 || dot === topic.length - 1 || typeof ts !== 'number' || !Number.isFinite(ts)) return 'bad';
  const inBand = (t: number) => inEventTimeBand(t, tsInit, band);
  switch (kind) {
    case 'tickers':
      return tickerFrameSchema.safeParse(frame).success && inBand(ts) ? 'tickers' : 'bad';
    case 'publicTrade': {
      const r = tradeFrameSchema.safeParse(frame);
      return r.success && inBand(ts) && r.data.data.every((t) => inBand(t.T)) ? 'publicTrade' : 'bad';
    }
    case 'allLiquidation': {
      const r = liquidationFrameSchema.safeParse(frame);
      return r.success && inBand(ts) && (Array.isArray(r.data.data) ? r.data.data : [r.data.data]).every((l) => inBand(l.T)) ? 'allLiquidation' : 'bad';
    }
    default:
      return 'ignored';
  }
}

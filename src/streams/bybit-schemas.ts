import { z } from 'zod';
import { TICKER_NUMERIC_FIELDS, parseDecimal } from '../core/ticker-state.js';

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
const finite = z.number().refine(Number.isFinite, 'not finite');

const tickerFields = Object.fromEntries(TICKER_NUMERIC_FIELDS.map((f) => [f, decimal.optional()])) as Record<
  (typeof TICKER_NUMERIC_FIELDS)[number],
  z.ZodOptional<typeof decimal>
>;

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

/** Classifies a frame with the zod contract: the kind it is valid as, 'control', 'ignored' or 'bad'. */
export function classifyWithSchemas(text: string): 'tickers' | 'publicTrade' | 'allLiquidation' | 'control' | 'ignored' | 'bad' {
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
  switch (kind) {
    case 'tickers':
      return tickerFrameSchema.safeParse(frame).success ? 'tickers' : 'bad';
    case 'publicTrade':
      return tradeFrameSchema.safeParse(frame).success ? 'publicTrade' : 'bad';
    case 'allLiquidation':
      return liquidationFrameSchema.safeParse(frame).success ? 'allLiquidation' : 'bad';
    default:
      return 'ignored';
  }
}

import { z } from 'zod';
import type { BacktestReportInput } from '../core/backtest-report-input.js';

/**
 * zod schema for a saved backtest result (`BacktestReportInput` as JSON), so `whalestack report` can refuse a
 * broken or foreign file with one clear line per problem instead of drawing nonsense. Unknown keys are
 * dropped, not refused: the backtester's `--json` output may carry more than the report draws. The checks
 * beyond types are the ones a chart cannot survive (a bar whose high is below its low, a trade that closes
 * before it opens, time that is not epoch ms).
 */
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const price = z.number().positive('must be a positive price').refine(Number.isFinite, 'must be a finite number');
// Epoch ms; a fraction is fine (the virtual clock of a tape replay runs on receipt times with sub-ms precision).
const tsMs = z.number().refine(Number.isFinite, 'must be epoch milliseconds (a finite number)').refine((t) => t >= 0, 'must be epoch milliseconds (≥ 0)');
const side = z.enum(['long', 'short']);

const metric = z.object({
  key: z.string().min(1, 'must not be empty'),
  label: z.string(),
  // Not only finite: a ratio with no losing trade may be Infinity in memory; JSON cannot carry it anyway.
  // NaN: a figure that does not exist yet (Sharpe under two days of returns); the page shows n/a.
  value: z.union([z.number(), z.nan()]),
  unit: z.enum(['%', 'USDT', 'x', 'count', '']),
  target: z.string().optional(),
  meetsTarget: z.boolean().optional(),
});

const bar = z
  .object({ tsMs, open: price, high: price, low: price, close: price })
  .refine((b) => b.high >= b.low, 'high must be ≥ low');

const cluster = z
  .object({ side, priceLow: price, priceHigh: price, centerPrice: price, totalUsd: finite, fromMs: tsMs, toMs: tsMs })
  .refine((c) => c.priceLow <= c.priceHigh, 'priceLow must be ≤ priceHigh')
  .refine((c) => c.fromMs <= c.toMs, 'fromMs must be ≤ toMs');

const trade = z
  .object({
    tradeId: z.string().min(1, 'must not be empty'),
    symbol: z.string().min(1, 'must not be empty'),
    side,
    openedAtMs: tsMs,
    closedAtMs: tsMs,
    entryPrice: price,
    exitPrice: price,
    stopLossPrice: price,
    takeProfitPrice: price,
    qty: finite,
    pnlUsd: finite,
    pnlPct: finite,
    feesUsd: finite,
    reason: z.string(),
  })
  .refine((t) => t.openedAtMs <= t.closedAtMs, 'closedAtMs must be ≥ openedAtMs');

export const BACKTEST_REPORT_INPUT_SCHEMA: z.ZodType<BacktestReportInput> = z.object({
  title: z.string(),
  source: z.string(),
  metrics: z.array(metric),
  equity: z.array(z.object({ tsMs, equity: finite, drawdownPct: finite.refine((d) => d >= 0, 'must be ≥ 0') })),
  trades: z.array(trade),
  coins: z.array(z.object({ symbol: z.string().min(1, 'must not be empty'), bars: z.array(bar), clusters: z.array(cluster) })),
  refusals: z.array(z.object({ reason: z.string(), count: z.number().int('must be an integer').nonnegative('must be ≥ 0') })),
});

/** Validates parsed JSON; `problems` are `path: message` lines (e.g. `trades.3.pnlUsd: must be a finite number`). */
export function parseBacktestReportInput(json: unknown): { ok: true; input: BacktestReportInput } | { ok: false; problems: string[] } {
  const result = BACKTEST_REPORT_INPUT_SCHEMA.safeParse(json);
  if (result.success) return { ok: true, input: result.data };
  return { ok: false, problems: result.error.issues.map((i) => `${i.path.length === 0 ? '(top level)' : i.path.join('.')}: ${i.message}`) };
}

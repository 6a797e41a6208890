import { RestClientV5 } from 'bybit-api';
import { Subject, type Observable } from 'rxjs';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { SourceEvent } from '../core/events.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { InstrumentShrinkGuard, type ShrinkGuardOptions } from './instrument-shrink-guard.js';

/** One tradable USDT linear perpetual. Numbers are parsed from Bybit's decimal strings. */
export interface LinearInstrument {
  readonly symbol: string;
  readonly baseCoin: string;
  readonly tickSize: number;
  readonly qtyStep: number;
  readonly minOrderQty: number;
  readonly maxLeverage: number;
  /** Epoch ms. */
  readonly launchTime: number;
}

/** Discovery failed: HTTP error, timeout, retCode ≠ 0, or a reply whose shape is not what Bybit documents. */
export class InstrumentsDiscoveryError extends Error {
  override readonly name = 'InstrumentsDiscoveryError';
}

const positiveDecimal = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'expected a decimal string')
  .transform(Number)
  .refine((n) => n > 0, 'expected > 0');
const epochMsString = z.string().regex(/^\d+$/, 'expected an integer string').transform(Number);

const envelopeSchema = z.object({ retCode: z.number(), retMsg: z.string(), result: z.unknown() });
const pageSchema = z.object({
  list: z.array(z.object({ symbol: z.string().min(1), contractType: z.string(), status: z.string(), quoteCoin: z.string() })),
  nextPageCursor: z.string().nullish(),
});
const kept = z.object({
  symbol: z.string().min(1),
  baseCoin: z.string().min(1),
  launchTime: epochMsString,
  priceFilter: z.object({ tickSize: positiveDecimal }),
  lotSizeFilter: z.object({ qtyStep: positiveDecimal, minOrderQty: positiveDecimal }),
  leverageFilter: z.object({ maxLeverage: positiveDecimal }),
});

function describeIssues(error: z.ZodError, prefix: string, body: unknown): string {
  return error.issues
    .slice(0, 3)
    .map((i) => {
      const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
      const got = i.path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), body);
      return `${path}: ${i.message} (got ${JSON.stringify(got)?.slice(0, 60) ?? 'undefined'})`;
    })
    .join('; ');
}

/**
 * Validates one `/v5/market/instruments-info` reply and keeps Trading + LinearPerpetual + USDT rows.
 * Throws {@link InstrumentsDiscoveryError} naming the offending field; rows that are filtered out are only
 * checked for the fields the filter reads, so an odd futures contract cannot break discovery.
 */
export function parseInstrumentsPage(body: unknown, page = 1): { instruments: LinearInstrument[]; nextPageCursor: string } {
  const where = `instruments-info page ${page}`;
  const env = envelopeSchema.safeParse(body);
  if (!env.success) {
    const notJson = typeof body === 'string' || (typeof body === 'object' && body !== null && '0' in body);
    if (notJson) throw new InstrumentsDiscoveryError(`${where}: body is not JSON`);
    throw new InstrumentsDiscoveryError(`${where}: not a Bybit envelope: ${describeIssues(env.error, '', body)}`);
  }
  if (env.data.retCode !== 0) {
    throw new InstrumentsDiscoveryError(`${where}: retCode ${env.data.retCode} ${JSON.stringify(env.data.retMsg)}`);
  }
  const pg = pageSchema.safeParse(env.data.result);
  if (!pg.success) throw new InstrumentsDiscoveryError(`${where}: ${describeIssues(pg.error, 'result', env.data.result)}`);
  const rawList = (env.data.result as { list: unknown[] }).list;
  const instruments: LinearInstrument[] = [];
  pg.data.list.forEach((row, i) => {
    if (row.status !== 'Trading' || row.contractType !== 'LinearPerpetual' || row.quoteCoin !== 'USDT') return;
    const item = kept.safeParse(rawList[i]);
    if (!item.success) {
      const msg = describeIssues(item.error, `result.list.${i}`, rawList[i]);
      throw new InstrumentsDiscoveryError(`${where}: ${msg} [symbol ${row.symbol}]`);
    }
    const d = item.data;
    instruments.push({
      symbol: d.symbol,
      baseCoin: d.baseCoin,
      tickSize: d.priceFilter.tickSize,
      qtyStep: d.lotSizeFilter.qtyStep,
      minOrderQty: d.lotSizeFilter.minOrderQty,
      maxLeverage: d.leverageFilter.maxLeverage,
      launchTime: d.launchTime,
    });
  });
  return { instruments, nextPageCursor: pg.data.nextPageCursor ?? '' };
}

export interface DiscoverOptions {
  /** An existing client; otherwise one is built from baseUrl/timeoutMs. */
  readonly client?: RestClientV5;
  /** Default `https://api.bybit.com`. */
  readonly baseUrl?: string;
  /** Per request. Default 10 000 (the SDK's own default is 5 minutes). */
  readonly timeoutMs?: number;
  /** Guard against a cursor that never ends. Default 50. */
  readonly maxPages?: number;
}

/** Turns what RestClientV5 throws (plain objects, strings, axios errors) into one readable line. */
function describeRequestFailure(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; body?: unknown };
    if (typeof e.code === 'number') {
      const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
      return `HTTP ${e.code} ${String(e.message ?? '')}: ${String(body).slice(0, 200)}`.trim();
    }
    if (typeof e.message === 'string') return typeof e.code === 'string' ? `${e.code}: ${e.message}` : e.message;
  }
  return String(err);
}

/**
 * All Trading USDT linear perpetuals, sorted by symbol, following `nextPageCursor` (limit 1000 per page)
 * until it is empty. Rejects with {@link InstrumentsDiscoveryError}; never with a raw SDK value.
 * Gotcha: the SDK resolves (does not throw) on retCode ≠ 0, and hands back non-JSON bodies spread into an object.
 */
export async function discoverLinearInstruments(options: DiscoverOptions = {}): Promise<LinearInstrument[]> {
  const client =
    options.client ??
    new RestClientV5({ baseUrl: options.baseUrl ?? 'https://api.bybit.com' }, { timeout: options.timeoutMs ?? 10_000 });
  const maxPages = options.maxPages ?? 50;
  const bySymbol = new Map<string, LinearInstrument>();
  const seenCursors = new Set<string>();
  let cursor = '';
  for (let page = 1; ; page++) {
    if (page > maxPages) throw new InstrumentsDiscoveryError(`instruments-info: more than ${maxPages} pages, cursor never ended`);
    let body: unknown;
    try {
      body = await client.getInstrumentsInfo({ category: 'linear', limit: 1000, ...(cursor ? { cursor } : {}) });
    } catch (err) {
      throw new InstrumentsDiscoveryError(`instruments-info page ${page}: ${describeRequestFailure(err)}`);
    }
    const parsed = parseInstrumentsPage(body, page);
    for (const inst of parsed.instruments) bySymbol.set(inst.symbol, inst);
    cursor = parsed.nextPageCursor;
    if (cursor === '') break;
    if (seenCursors.has(cursor)) throw new InstrumentsDiscoveryError(`instruments-info page ${page}: cursor ${cursor} repeats`);
    seenCursors.add(cursor);
  }
  return [...bySymbol.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

/** Emitted by {@link InstrumentsWatcher} after the first success and whenever the list changes. */
export interface InstrumentsChange {
  readonly tsInit: number;
  readonly listed: readonly LinearInstrument[];
  readonly delisted: readonly LinearInstrument[];
  /** Same symbol, different tick size, step, leverage…  */
  readonly changed: readonly LinearInstrument[];
  readonly instruments: readonly LinearInstrument[];
  /** Set when a large shrink was applied after this many consecutive replies agreed on it. */
  readonly shrinkConfirmedAfter?: number;
}

export interface InstrumentsWatcherOptions {
  readonly discover: () => Promise<LinearInstrument[]>;
  readonly clock: Clock;
  readonly random: () => number;
  /** Default 1 h. */
  readonly intervalMs?: number;
  /** Retry after a failure; default base 5 s, cap 5 min. */
  readonly retry?: BackoffOptions;
  /** Source id for SourceDown/SourceUp. Default `bybit-rest-instruments`. */
  readonly sourceId?: string;
  /** Suspect replies (empty, or a large share gone at once); default: more than 33 % gone, 3 replies in a row. */
  readonly shrinkGuard?: ShrinkGuardOptions;
  /** Retry after a suspect reply; default base 30 s, cap intervalMs. */
  readonly suspectRetry?: BackoffOptions;
}

/**
 * Re-runs discovery every intervalMs on the Clock and emits the diff. A failed run keeps the last good
 * list, emits SourceDown once, and retries with jittered backoff; the next success emits SourceUp. A suspect
 * reply (see {@link InstrumentShrinkGuard}) counts as a failure: the last good list stays, SourceDown carries
 * why, and discovery is retried soon (suspectRetry) until the reply is believed or the list recovers.
 */
export class InstrumentsWatcher {
  readonly changes$: Observable<InstrumentsChange>;
  readonly sourceEvents$: Observable<SourceEvent>;
  private readonly changesSubject = new Subject<InstrumentsChange>();
  private readonly eventsSubject = new Subject<SourceEvent>();
  private readonly backoff: Backoff;
  private readonly suspectBackoff: Backoff;
  private readonly guard: InstrumentShrinkGuard;
  private readonly timerName: string;
  private list: LinearInstrument[] = [];
  private hadSuccess = false;
  private down = false;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private counters = { runs: 0, failures: 0, lastError: '', lastSuccessAt: NaN };

  constructor(private readonly opts: InstrumentsWatcherOptions) {
    this.backoff = new Backoff(opts.random, opts.retry ?? { baseMs: 5_000, capMs: 300_000 });
    this.suspectBackoff = new Backoff(opts.random, opts.suspectRetry ?? { baseMs: 30_000, capMs: opts.intervalMs ?? 3_600_000 });
    this.guard = new InstrumentShrinkGuard(opts.shrinkGuard ?? { maxDropFraction: 0.33, confirmations: 3 });
    this.timerName = `${opts.sourceId ?? 'bybit-rest-instruments'}:refresh`;
    this.changes$ = this.changesSubject.asObservable();
    this.sourceEvents$ = this.eventsSubject.asObservable();
  }

  /** Runs discovery now, then on schedule. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.refresh();
  }

  stop(): void {
    this.running = false;
    this.opts.clock.cancelTimer(this.timerName);
    this.changesSubject.complete();
    this.eventsSubject.complete();
  }

  /** Last good list (empty before the first success). */
  current(): readonly LinearInstrument[] {
    return this.list;
  }

  stats(): { runs: number; failures: number; lastError: string; lastSuccessAt: number; symbols: number; suspectStreak: number } {
    return { ...this.counters, symbols: this.list.length, suspectStreak: this.guard.suspectStreak };
  }

  /** One discovery run (joins a run already in flight). Never rejects. */
  refresh(): Promise<void> {
    this.inFlight ??= this.runOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async runOnce(): Promise<void> {
    const clock = this.opts.clock;
    const source = this.opts.sourceId ?? 'bybit-rest-instruments';
    this.counters.runs++;
    let next: LinearInstrument[];
    const fail = (why: string, backoff: Backoff) => {
      this.counters.failures++;
      this.counters.lastError = why;
      if (!this.down && this.running) {
        this.down = true;
        this.eventsSubject.next({ kind: 'source-down', source, tsInit: clock.now(), reason: this.counters.lastError });
      }
      if (this.running) clock.setTimer(this.timerName, clock.now() + backoff.nextDelayMs(), () => void this.refresh());
    };
    try {
      next = await this.opts.discover();
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err), this.backoff);
      return;
    }
    if (!this.running) return;
    const verdict = this.guard.check(this.list, next);
    if (verdict.kind === 'hold') {
      fail(`suspect reply: ${verdict.reason}`, this.suspectBackoff);
      return;
    }
    const now = clock.now();
    this.backoff.reset();
    this.suspectBackoff.reset();
    this.counters.lastSuccessAt = now;
    if (this.down) {
      this.down = false;
      this.eventsSubject.next({ kind: 'source-up', source, tsInit: now });
    }
    const before = new Map(this.list.map((i) => [i.symbol, i]));
    const after = new Map(next.map((i) => [i.symbol, i]));
    const listed = next.filter((i) => !before.has(i.symbol));
    const delisted = this.list.filter((i) => !after.has(i.symbol));
    const changed = next.filter((i) => {
      const old = before.get(i.symbol);
      return old !== undefined && JSON.stringify(old) !== JSON.stringify(i);
    });
    this.list = next;
    if (!this.hadSuccess || listed.length + delisted.length + changed.length > 0) {
      this.hadSuccess = true;
      const confirmed = verdict.confirmedAfter === undefined ? {} : { shrinkConfirmedAfter: verdict.confirmedAfter };
      this.changesSubject.next({ tsInit: now, listed, delisted, changed, instruments: next, ...confirmed });
    }
    clock.setTimer(this.timerName, now + (this.opts.intervalMs ?? 3_600_000), () => void this.refresh());
  }
}

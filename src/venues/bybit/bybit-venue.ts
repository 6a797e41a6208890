import { parseExecution, parseInstrument, parseOrder, parsePosition, parseWallet, type InstrumentFilter } from './bybit-parse.js';
import { BybitRestSession } from './bybit-rest-session.js';
import { amendOrder, cancelAllEntries, cancelOrder, closePosition, protectPosition, trailStop } from './order-management.js';
import { noteOrder, placeEntry, placeLadder, type PlacementContext } from './order-placement.js';
import { BybitPrivateStream } from './private-stream.js';
import { reconcile, type ReconcileReport } from './reconciler.js';
import { VenueState, type VenueSnapshot } from './venue-state.js';
import { newCounters, type EntryIntent, type OrderRecordStore, type VenueCounters, type VenueExecution, type VenueLog, type VenueOrder, type VenuePosition, type VenueResult } from './venue-types.js';

export interface BybitVenueOptions {
  readonly restUrl: string;
  readonly privateWsUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Coins the daemon may trade; leverage is set and filters are loaded for each at start. */
  readonly symbols: readonly string[];
  /** Leverage per symbol (default 5). */
  readonly leverageBySymbol?: Readonly<Record<string, number>>;
  readonly store: OrderRecordStore;
  readonly log: VenueLog;
  readonly recvWindowMs?: number;
  readonly requestTimeoutMs?: number;
  /** Cancel open orders the daemon did not place (default false: report and leave alone). */
  readonly cancelUnknownOrders?: boolean;
  /** Stop distance (% of entry) for a position found without a stop and without a local record of one. */
  readonly emergencyStopPct?: number;
  /** REST reconciliation period while the private stream is down. */
  readonly pollIntervalMs?: number;
  /** How far back the first reconciliation reads executions. */
  readonly executionLookbackMs?: number;
  readonly stream?: { pingIntervalMs?: number; pongTimeoutMs?: number; backoffBaseMs?: number; backoffCapMs?: number; random?: () => number };
  readonly onRestLatency?: (endpoint: string, ms: number) => void;
  /**
   * Every fill, once per execId within a session, whether it came on the private stream or was found by a
   * reconciliation after a gap (trade close, PnL and learning hang off this). After a restart the first
   * reconciliation re-delivers the lookback window, so consumers key fills by execId.
   */
  readonly onExecution?: (e: VenueExecution) => void;
  /** Every order update from the private stream (status changes: cancelled, rejected, filled), after the venue applied it. */
  readonly onOrder?: (o: VenueOrder) => void;
  /** Every position update from the private stream (undefined = flat), after the venue applied it. */
  readonly onPosition?: (symbol: string, p: VenuePosition | undefined) => void;
  /** An order whose outcome was unknown that a reconciliation found was never on the exchange (not resent). */
  readonly onOrderMissing?: (orderLinkId: string) => void;
}

export type StartResult = { readonly ok: true; readonly marginMode: string } | { readonly ok: false; readonly reason: string; readonly message: string };

/**
 * One trading session on Bybit v5 linear (testnet, demo or mainnet, by URL): REST orders, the private stream,
 * reconciliation, and the keys, clock offset and rate-limit state they share. Broker-shaped: `placeEntry`,
 * `placeLadder`, `cancel`, `amend`, `trailStop`, `closePosition`, `cancelAllEntries`, `reconcile`, `snapshot()`. Every method
 * resolves to a result message; none throws. State follows the private stream; while the stream is down, REST
 * reconciliation runs every `pollIntervalMs`, and each time the stream comes back the gap is reconciled.
 */
export class BybitVenue {
  readonly counters: VenueCounters = newCounters();
  private readonly state = new VenueState();
  private readonly filters = new Map<string, InstrumentFilter>();
  private readonly rest: BybitRestSession;
  private readonly stream: BybitPrivateStream;
  private readonly ctx: PlacementContext;
  private started = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<ReconcileReport> | undefined;
  private again = false;
  private lastExecSinceMs: number;
  private readonly protecting = new Set<string>();
  /** execIds already delivered (insertion-ordered; the oldest are forgotten past 20,000). */
  private readonly delivered = new Set<string>();

  constructor(private readonly opts: BybitVenueOptions) {
    this.rest = new BybitRestSession({
      restUrl: opts.restUrl, apiKey: opts.apiKey, apiSecret: opts.apiSecret, recvWindowMs: opts.recvWindowMs ?? 5000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 3000, log: opts.log, counters: this.counters, ...(opts.onRestLatency ? { onLatency: opts.onRestLatency } : {}),
    });
    this.ctx = { rest: this.rest, store: opts.store, state: this.state, log: opts.log, counters: this.counters, filters: this.filters };
    this.lastExecSinceMs = Date.now() - (opts.executionLookbackMs ?? 24 * 3_600_000);
    this.stream = new BybitPrivateStream({
      url: opts.privateWsUrl, apiKey: opts.apiKey, apiSecret: opts.apiSecret, recvWindowMs: opts.recvWindowMs ?? 5000,
      timeOffsetMs: () => this.rest.timeOffsetMs, log: opts.log, ...opts.stream,
      onMessage: (topic, data) => this.onPrivate(topic, data),
      onUp: () => this.onStreamUp(),
      onDown: (reason) => this.onStreamDown(reason),
    });
  }

  /**
   * Checks the keys (wallet balance), refuses hedge mode, reads the margin mode, sets leverage per coin (110043
   * "not modified" is fine), loads instrument filters, opens the private stream, and reconciles before the first
   * order. A refusal names what to fix in one line.
   */
  async start(): Promise<StartResult> {
    const wallet = await this.rest.call('/v5/account/wallet-balance', (c) => c.getWalletBalance({ accountType: 'UNIFIED' }));
    if (!wallet.ok) {
      const why = wallet.kind === 'refused' ? `retCode ${wallet.retCode} ${wallet.retMsg}` : wallet.error;
      const hint = wallet.ok === false && wallet.kind === 'refused' && (wallet.retCode === 10003 || wallet.retCode === 10004)
        ? ': check BYBIT_API_KEY/BYBIT_API_SECRET and that the key was made for this TRADING_MODE (testnet, demo and mainnet keys differ)' : '';
      return { ok: false, reason: 'KEYS_REFUSED', message: `Bybit refused the wallet-balance check (${why})${hint}` };
    }
    this.state.wallet = parseWallet((wallet.result as { list?: unknown[] }).list?.[0]);
    const info = await this.rest.call('/v5/account/info', (c) => c.getAccountInfo());
    const marginMode = info.ok ? String((info.result as { marginMode?: unknown }).marginMode ?? 'unknown') : 'unknown';
    for (const symbol of this.opts.symbols) {
      const pos = await this.rest.call('/v5/position/list', (c) => c.getPositionInfo({ category: 'linear', symbol }));
      if (!pos.ok) return { ok: false, reason: 'POSITION_MODE_UNREADABLE', message: `could not read ${symbol} position mode: ${pos.kind === 'refused' ? `${pos.retCode} ${pos.retMsg}` : pos.error}` };
      const rows = (pos.result as { list?: { positionIdx?: unknown }[] }).list ?? [];
      if (rows.some((r) => Number(r.positionIdx) !== 0)) {
        return { ok: false, reason: 'HEDGE_MODE', message: `the Bybit account is in hedge mode for ${symbol}; whalestack trades one-way mode only: switch USDT perpetuals to one-way in Bybit (Derivatives settings) and restart` };
      }
      const leverage = this.opts.leverageBySymbol?.[symbol] ?? 5;
      const lev = await this.rest.call('/v5/position/set-leverage', (c) => c.setLeverage({ category: 'linear', symbol, buyLeverage: String(leverage), sellLeverage: String(leverage) }), [110043]);
      if (!lev.ok) return { ok: false, reason: 'LEVERAGE_REFUSED', message: `could not set ${symbol} leverage ${leverage}: ${lev.kind === 'refused' ? `${lev.retCode} ${lev.retMsg}` : lev.error}` };
      const inst = await this.rest.call('/v5/market/instruments-info', (c) => c.getInstrumentsInfo({ category: 'linear', symbol }));
      const filter = inst.ok ? parseInstrument((inst.result as { list?: unknown[] }).list?.[0]) : undefined;
      if (filter === undefined) return { ok: false, reason: 'NO_INSTRUMENT', message: `no linear instrument filters for ${symbol} (is it a Trading USDT perpetual?)` };
      this.filters.set(symbol, filter);
    }
    this.stream.start();
    this.started = true;
    const report = await this.reconcile();
    if (!report.ok) {
      this.started = false;
      await this.stop();
      return { ok: false, reason: 'RECONCILE_FAILED', message: `first reconciliation failed: ${report.error}` };
    }
    if (!this.stream.isUp) this.startPolling();
    this.opts.log.info({ marginMode, symbols: this.opts.symbols.length, positions: this.state.positions.size, orders: this.state.orders.size }, 'bybit venue started');
    return { ok: true, marginMode };
  }

  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    await this.stream.stop();
    this.counters.streamUp = false;
    await this.reconciling?.catch(() => undefined);
  }

  /** Instrument filters loaded at start, for rounding quantities and prices to the exchange's steps. */
  filter(symbol: string): InstrumentFilter | undefined {
    return this.filters.get(symbol);
  }

  placeEntry(intent: EntryIntent): Promise<VenueResult> {
    return this.started ? placeEntry(this.ctx, intent) : Promise.resolve(notStarted(intent.orderLinkId));
  }

  placeLadder(intents: readonly EntryIntent[]): Promise<VenueResult[]> {
    return this.started ? placeLadder(this.ctx, intents) : Promise.resolve(intents.map((i) => notStarted(i.orderLinkId)));
  }

  cancel(orderLinkId: string): Promise<VenueResult> {
    return this.started ? cancelOrder(this.ctx, orderLinkId) : Promise.resolve(notStarted(orderLinkId));
  }

  amend(orderLinkId: string, change: { price?: number; qty?: number; stopLoss?: number; takeProfit?: number }): Promise<VenueResult> {
    return this.started ? amendOrder(this.ctx, orderLinkId, change) : Promise.resolve(notStarted(orderLinkId));
  }

  trailStop(symbol: string, stopLoss: number): Promise<VenueResult> {
    return this.started ? trailStop(this.ctx, symbol, stopLoss) : Promise.resolve(notStarted(`trail-${symbol}`));
  }

  /**
   * Sets the symbol's leverage (both sides, one-way mode) before an entry planned at that leverage, so the
   * exchange's margin and liquidation price are the plan's. An unchanged leverage (110043) is done.
   */
  async setLeverage(symbol: string, leverage: number): Promise<VenueResult> {
    const id = `leverage-${symbol}`;
    if (!this.started) return notStarted(id);
    const out = await this.rest.call('/v5/position/set-leverage', (c) => c.setLeverage({ category: 'linear', symbol, buyLeverage: String(leverage), sellLeverage: String(leverage) }), [110043]);
    if (out.ok) return { status: 'done', orderLinkId: id, recovered: false };
    return out.kind === 'refused'
      ? { status: 'refused', orderLinkId: id, reason: 'EXCHANGE_REFUSED', retCode: out.retCode, message: `${out.retCode} ${out.retMsg}` }
      : { status: 'unknown', orderLinkId: id, message: out.error };
  }

  /** Closes the whole position at market, reduce-only, idempotent by `orderLinkId`. */
  closePosition(symbol: string, orderLinkId: string): Promise<VenueResult> {
    return this.started ? closePosition(this.ctx, symbol, orderLinkId) : Promise.resolve(notStarted(orderLinkId));
  }

  cancelAllEntries(symbol?: string): Promise<VenueResult> {
    return this.started ? cancelAllEntries(this.ctx, symbol) : Promise.resolve(notStarted('cancel-all'));
  }

  /** Reconciles now; concurrent calls share one run, and a call during a run schedules exactly one more. */
  reconcile(): Promise<ReconcileReport> {
    if (this.reconciling) {
      this.again = true;
      return this.reconciling;
    }
    const run = async (): Promise<ReconcileReport> => {
      let report: ReconcileReport;
      do {
        this.again = false;
        const since = this.lastExecSinceMs;
        const startedAt = Date.now() + this.rest.timeOffsetMs;
        report = await reconcile(this.ctx, { cancelUnknownOrders: this.opts.cancelUnknownOrders ?? false, emergencyStopPct: this.opts.emergencyStopPct ?? 5, sinceMs: since });
        if (report.ok) this.lastExecSinceMs = startedAt - 60_000;
        for (const e of report.executions) this.deliver(e);
        for (const id of report.recordsSettled) {
          if (this.opts.store.get(id)?.status !== 'not_found') continue;
          try {
            this.opts.onOrderMissing?.(id);
          } catch (err) {
            this.opts.log.error({ err: err instanceof Error ? err.message : String(err), orderLinkId: id }, 'bybit: onOrderMissing handler threw');
          }
        }
      } while (this.again && this.started);
      return report;
    };
    this.reconciling = run().finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  /** The exchange's positions, open orders and wallet as last seen, with the time of the last reconciliation. */
  snapshot(): VenueSnapshot {
    return this.state.snapshot(this.stream.isUp);
  }

  private onPrivate(topic: string, data: unknown[]): void {
    for (const row of data) {
      if (topic.startsWith('order')) {
        const o = parseOrder(row);
        if (o === undefined) continue;
        this.state.applyOrder(o);
        noteOrder(this.ctx, o);
        this.notifyOrder(o);
      } else if (topic.startsWith('position')) {
        const { symbol, size } = (row ?? {}) as { symbol?: unknown; size?: unknown };
        if (typeof symbol !== 'string' || typeof size !== 'string' || !Number.isFinite(Number(size))) {
          this.opts.log.warn({ row }, 'bybit: position row without a symbol or a numeric size, ignored');
          continue;
        }
        const p = parsePosition(row);
        this.state.applyPosition(symbol, p);
        try {
          this.opts.onPosition?.(symbol, p);
        } catch (err) {
          this.opts.log.error({ err: err instanceof Error ? err.message : String(err), symbol }, 'bybit: onPosition handler threw; update applied anyway');
        }
        if (p && p.stopLoss === 0 && this.started && !this.protecting.has(symbol)) {
          this.protecting.add(symbol);
          void protectPosition(this.ctx, p, this.opts.emergencyStopPct ?? 5).finally(() => this.protecting.delete(symbol));
        }
      } else if (topic.startsWith('execution')) {
        const e = parseExecution(row);
        if (e !== undefined) this.deliver(e);
      } else if (topic === 'wallet') {
        this.state.wallet = parseWallet(row) ?? this.state.wallet;
      }
    }
  }

  private notifyOrder(o: VenueOrder): void {
    try {
      this.opts.onOrder?.(o);
    } catch (err) {
      this.opts.log.error({ err: err instanceof Error ? err.message : String(err), orderLinkId: o.orderLinkId }, 'bybit: onOrder handler threw; update applied anyway');
    }
  }

  private deliver(e: VenueExecution): void {
    if (this.delivered.has(e.execId)) return;
    this.delivered.add(e.execId);
    if (this.delivered.size > 20_000) this.delivered.delete(this.delivered.values().next().value as string);
    try {
      this.opts.onExecution?.(e);
    } catch (err) {
      this.opts.log.error({ err: err instanceof Error ? err.message : String(err), execId: e.execId }, 'bybit: onExecution handler threw; fill delivered anyway');
    }
  }

  private onStreamUp(): void {
    this.counters.streamUp = true;
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    if (this.started) void this.reconcile();
  }

  private onStreamDown(reason: string): void {
    this.counters.streamUp = false;
    this.counters.streamDrops++;
    this.opts.log.warn({ reason }, 'bybit private stream down: polling REST until it is back');
    if (this.started) this.startPolling();
  }

  private startPolling(): void {
    if (this.pollTimer !== undefined) return;
    this.pollTimer = setInterval(() => void this.reconcile(), this.opts.pollIntervalMs ?? 2000);
  }
}

function notStarted(orderLinkId: string): VenueResult {
  return { status: 'refused', orderLinkId, reason: 'VENUE_NOT_STARTED', message: 'the Bybit venue has not started (or was stopped)' };
}

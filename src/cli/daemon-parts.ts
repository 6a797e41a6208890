import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Subscription } from 'rxjs';
import type { SourceEvent } from '../core/events.js';
import { Engine, type EngineOutput } from '../engine/engine.js';
import { encodeRanking, encodeSignal } from '../sinks/bus-schema.js';
import type { Bus } from '../sinks/bus.js';
import { startOperatorServer, type OperatorServer, type Readiness } from '../sinks/http-server.js';
import { LogSummary } from '../sinks/log-summary.js';
import { registerClusterOutcomeMetrics } from '../sinks/cluster-outcome-metrics.js';
import { redactUrl, type Logger } from '../sinks/logger.js';
import { OutageLog } from '../sinks/outage-log.js';
import { registerStatsGauges, type EngineMetrics } from '../sinks/metrics.js';
import { createBus } from '../sinks/redis-bus.js';
import { TapeWriter } from '../sinks/tape-writer.js';
import type { ChannelQueue } from '../sinks/notify/channel-queue.js';
import { discoverLinearInstruments, InstrumentsWatcher } from '../streams/bybit-instruments.js';
import type { BybitStream } from '../streams/bybit-stream.js';
import { RestPacer } from '../streams/rest-pacer.js';
import { EstimatorBootstrapper } from './bootstrap.js';
import { registerCoinGlassMetrics, startCoinGlass, type CoinGlassFeed } from './coinglass.js';
import type { Config } from './config.js';
import { engineSettings } from './engine-settings.js';
import type { LiveClock } from './live-clock.js';
import type { Part } from './part.js';
import type { ExecutionPart } from './execution.js';
import type { WickStatsBook } from './wick-stats-part.js';
import type { ExecutionOutput } from '../actors/execution-state.js';
import type { NotifierTap } from './notify.js';
import type { PostHandler } from '../sinks/http-server.js';
import type { OperatorConsole } from '../sinks/notify/operator-console.js';
import type { InstrumentRules } from '../core/instrument-rounding.js';
import { openStorage, writeEngineOutput, type Storage } from './storage.js';

/**
 * What the daemon's parts share. Each part fills in its own field when it starts, and reads the fields of the
 * parts listed before it; a field of a later part is read only when an event arrives, never at start.
 */
export interface DaemonWiring {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: LiveClock;
  readonly metrics: EngineMetrics;
  readonly stream: BybitStream;
  /** Latest up/down event per source, for /readyz. */
  readonly sources: Map<string, SourceEvent>;
  /** Also told about every engine output (tests, extensions). */
  readonly onOutput?: (event: EngineOutput) => void;
  server?: OperatorServer;
  storage?: Storage;
  /** False once the store has stopped taking rows (shutdown), so late outputs are dropped, not faulted. */
  storeOpen: boolean;
  tape?: TapeWriter;
  bus?: Bus;
  engine?: Engine;
  coinglass?: CoinGlassFeed;
  bootstrapper?: EstimatorBootstrapper;
  /** Outage start/reminder/end lines per source (see `outagesOf`). */
  outages?: OutageLog;
  /** Failed instrument discoveries so far (the REST source's retry count). */
  discoveryFailures?: () => number;
  /** Tick and qty steps per symbol from the last instrument list (orders are rounded to them). */
  readonly instruments: Map<string, InstrumentRules>;
  /** Trading, once its saved state is loaded; undefined while loading, with TRADING_MODE=off, or after stop. */
  execution?: ExecutionPart;
  /** Settles once trading started (or failed to, logged). */
  executionStarted?: Promise<void>;
  /** Wick statistics per coin from the stored history (`wickStatsPart`); undefined without a store. */
  wickStats?: WickStatsBook;
  /** Email, X and SMS channels (each queued; `send` never blocks), empty when none is configured. */
  broadcasts?: readonly ChannelQueue[];
  /** The one pacer for Bybit public market REST history (estimator bootstrap, history updater); see `restPacerOf`. */
  restPacer?: RestPacer;
  /** Why trading is off although TRADING_MODE asks for it (the Bybit venue refused to start); `/risk` shows it. */
  tradingRefusal?: { readonly venue: string; readonly reason: string; readonly message: string; readonly atMs: number };
  /** The notification tap while the notifications part runs (see notify.ts). */
  notifier?: NotifierTap;
  /** The operator console the Telegram bot uses; it also takes the execution actor's control answers. */
  operatorConsole?: OperatorConsole & { onExecutionOutput(o: ExecutionOutput): void };
  /** POST routes of the operator HTTP server (the Telegram webhook, the risk controls), looked up per request. */
  readonly postRoutes: Map<string, PostHandler>;
}

/** The daemon's outage log, created on first use: WS shards count connect failures, discovery its failed runs. */
export function outagesOf(w: DaemonWiring): OutageLog {
  w.outages ??= new OutageLog({
    log: w.log,
    clock: w.clock,
    reminderMs: w.config.outageReminderMs,
    attempts: (s) => w.stream.stats().find((c) => c.id === s)?.connectFailures ?? (s === 'bybit-rest-instruments' ? w.discoveryFailures?.() : undefined),
  });
  return w.outages;
}

/**
 * The daemon's shared Bybit public REST pacer (BYBIT_REST_REQUESTS_PER_SEC), created on first use: the
 * estimator bootstrap and the history updater count against the same per-IP budget, so they share one queue.
 */
export function restPacerOf(w: DaemonWiring): RestPacer {
  w.restPacer ??= new RestPacer(w.clock, { limit: w.config.bybitRestRequestsPerSec, windowMs: 1000, timerName: 'bybit-rest-pacer' });
  return w.restPacer;
}

/** Operator HTTP server: first up (so /healthz answers while Bybit is unreachable), last down. */
export function serverPart(w: DaemonWiring, readiness: () => Readiness): Part {
  const { config } = w;
  return {
    name: 'http server',
    async start() {
      try {
        w.server = await startOperatorServer(
          {
            registry: w.metrics.registry,
            readiness,
            symbol: (symbol) => {
              const live = w.engine?.describe(symbol);
              const wicks = w.wickStats?.describe(symbol) ?? null;
              if (live === undefined) return wicks === null ? undefined : { symbol, wickStats: wicks };
              return { ...live, wickStats: wicks };
            },
            post: (path) => w.postRoutes.get(path),
            extra: {
              '/symbols': () => ({ symbols: w.engine?.symbols() ?? w.stream.symbols() }),
              '/reliable-ranges': () => ({ coins: w.engine?.clusterOutcomes().filter((c) => c.ranges.length > 0) ?? [] }),
              '/rankings': () => w.engine?.rankings() ?? { kind: 'ranking', rankedAt: null, coins: 0, top: [], armed: [] },
              '/coinglass': () => w.coinglass?.describe() ?? { state: 'disabled', reason: 'no COINGLASS_API_KEY: the own estimate stands alone' },
              ...Object.fromEntries(['/positions', '/orders', '/trades', '/trades/history', '/risk'].map((p) => [p, (q: URLSearchParams) => w.execution?.routes()[p]?.(q)])),
              '/risk': (q) => w.execution?.routes()['/risk']?.(q) ?? (w.tradingRefusal === undefined ? undefined : { risk: null, tradingDisabled: { ...w.tradingRefusal, at: new Date(w.tradingRefusal.atMs).toISOString() } }),
            },
          },
          config.httpPort,
          config.httpHost,
        );
      } catch (err) {
        throw new Error(`cannot listen on ${config.httpHost}:${config.httpPort}: ${err instanceof Error ? err.message : String(err)}`);
      }
      w.log.info({ port: w.server.port, host: config.httpHost, ws: redactUrl(config.bybitWsUrl), rest: redactUrl(config.bybitRestUrl) }, 'operator HTTP server listening');
    },
    stop: () => w.server?.close(),
  };
}

/** The store and its batch writer; closing flushes what the actors emitted (or journals it if the DB is down). */
export function storagePart(w: DaemonWiring): Part {
  return {
    name: 'store',
    async start() {
      w.storage = await openStorage(w.config, w.log, w.clock, w.metrics.registry);
      w.storage.migrated.catch((err: unknown) => w.log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'migrations refused; fix the schema files'));
    },
    async stop() {
      w.storeOpen = false;
      await w.storage?.close();
    },
  };
}

/** Raw-frame tape (`--record`, `record`): every frame with its receipt time. */
export function tapePart(w: DaemonWiring, dir: string): Part {
  return {
    name: 'tape',
    start() {
      mkdirSync(dir, { recursive: true });
      w.tape = new TapeWriter({
        dir,
        clock: w.clock,
        rotateBytes: w.config.tapeRotateBytes,
        rotateMs: w.config.tapeRotateMs,
        meta: { host: hostname(), wsUrl: redactUrl(w.config.bybitWsUrl) },
        onError: (err) => w.log.error({ err: err.message }, 'tape writer error'),
      });
      w.log.info({ dir }, 'recording raw frames to tape');
    },
    stop: () => w.tape?.close(),
  };
}

/** Signals and rankings: in-process always; also a Redis Stream + pub/sub channel when REDIS_URL is set. */
export function busPart(w: DaemonWiring): Part {
  return {
    name: 'bus',
    start() {
      const bus = createBus(w.config.redisUrl, { logger: w.log, prefix: w.config.redisKeyPrefix });
      w.bus = bus;
      if (w.config.redisUrl !== undefined) w.log.info({ redis: redactUrl(w.config.redisUrl) }, 'publishing signals and rankings to Redis');
      registerStatsGauges(w.metrics.registry, 'whalestack_bus', 'Signal/ranking bus', () => ({ ...bus.stats() }));
    },
    stop: () => w.bus?.close(),
  };
}

/** The engine, and where its outputs go: log, CoinGlass spike refreshes, bus, store. */
export function enginePart(w: DaemonWiring): Part {
  const { log, clock } = w;
  const badFrames = new LogSummary(log, 'bad frames', { firstLines: 20, windowMs: 60_000, now: () => clock.now() });
  const warnBadFrame = (fields: object, msg: string) => badFrames.line(fields, msg);
  const outcomeMetrics = registerClusterOutcomeMetrics(w.metrics.registry, () => w.engine?.clusterOutcomes() ?? []);
  const route = (event: EngineOutput): void => {
    if (event.kind === 'spike') {
      log.info({ spike: event }, `spike on ${event.symbol}: ${event.reasons.join(', ')}`);
      w.coinglass?.onSpike(event.symbol);
    } else if (event.kind === 'signal') {
      log.info({ signal: event.signal }, `SIGNAL ${event.signal.direction} ${event.signal.symbol} score ${event.signal.score}`);
      w.bus?.publish(encodeSignal(event.signal, event.emittedAt));
    } else if (event.kind === 'evaluated') {
      w.coinglass?.onEvaluated(event);
    } else if (event.kind === 'cluster-outcome') {
      outcomeMetrics.observe(event);
    } else if (event.kind === 'ranking') {
      w.coinglass?.setSymbols(w.stream.symbols(), event.top.map((c) => c.symbol));
      w.bus?.publish(encodeRanking({ rankedAt: event.rankedAt, top: event.top, armed: event.armed }));
    }
    if (w.storage !== undefined && w.storeOpen) writeEngineOutput(w.storage.writer, event);
    w.execution?.onEngineOutput(event);
    w.notifier?.onEngineOutput(event);
    w.onOutput?.(event);
  };
  return {
    name: 'engine',
    start() {
      w.engine = new Engine({
        clock,
        // Inline while the engine keeps up; past 512 frames in one event-loop turn, queue and conflate.
        drain: { mode: 'adaptive', inlineBudget: 512, schedule: (drain) => setImmediate(drain) },
        ...engineSettings(w.config),
        onOutput: route,
        onBadFrame: (reason, detail, text) => warnBadFrame({ reason, detail, frame: text.slice(0, 300) }, 'bad frame refused'),
        onSystemEvent: (event) => log.error({ event }, `actor ${event.id} ${event.kind === 'actor-stopped' ? 'stopped' : 'restarted'}: ${event.error}`),
        onLatency: (kind, ms) => w.metrics.observeLatency(kind, ms),
      });
    },
    // Finish what the actors still have queued; the store (stopped after this) then takes the last rows.
    stop: () => {
      w.engine?.system.drain();
      badFrames.flush();
    },
  };
}

/** CoinGlass heatmaps on their budgeted scheduler (off without a key). */
export function coinglassPart(w: DaemonWiring): Part {
  return {
    name: 'coinglass',
    start() {
      if (w.engine === undefined) return;
      w.coinglass = startCoinGlass(w.config, w.log, w.clock, w.engine, w.tape, outagesOf(w));
      if (w.coinglass !== undefined) registerCoinGlassMetrics(w.metrics.registry, w.coinglass);
    },
    stop: () => w.coinglass?.stop(),
  };
}

/** Rebuilds each new coin's own liquidation estimate from Bybit REST history. */
export function bootstrapPart(w: DaemonWiring): Part {
  return {
    name: 'estimator bootstrap',
    start() {
      if (w.engine !== undefined) w.bootstrapper = new EstimatorBootstrapper(w.config, w.log, w.clock, w.engine, w.tape, restPacerOf(w));
    },
    stop: () => w.bootstrapper?.stop(),
  };
}

/** The sharded public WebSocket stream: frames to the tape and the engine, up/down events to the log. */
export function streamPart(w: DaemonWiring): Part {
  const subs: Subscription[] = [];
  return {
    name: 'bybit stream',
    start() {
      subs.push(w.stream.sourceEvents$.subscribe((event) => noteSource(w, event)));
      subs.push(
        w.stream.frames$.subscribe((frame) => {
          w.tape?.write({ t: frame.tsInit, s: frame.connId, d: frame.text });
          w.engine?.ingest(frame.text, frame.tsInit);
        }),
      );
    },
    async stop() {
      for (const s of subs) s.unsubscribe();
      await w.stream.close();
      w.outages?.stop();
    },
  };
}

/** Instrument discovery over REST, re-run periodically: listings and delistings reach the stream and engine. */
export function discoveryPart(w: DaemonWiring): Part & { readonly watcher: InstrumentsWatcher } {
  const { config, stream, log } = w;
  const watcher = new InstrumentsWatcher({
    discover: () => discoverLinearInstruments({ baseUrl: config.bybitRestUrl, timeoutMs: 10_000 }),
    clock: w.clock,
    random: Math.random,
    intervalMs: config.discoveryIntervalMs,
    shrinkGuard: { maxDropFraction: config.instruments.maxDropFraction, confirmations: config.instruments.shrinkConfirmations },
    suspectRetry: { baseMs: config.instruments.retryMs, capMs: config.discoveryIntervalMs },
  });
  const subs: Subscription[] = [];
  w.discoveryFailures = () => watcher.stats().failures;
  return {
    name: 'instrument discovery',
    watcher,
    start() {
      subs.push(watcher.sourceEvents$.subscribe((event) => noteSource(w, event)));
      subs.push(
        watcher.changes$.subscribe((change) => {
          const allow = config.symbols === undefined ? undefined : new Set(config.symbols);
          const symbols = change.instruments.map((i) => i.symbol).filter((s) => allow === undefined || allow.has(s));
          for (const i of change.instruments) w.instruments.set(i.symbol, i);
          const diff = stream.setSymbols(symbols);
          const confirmed = change.shrinkConfirmedAfter;
          log[confirmed === undefined ? 'info' : 'warn'](
            { symbols: symbols.length, added: diff.added.length, removed: diff.removed.length, delisted: change.delisted.map((i) => i.symbol), shrinkConfirmedAfter: confirmed },
            confirmed === undefined ? 'instrument list applied' : `instrument list applied: a large shrink confirmed by ${confirmed} replies in a row`,
          );
          for (const gone of diff.removed) w.engine?.decoder.forget(gone);
          w.coinglass?.setSymbols(symbols, w.engine?.rankings()?.top.map((c) => c.symbol) ?? []);
          w.bootstrapper?.add(diff.added);
        }),
      );
      watcher.start();
    },
    stop() {
      watcher.stop();
      for (const s of subs) s.unsubscribe();
    },
  };
}

function noteSource(w: DaemonWiring, event: SourceEvent): void {
  w.sources.set(event.source, event);
  w.notifier?.onSource(event);
  if (event.kind === 'source-down') outagesOf(w).down(event.source, event.reason);
  else outagesOf(w).up(event.source);
}

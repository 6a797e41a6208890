import type { EngineOutput, Engine } from '../engine/engine.js';
import type { Bus } from '../sinks/bus.js';
import type { Logger } from '../sinks/logger.js';
import { createEngineMetrics } from '../sinks/metrics.js';
import { registerDropMetrics } from '../sinks/drop-metrics.js';
import { lockPart } from './daemon-locks.js';
import type { TapeWriter } from '../sinks/tape-writer.js';
import { BybitStream } from '../streams/bybit-stream.js';
import type { Config } from './config.js';
import {
  bootstrapPart,
  busPart,
  coinglassPart,
  discoveryPart,
  enginePart,
  serverPart,
  storagePart,
  streamPart,
  tapePart,
  type DaemonWiring,
} from './daemon-parts.js';
import { LiveClock } from './live-clock.js';
import { startParts, type Part } from './part.js';
import { coinStatePart } from './liquidity-state.js';
import { broadcastPart } from './broadcasts.js';
import type { ChannelQueue } from '../sinks/notify/channel-queue.js';
import { executionPart, type ExecutionPart } from './execution.js';
import { wickStatsPart } from './wick-stats-part.js';
import { historyPart } from './history-updater.js';
import type { Storage } from './storage.js';
import type { NotificationChannel } from '../core/notification.js';
import { notifyPart } from './notify.js';
import { operatorConsole } from './operator-views.js';
import { registerRiskRoutes } from './risk-routes.js';
import { telegramChannel, telegramPart } from './telegram.js';

export interface DaemonOptions {
  /** Also write every raw frame to a tape in this directory. */
  readonly recordDir?: string;
  /** `record` mode: stream and tape only, no engine. */
  readonly recordOnly?: boolean;
  /** Also told about every engine output (tests, extensions). */
  readonly onOutput?: (event: EngineOutput) => void;
  /** First history update this long after start (default 300 000: start-up and the estimator bootstrap go first; tests use 0). */
  readonly historyFirstDelayMs?: number;
  /** Notification channels besides Telegram (the broadcasts), fed by the same hub. */
  readonly channels?: readonly NotificationChannel[];
}

const engineOnFor = (opts: DaemonOptions): boolean => !opts.recordOnly;

export interface Daemon {
  readonly port: number;
  readonly engine: Engine | undefined;
  readonly stream: BybitStream;
  readonly tape: TapeWriter | undefined;
  readonly storage: Storage | undefined;
  readonly bus: Bus | undefined;
  /** Trading (paper broker); undefined with TRADING_MODE=off, in record mode, or until its state is loaded. */
  readonly execution: ExecutionPart | undefined;
  /** Settles once trading started (or was disabled with an error logged). */
  readonly executionStarted: Promise<void>;
  /** The configured broadcast channels (email, X, SMS), queued; empty when none is configured. */
  readonly broadcasts: readonly ChannelQueue[];
  /** Clean shutdown: every part stopped in reverse order of starting. */
  close(): Promise<void>;
}

/**
 * Starts the live daemon as a list of parts, each with a start/stop lifecycle (see `part.ts`): started in this
 * order, stopped in reverse. The operator HTTP server comes first so /healthz answers while Bybit is unreachable;
 * the store is up before anything can emit rows; the stream starts only when everything it feeds is up, and
 * discovery last, since it is what subscribes the stream. Nothing the exchange sends can stop it: sources retry
 * forever with backoff and report SourceDown/SourceUp.
 */
export async function startDaemon(config: Config, log: Logger, opts: DaemonOptions = {}): Promise<Daemon> {
  const clock = new LiveClock();
  const stream = new BybitStream({
    url: config.bybitWsUrl,
    clock,
    random: Math.random,
    connection: { pingIntervalMs: config.wsPingIntervalMs, pongTimeoutMs: config.wsPongTimeoutMs, staleAfterMs: config.wsStaleAfterMs, maxPayloadBytes: config.wsMaxFrameBytes, logger: log },
  });
  const w: DaemonWiring = { config, log, clock, stream, metrics: engineMetrics(stream, clock, () => w.engine), sources: new Map(), instruments: new Map(), storeOpen: true, onOutput: opts.onOutput, postRoutes: new Map() };
  w.operatorConsole = operatorConsole(w);
  registerRiskRoutes(w);
  const telegram = engineOnFor(opts) ? telegramChannel(w) : undefined;
  const channels: NotificationChannel[] = [...(telegram === undefined ? [] : [telegram]), ...(opts.channels ?? [])];
  registerDropMetrics(w.metrics.registry, { tape: () => w.tape?.stats, oversize: () => stream.stats() });
  const discovery = discoveryPart(w);
  const engineOn = engineOnFor(opts);

  const parts: Part[] = [
    lockPart(config.dataDir, opts.recordOnly === true, opts.recordDir),
    serverPart(w, () => readiness(w, discovery.watcher.stats().lastSuccessAt > 0)),
    // Early, so they stop late: what the engine and trading say while they shut down still goes out. The hub
    // stops before the broadcast queues it feeds, which then drain.
    ...(engineOn ? [broadcastPart(w), notifyPart(w, () => [...channels, ...(w.broadcasts ?? [])]), telegramPart(w, telegram)] : []),
    ...(engineOn ? [storagePart(w)] : []),
    ...(opts.recordDir !== undefined ? [tapePart(w, opts.recordDir)] : []),
    ...(engineOn ? [busPart(w), enginePart(w), coinStatePart(w), coinglassPart(w), executionPart(w), wickStatsPart(w), bootstrapPart(w), historyPart(w, () => discovery.watcher.current(), opts.historyFirstDelayMs)] : []),
    streamPart(w),
    discovery,
  ];
  const running = await startParts(parts, log);

  return {
    port: w.server!.port,
    engine: w.engine,
    stream,
    tape: w.tape,
    storage: w.storage,
    bus: w.bus,
    get execution() {
      return w.execution;
    },
    executionStarted: w.executionStarted ?? Promise.resolve(),
    get broadcasts() {
      return w.broadcasts ?? [];
    },
    close: async () => {
      await running.stop();
      clock.cancelAll();
    },
  };
}

/** Ready once instruments are discovered, the stream is live and enough ticker topics answer; says which sources are down. */
function readiness(w: DaemonWiring, discovered: boolean) {
  const { stream } = w;
  const streaming = stream.symbols().length > 0 && stream.isReady(w.clock.now());
  // Enough ticker topics must be live too: a connection can be up while most of its topics never answer.
  const tickers = stream.liveTickerShare(w.clock.now());
  const live = tickers.share >= w.config.readyLiveTopicShare;
  const down = [...w.sources.values()].filter((e) => e.kind === 'source-down').map((e) => e.source);
  return {
    ready: discovered && streaming && live,
    detail: { discovered, streaming, symbols: stream.symbols().length, liveTickers: tickers.live, tickerTopics: tickers.total, requiredLiveShare: w.config.readyLiveTopicShare, sourcesDown: down },
  };
}

/** Engine, decoder, connection and actor gauges, read at scrape time. */
function engineMetrics(stream: BybitStream, clock: LiveClock, engine: () => Engine | undefined) {
  return createEngineMetrics({
    decoder: () => ({ frames: engine()?.frameCounts() ?? {}, bad: { ...(engine()?.decoder.counters.bad ?? {}) } }),
    connections: () => {
      const now = clock.now();
      const stale = new Set(stream.staleTopics(now));
      const assignment = stream.assignment();
      return stream.stats().map((s) => ({
        id: s.id,
        up: s.up,
        reconnects: s.reconnects,
        staleRecoveries: s.staleRecoveries,
        secondsSinceLastFrame: Number.isNaN(s.lastFrameAt) ? -1 : (now - s.lastFrameAt) / 1000,
        staleTopics: (assignment.get(s.id) ?? []).filter((t) => stale.has(t)).length,
      }));
    },
    actors: () => engine()?.system.stats() ?? [],
    outputs: () => ({ ...(engine()?.outputs ?? {}) }),
  });
}

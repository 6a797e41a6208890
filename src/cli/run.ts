import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Subscription } from 'rxjs';
import type { SourceEvent } from '../core/events.js';
import { startOperatorServer, type OperatorServer } from '../sinks/http-server.js';
import { redactUrl, type Logger } from '../sinks/logger.js';
import { createEngineMetrics, registerStatsGauges } from '../sinks/metrics.js';
import { TapeWriter } from '../sinks/tape-writer.js';
import { discoverLinearInstruments, InstrumentsWatcher } from '../streams/bybit-instruments.js';
import { BybitStream } from '../streams/bybit-stream.js';
import type { Config } from './config.js';
import { Engine, type EngineOutput } from '../engine/engine.js';
import { engineSettings } from './engine-settings.js';
import { LiveClock } from './live-clock.js';
import { encodeRanking, encodeSignal } from '../sinks/bus-schema.js';
import type { Bus } from '../sinks/bus.js';
import { createBus } from '../sinks/redis-bus.js';
import { EstimatorBootstrapper } from './bootstrap.js';
import { registerCoinGlassMetrics, startCoinGlass, type CoinGlassFeed } from './coinglass.js';
import { openStorage, writeEngineOutput, type Storage } from './storage.js';
import { executionSettings, startExecution, type ExecutionPart } from './execution.js';
import type { InstrumentRules } from '../core/instrument-rounding.js';

export interface DaemonOptions {
  /** Also write every raw frame to a tape in this directory. */
  readonly recordDir?: string;
  /** `record` mode: stream and tape only, no engine. */
  readonly recordOnly?: boolean;
  /** Also told about every engine output (tests, extensions). */
  readonly onOutput?: (event: EngineOutput) => void;
}

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
  /** Clean shutdown: stop sources, flush the tape, close the server. */
  close(): Promise<void>;
}

/** Logs at most `perMinute` lines a minute for a noisy category, then one summary line. */
function rateLimited(log: Logger, perMinute: number, now: () => number) {
  let windowStart = 0;
  let count = 0;
  let suppressed = 0;
  return (fields: object, msg: string) => {
    const t = now();
    if (t - windowStart >= 60_000) {
      if (suppressed > 0) log.warn({ suppressed }, 'similar log lines suppressed in the last minute');
      windowStart = t;
      count = 0;
      suppressed = 0;
    }
    if (++count <= perMinute) log.warn(fields, msg);
    else suppressed++;
  };
}

/**
 * Starts the live daemon: operator HTTP server first (so /healthz answers even while Bybit is unreachable),
 * then symbol discovery over REST and the sharded public WebSocket stream feeding the engine. Nothing the
 * exchange sends can stop it: sources retry forever with backoff and report SourceDown/SourceUp.
 */
export async function startDaemon(config: Config, log: Logger, opts: DaemonOptions = {}): Promise<Daemon> {
  const clock = new LiveClock();
  const warnBadFrame = rateLimited(log, 20, () => clock.now());
  const sourceState = new Map<string, SourceEvent>();
  const engine = opts.recordOnly
    ? undefined
    : new Engine({
        clock,
        // Inline while the engine keeps up; past 512 frames in one event-loop turn, queue and conflate.
        drain: { mode: 'adaptive', inlineBudget: 512, schedule: (drain) => setImmediate(drain) },
        ...engineSettings(config),
        onOutput: (event) => {
          if (event.kind === 'spike') {
            log.info({ spike: event }, `spike on ${event.symbol}: ${event.reasons.join(', ')}`);
            coinglass?.onSpike(event.symbol);
          } else if (event.kind === 'signal') {
            log.info({ signal: event.signal }, `SIGNAL ${event.signal.direction} ${event.signal.symbol} score ${event.signal.score}`);
            bus?.publish(encodeSignal(event.signal, event.emittedAt));
          } else if (event.kind === 'ranking') {
            coinglass?.setSymbols(stream.symbols(), event.top.map((c) => c.symbol));
            bus?.publish(encodeRanking({ rankedAt: event.rankedAt, top: event.top, armed: event.armed }));
          }
          if (storage !== undefined && storeOpen) writeEngineOutput(storage.writer, event);
          execution?.onEngineOutput(event);
          opts.onOutput?.(event);
        },
        onBadFrame: (reason, detail, text) => warnBadFrame({ reason, detail, frame: text.slice(0, 300) }, 'bad frame refused'),
        onSystemEvent: (event) => log.error({ event }, `actor ${event.id} ${event.kind === 'actor-stopped' ? 'stopped' : 'restarted'}: ${event.error}`),
        onLatency: (kind, ms) => metrics.observeLatency(kind, ms),
      });

  const stream = new BybitStream({
    url: config.bybitWsUrl,
    clock,
    random: Math.random,
    connection: {
      pingIntervalMs: config.wsPingIntervalMs,
      pongTimeoutMs: config.wsPongTimeoutMs,
      staleAfterMs: config.wsStaleAfterMs,
      logger: log,
    },
  });

  const metrics = createEngineMetrics({
    decoder: () => ({ frames: engine?.frameCounts() ?? {}, bad: { ...(engine?.decoder.counters.bad ?? {}) } }),
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
    actors: () => engine?.system.stats() ?? [],
    outputs: () => ({ ...(engine?.outputs ?? {}) }),
  });

  const storage = opts.recordOnly ? undefined : await openStorage(config, log, clock, metrics.registry);
  let storeOpen = true;
  storage?.migrated.catch((err: unknown) => log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'migrations refused; fix the schema files'));

  let tape: TapeWriter | undefined;
  if (opts.recordDir !== undefined) {
    mkdirSync(opts.recordDir, { recursive: true });
    tape = new TapeWriter({
      dir: opts.recordDir,
      clock,
      rotateBytes: config.tapeRotateBytes,
      rotateMs: config.tapeRotateMs,
      meta: { host: hostname(), wsUrl: config.bybitWsUrl },
      onError: (err) => log.error({ err: err.message }, 'tape writer error'),
    });
    log.info({ dir: opts.recordDir }, 'recording raw frames to tape');
  }

  // Signals and rankings: in-process always; also a Redis Stream + pub/sub channel when REDIS_URL is set.
  const bus: Bus | undefined = engine === undefined ? undefined : createBus(config.redisUrl, { logger: log, prefix: config.redisKeyPrefix });
  if (config.redisUrl !== undefined) log.info({ redis: redactUrl(config.redisUrl) }, 'publishing signals and rankings to Redis');
  if (bus !== undefined) registerStatsGauges(metrics.registry, 'whalestack_bus', 'Signal/ranking bus', () => ({ ...bus.stats() }));
  const coinglass: CoinGlassFeed | undefined = engine === undefined ? undefined : startCoinGlass(config, log, clock, engine, tape);

  const bootstrapper = engine === undefined ? undefined : new EstimatorBootstrapper(config, log, clock, engine, tape);

  // Trading starts once the store has its schema and the saved paper state is loaded (never trade without it).
  const instrumentRules = new Map<string, InstrumentRules>();
  let execution: ExecutionPart | undefined;
  const executionStarted =
    engine === undefined || config.trading.mode === 'off'
      ? Promise.resolve()
      : startExecution({
          clock, engine, ...executionSettings(config.trading, coinglass !== undefined), store: storage, storeReady: storage?.migrated,
          instruments: (s) => instrumentRules.get(s), registry: metrics.registry, log, killSwitch: config.trading.killSwitch,
          requestRefresh: (symbol) => void coinglass?.scheduler.requestCoin(symbol, 'pre-trade').catch(() => undefined),
        }).then(
          (part) => {
            execution = part;
            log.info({ venue: part.broker.venue, equityUsd: part.broker.account().equityUsd, positions: part.broker.positions().length }, 'trading on the paper broker');
          },
          (err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'trading disabled: execution state could not be loaded'),
        );

  const watcher = new InstrumentsWatcher({
    discover: () => discoverLinearInstruments({ baseUrl: config.bybitRestUrl, timeoutMs: 10_000 }),
    clock,
    random: Math.random,
    intervalMs: config.discoveryIntervalMs,
  });

  const subs: Subscription[] = [];
  const onSource = (event: SourceEvent) => {
    sourceState.set(event.source, event);
    if (event.kind === 'source-down') log.warn({ source: event.source, reason: event.reason }, `source down: ${event.source}`);
    else log.info({ source: event.source }, `source up: ${event.source}`);
  };
  subs.push(stream.sourceEvents$.subscribe(onSource));
  subs.push(watcher.sourceEvents$.subscribe(onSource));
  subs.push(
    stream.frames$.subscribe((frame) => {
      tape?.write({ t: frame.tsInit, s: frame.connId, d: frame.text });
      engine?.ingest(frame.text, frame.tsInit);
    }),
  );
  subs.push(
    watcher.changes$.subscribe((change) => {
      const allow = config.symbols === undefined ? undefined : new Set(config.symbols);
      const symbols = change.instruments.map((i) => i.symbol).filter((s) => allow === undefined || allow.has(s));
      for (const i of change.instruments) instrumentRules.set(i.symbol, i);
      const diff = stream.setSymbols(symbols);
      log.info(
        { symbols: symbols.length, added: diff.added.length, removed: diff.removed.length, delisted: change.delisted.map((i) => i.symbol) },
        'instrument list applied',
      );
      for (const gone of diff.removed) engine?.decoder.forget(gone);
      coinglass?.setSymbols(symbols, engine?.rankings()?.top.map((c) => c.symbol) ?? []);
      bootstrapper?.add(diff.added);
    }),
  );

  const readiness = () => {
    const now = clock.now();
    const discovered = watcher.stats().lastSuccessAt > 0;
    const streaming = stream.symbols().length > 0 && stream.isReady(now);
    const down = [...sourceState.values()].filter((e) => e.kind === 'source-down').map((e) => e.source);
    return { ready: discovered && streaming, detail: { discovered, streaming, symbols: stream.symbols().length, sourcesDown: down } };
  };

  let server: OperatorServer;
  try {
    server = await startOperatorServer(
      {
        registry: metrics.registry,
        readiness,
        symbol: (symbol) => engine?.describe(symbol),
        extra: {
          '/symbols': () => ({ symbols: engine?.symbols() ?? stream.symbols() }),
          '/rankings': () => engine?.rankings() ?? { kind: 'ranking', rankedAt: null, coins: 0, top: [], armed: [] },
          ...Object.fromEntries(['/positions', '/orders', '/trades', '/risk'].map((p) => [p, (q: URLSearchParams) => execution?.routes()[p]?.(q)])),
        },
      },
      config.httpPort,
      config.httpHost,
    );
  } catch (err) {
    await stream.close();
    await tape?.close();
    await storage?.close();
    throw new Error(`cannot listen on ${config.httpHost}:${config.httpPort}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (coinglass !== undefined) registerCoinGlassMetrics(metrics.registry, coinglass);
  log.info({ port: server.port, host: config.httpHost, ws: config.bybitWsUrl, rest: config.bybitRestUrl }, 'operator HTTP server listening');
  watcher.start();

  let closing: Promise<void> | undefined;
  return {
    port: server.port,
    engine,
    stream,
    tape,
    storage,
    bus,
    get execution() {
      return execution;
    },
    executionStarted,
    close() {
      closing ??= (async () => {
        watcher.stop();
        coinglass?.stop();
        bootstrapper?.stop();
        for (const s of subs) s.unsubscribe();
        await stream.close();
        // Finish what the actors still have queued, then stop taking rows: a CoinGlass reply or timer landing after
        // this point is not written (the store would refuse it), rather than faulting an actor.
        engine?.system.drain();
        await executionStarted;
        await execution?.stop();
        storeOpen = false;
        await bus?.close();
        await tape?.close();
        // Everything the actors emitted is already enqueued; close() flushes it (or journals it if the DB is down).
        await storage?.close();
        await server.close();
        clock.cancelAll();
      })();
      return closing;
    },
  };
}


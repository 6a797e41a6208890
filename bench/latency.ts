import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { Engine } from '../src/engine/engine.js';
import { LiveClock } from '../src/cli/live-clock.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { BybitConnection } from '../src/streams/bybit-connection.js';
import { isMain, percentile, round } from './stats.js';

const YEAR_MS = 366 * 86_400_000;

interface Server {
  readonly url: string;
  readonly frames: number;
  readonly done: Promise<{ sent: number; elapsedMs: number }>;
  stop(): Promise<void>;
}

interface Load {
  readonly ratePerSec: number;
  readonly seconds: number;
  readonly symbols: number;
  readonly seed: number;
}

async function startServer(load: Load): Promise<Server> {
  const worker = new Worker(new URL('./latency-server.js', import.meta.url), { workerData: load });
  let resolveDone!: (v: { sent: number; elapsedMs: number }) => void;
  const done = new Promise<{ sent: number; elapsedMs: number }>((r) => (resolveDone = r));
  const [port, frames] = await new Promise<[number, number]>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: { op: string; port?: number; frames?: number; sent?: number; elapsedMs?: number }) => {
      if (m.op === 'listening') resolve([m.port!, m.frames!]);
      if (m.op === 'done') resolveDone({ sent: m.sent!, elapsedMs: m.elapsedMs! });
    });
  });
  return {
    url: `ws://127.0.0.1:${port}/v5/public/linear`,
    frames,
    done,
    stop: async () => {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.postMessage({ op: 'stop' });
      await exited;
    },
  };
}

function summarize(latenciesMs: Float64Array, n: number, skip: number) {
  const s = latenciesMs.slice(skip, n).sort();
  return { p50: percentile(s, 50), p99: percentile(s, 99), p999: percentile(s, 99.9), max: s[s.length - 1] ?? NaN, n: s.length };
}

/** Bare `ws` client doing JSON.parse + parseFloat + Map lookup in its message handler: the floor. */
async function baselineRun(load: Load): Promise<ReturnType<typeof summarize>> {
  const server = await startServer(load);
  const clock = new LiveClock();
  const lat = new Float64Array(server.frames);
  let n = 0;
  const state = new Map<string, Record<string, number>>();
  const ws = new WebSocket(server.url, { perMessageDeflate: false });
  ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', args: ['tickers.BTCUSDT'] })));
  ws.on('message', (raw: Buffer) => {
    const tsInit = clock.now();
    const o = JSON.parse(raw.toString()) as { topic?: string; data?: Record<string, string> | Record<string, string>[] };
    if (o.topic === undefined) return;
    const sym = o.topic.slice(o.topic.indexOf('.') + 1);
    let s = state.get(sym);
    if (s === undefined) state.set(sym, (s = {}));
    const data = o.data!;
    if (Array.isArray(data)) for (const item of data) s.p = parseFloat(item.p!);
    else for (const k in data) if (k !== 'symbol') s[k] = parseFloat(data[k]!);
    lat[n++] = clock.now() - tsInit;
  });
  await server.done;
  await new Promise((r) => setTimeout(r, 200));
  ws.close();
  await server.stop();
  return summarize(lat, n, Math.floor(n * 0.1));
}

/** The real path: BybitConnection → decoder → SymbolActor with the adaptive drain `run` uses. */
async function engineRun(load: Load): Promise<ReturnType<typeof summarize> & { conflated: number; processed: number; frames: number }> {
  const server = await startServer(load);
  const clock = new LiveClock();
  const lat = new Float64Array(server.frames * 2);
  let n = 0;
  const engine = new Engine({
    clock,
    drain: { mode: 'adaptive', inlineBudget: 512, schedule: (d) => setImmediate(d) },
    symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS },
    // The server sends pre-simulated frames (stamped 2026-01-01, an hour of market in seconds) on wall time: the
    // live event-time band would refuse them all, so it is opened wide to measure the path, not the refusal.
    eventTimeBand: { maxAheadMs: YEAR_MS, maxBehindMs: YEAR_MS },
    onLatency: (_k, ms) => {
      if (n < lat.length) lat[n++] = ms;
    },
  });
  const conn = new BybitConnection({
    id: 'bench-0',
    url: server.url,
    topics: ['tickers.BTCUSDT'],
    clock,
    random: () => 0.5,
    onFrame: (text, tsInit) => engine.ingest(text, tsInit),
  });
  conn.start();
  await server.done;
  await new Promise((r) => setTimeout(r, 200));
  await conn.close();
  await server.stop();
  clock.cancelAll();
  let conflated = 0;
  let processed = 0;
  for (const s of engine.system.stats()) {
    conflated += s.conflated;
    processed += s.processed;
  }
  return { ...summarize(lat, n, Math.floor(n * 0.1)), conflated, processed, frames: server.frames };
}

/**
 * Receipt→processed latency with frames paced at `ratePerSec` over loopback WS from a separate thread. The
 * first 10 % of samples (connection warm-up, actor creation) are discarded.
 */
export async function benchLatency(opts: { ratePerSec?: number; seconds?: number } = {}): Promise<Record<string, number | string>> {
  const rate = opts.ratePerSec ?? 25_000;
  const load: Load = { ratePerSec: rate, seconds: opts.seconds ?? 8, symbols: 500, seed: 7 };
  const base = await baselineRun(load);
  const eng = await engineRun(load);
  return {
    rate_frames_per_sec: rate,
    frames: eng.frames,
    baseline_p50_ms: round(base.p50, 4),
    baseline_p99_ms: round(base.p99, 4),
    engine_p50_ms: round(eng.p50, 4),
    engine_p99_ms: round(eng.p99, 4),
    engine_p999_ms: round(eng.p999, 4),
    engine_max_ms: round(eng.max, 3),
    engine_conflated_share: round(eng.conflated / Math.max(1, eng.processed + eng.conflated), 4),
    ratio_engine_p99_to_baseline_p99: round(eng.p99 / base.p99, 2),
    target: 'engine p99 ≤ 1 ms',
  };
}

if (isMain(import.meta.url)) {
  console.log(JSON.stringify(await benchLatency(), null, 2));
}

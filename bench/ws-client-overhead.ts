import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WebsocketClient } from 'bybit-api';
import WebSocket from 'ws';
import { BybitConnection } from '../src/streams/bybit-connection.js';
import { LiveClock } from '../src/cli/live-clock.js';

const TOPIC = 'tickers.BTCUSDT';

/** Ticker deltas shaped like the real capture: bid/ask churn, with mark price and OI value every 5th frame. */
function deltaFrames(count: number, tsStartMs: number): string[] {
  const out: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const bid = (65114.2 + (i % 50) * 0.1).toFixed(2);
    const ask = (65114.3 + (i % 50) * 0.1).toFixed(2);
    const extra = i % 5 === 0 ? `,"markPrice":"${(65117.43 + (i % 7) * 0.01).toFixed(2)}","openInterestValue":"${(3899995666.09 + i).toFixed(2)}"` : '';
    out[i] = `{"topic":"${TOPIC}","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"${bid}","bid1Size":"${(6 + (i % 13) / 10).toFixed(3)}","ask1Price":"${ask}","ask1Size":"10.486"${extra}},"cs":${753843907770 + i * 2518},"ts":${tsStartMs + i * 100}}`;
  }
  return out;
}

/** A client under test: connects, subscribes TOPIC, calls `onFrame` per data frame; returns its closer. */
type ClientFactory = (url: string, onFrame: () => void) => () => Promise<void> | void;

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * The fake Bybit server for this bench runs on its own thread so its send cost does not share the event
 * loop with the client being measured. It speaks the v5 public protocol (subscribe ack with conn_id/req_id,
 * pong) and, on `{op:'push'}` from the main thread, writes the frames (pre-framed, unmasked, one socket write)
 * to every subscriber of TOPIC.
 */
const SERVER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { WebSocketServer } = require(workerData.wsPath);
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
const subs = new Set();
let n = 0;
wss.on('listening', () => parentPort.postMessage({ op: 'listening', port: wss.address().port }));
wss.on('connection', (ws) => {
  const connId = 'bench-' + (++n);
  ws.on('close', () => { subs.delete(ws); parentPort.postMessage({ op: 'closed' }); });
  ws.on('error', () => subs.delete(ws));
  ws.on('message', (data) => {
    let req; try { req = JSON.parse(data.toString()); } catch { return; }
    const ack = (ret_msg) => ws.send(JSON.stringify({ success: true, ret_msg, conn_id: connId, req_id: req.req_id || '', op: req.op }));
    if (req.op === 'ping') ack('pong');
    if (req.op === 'subscribe' && Array.isArray(req.args)) {
      if (req.args.includes(workerData.topic)) subs.add(ws);
      ack('');
      parentPort.postMessage({ op: 'subscribed' });
    }
  });
});
parentPort.on('message', (m) => {
  if (m.op === 'push') {
    // Frame everything up front and write it in one go, so the server outruns any client being measured.
    const parts = [];
    for (const f of m.frames) {
      const body = Buffer.from(f, 'utf8');
      const len = body.length;
      const head = len < 126 ? Buffer.from([0x81, len]) : len < 65536 ? Buffer.from([0x81, 126, len >> 8, len & 255]) : null;
      if (head === null) throw new Error('frame too large for the bench');
      parts.push(head, body);
    }
    const wire = Buffer.concat(parts);
    for (const ws of subs) ws._socket.write(wire);
  }
  if (m.op === 'stop') { for (const ws of wss.clients) ws.terminate(); wss.close(() => process.exit(0)); }
});
`;

class BenchServer {
  subscribed = 0;
  closed = 0;
  private constructor(
    private readonly worker: Worker,
    readonly url: string,
  ) {
    worker.on('message', (m: { op: string }) => {
      if (m.op === 'subscribed') this.subscribed++;
      if (m.op === 'closed') this.closed++;
    });
  }

  static async start(): Promise<BenchServer> {
    const wsPath = createRequire(import.meta.url).resolve('ws');
    const worker = new Worker(SERVER_SOURCE, { eval: true, workerData: { wsPath, topic: TOPIC } });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (m: { port: number }) => resolve(m.port));
    });
    return new BenchServer(worker, `ws://127.0.0.1:${port}/v5/public/linear`);
  }

  push(frames: readonly string[]): void {
    this.worker.postMessage({ op: 'push', frames });
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.worker.once('exit', r));
    this.worker.postMessage({ op: 'stop' });
    await exited;
  }
}

/** Frames per second the client received, measured from its first to its last data frame. */
async function measure(server: BenchServer, frames: readonly string[], makeClient: ClientFactory): Promise<number> {
  const subscribedBefore = server.subscribed;
  const closedBefore = server.closed;
  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  const close = makeClient(server.url, () => {
    if (received === 0) firstAt = performance.now();
    received++;
    lastAt = performance.now();
  });
  try {
    await waitUntil(() => server.subscribed > subscribedBefore, 10_000, 'subscribe');
    await new Promise((r) => setTimeout(r, 20));
    received = 0;
    server.push(frames);
    await waitUntil(() => received >= frames.length, 120_000, `${frames.length} frames`);
    return (received - 1) / ((lastAt - firstAt) / 1000);
  } finally {
    await close();
    await waitUntil(() => server.closed > closedBefore, 5_000, 'client close');
  }
}

const rawClient =
  (parse: boolean): ClientFactory =>
  (url, onFrame) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', args: [TOPIC] })));
    ws.on('message', (data: WebSocket.RawData) => {
      const text = data.toString();
      if (parse) {
        const msg = JSON.parse(text) as { topic?: string };
        if (msg.topic !== undefined) onFrame();
      } else if (text.startsWith('{"topic"')) onFrame();
    });
    ws.on('error', () => {});
    return () => ws.terminate();
  };

const connectionClient: ClientFactory = (url, onFrame) => {
  const clock = new LiveClock();
  const conn = new BybitConnection({ id: 'bench-1', url, topics: [TOPIC], clock, random: Math.random, onFrame });
  conn.start();
  return async () => {
    await conn.close();
    clock.cancelAll();
  };
};

const sdkClient: ClientFactory = (url, onFrame) => {
  const quiet = { trace: () => {}, info: () => {}, error: () => {} };
  const ws = new WebsocketClient({ wsUrl: url, pingInterval: 20_000, pongTimeout: 10_000 }, quiet);
  ws.on('update', () => onFrame());
  ws.on('exception', () => {});
  void Promise.allSettled(ws.subscribeV5(TOPIC, 'linear'));
  return () => ws.closeAll(true);
};

/**
 * Frames/s received by a bare `ws` client, by `ws` + JSON.parse, by our BybitConnection, and by bybit-api's
 * WebsocketClient, all on the same locally pushed ticker deltas. Figures are ratios to the bare client
 * measured in the same run, since absolute rates on shared machines are noise.
 */
export async function benchWsClientOverhead(options: { frames?: number; rounds?: number } = {}): Promise<Record<string, number | string>> {
  const n = options.frames ?? 200_000;
  const rounds = options.rounds ?? 3;
  const server = await BenchServer.start();
  try {
    const frames = deltaFrames(n, Date.now());
    const warm = frames.slice(0, Math.min(20_000, n));
    const clients: [string, ClientFactory][] = [
      ['raw', rawClient(false)],
      ['rawJsonParse', rawClient(true)],
      ['bybitConnection', connectionClient],
      ['sdk', sdkClient],
    ];
    for (const [, make] of clients) await measure(server, warm, make);
    // Round-robin over the clients, median per client, so drift on a noisy machine hits all of them alike.
    const samples = new Map<string, number[]>(clients.map(([name]) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, make] of clients) samples.get(name)?.push(await measure(server, frames, make));
    }
    const rate: Record<string, number> = {};
    for (const [name, xs] of samples) rate[name] = median(xs);
    const raw = rate.raw ?? NaN;
    const r = (x: number | undefined) => Math.round((x ?? NaN) * 1000) / 1000;
    return {
      frames: n,
      frameBytesAvg: Math.round(frames.reduce((s, f) => s + f.length, 0) / n),
      rawFramesPerSec: Math.round(raw),
      rawJsonParseFramesPerSec: Math.round(rate.rawJsonParse ?? NaN),
      bybitConnectionFramesPerSec: Math.round(rate.bybitConnection ?? NaN),
      sdkFramesPerSec: Math.round(rate.sdk ?? NaN),
      sdkOverRaw: r((rate.sdk ?? NaN) / raw),
      bybitConnectionOverRaw: r((rate.bybitConnection ?? NaN) / raw),
      rawJsonParseOverRaw: r((rate.rawJsonParse ?? NaN) / raw),
      rounds,
      note: 'server on a worker thread; per client: median over rounds of first-to-last frame rate',
    };
  } finally {
    await server.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const frames = Number(process.env.BENCH_FRAMES ?? 200_000);
  benchWsClientOverhead({ frames }).then(
    (figures) => {
      console.log(JSON.stringify(figures, null, 2));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

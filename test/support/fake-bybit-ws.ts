import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { LiveClock } from '../../src/cli/live-clock.js';

/** A wall-clock `Clock` for tests that talk to real sockets or need timers to fire on their own: the daemon's own. */
export function realTimeClock(): LiveClock {
  return new LiveClock();
}

/** Realistic linear `tickers` snapshot frame (strings for numbers, as Bybit sends them). */
export function tickerSnapshotFrame(symbol: string, tsMs: number, lastPrice = 100): string {
  const p = lastPrice.toFixed(2);
  return JSON.stringify({
    topic: `tickers.${symbol}`,
    type: 'snapshot',
    data: {
      symbol, tickDirection: 'PlusTick', price24hPcnt: '0.0123', lastPrice: p, prevPrice24h: p, highPrice24h: p,
      lowPrice24h: p, prevPrice1h: p, markPrice: p, indexPrice: p, openInterest: '59891.732',
      openInterestValue: '3899996265.01', turnover24h: '1142118412.9021', volume24h: '17573.9120',
      fundingIntervalHour: '8', fundingCap: '0.005', nextFundingTime: '1786320000000', fundingRate: '0.0001',
      bid1Price: p, bid1Size: '5.954', ask1Price: p, ask1Size: '10.470', preOpenPrice: '', preQty: '', curPreListingPhase: '',
    },
    cs: 753843907000,
    ts: Math.floor(tsMs),
  });
}

/** Realistic ticker delta (only changed fields), shaped like the real capture. `seq` lands in bid1Size. */
export function tickerDeltaFrame(symbol: string, tsMs: number, seq: number): string {
  return `{"topic":"tickers.${symbol}","type":"delta","data":{"symbol":"${symbol}","bid1Price":"65114.20","bid1Size":"${seq}","ask1Price":"65114.30","ask1Size":"10.486"},"cs":${753843907770 + seq},"ts":${Math.floor(tsMs)}}`;
}

export interface FakeBybitWsOptions {
  /** Send a ticker snapshot for each subscribed `tickers.*` topic BEFORE the ack (Bybit does this). Default true. */
  snapshotBeforeAck?: boolean;
  /** Answer pings. Default true; false simulates a half-dead server. */
  answerPings?: boolean;
  /** Topics the server refuses; a request containing one fails as a whole and subscribes nothing. */
  rejectTopic?: (topic: string) => boolean;
  /** Topics the server acks but never sends a frame for (no snapshot, no pushes), as a stuck Bybit shard does. */
  mute?: (topic: string) => boolean;
  /** Listen on this port (0 = ephemeral). */
  port?: number;
}

export interface RecordedRequest {
  readonly connId: string;
  readonly op: string;
  readonly reqId: string;
  readonly args: readonly string[];
}

interface ServerConn {
  readonly connId: string;
  readonly ws: WebSocket;
  readonly topics: Set<string>;
}

/**
 * A local server speaking Bybit v5 public linear: subscribe/unsubscribe with acks carrying conn_id/req_id,
 * Bybit's pong (`op:"ping"`, `ret_msg:"pong"`), snapshot pushed before the ack, and knobs for faults
 * (drop connections, silent topics, garbage, bursts, ignored pings, refused topics).
 */
export class FakeBybitWs {
  readonly requests: RecordedRequest[] = [];
  readonly conns = new Set<ServerConn>();
  /** Connections ever accepted. */
  accepted = 0;
  private readonly silent = new Set<string>();
  private readonly wss: WebSocketServer;
  private autoTimer: NodeJS.Timeout | undefined;
  private autoSeq = 0;

  private constructor(
    wss: WebSocketServer,
    readonly opts: FakeBybitWsOptions,
  ) {
    this.wss = wss;
    wss.on('connection', (ws) => this.onConnection(ws));
  }

  static async start(opts: FakeBybitWsOptions = {}): Promise<FakeBybitWs> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: opts.port ?? 0, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new FakeBybitWs(wss, opts);
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/v5/public/linear`;
  }

  /** Union of topics currently subscribed over all live connections. */
  subscribedTopics(): string[] {
    const all = new Set<string>();
    for (const c of this.conns) for (const t of c.topics) all.add(t);
    return [...all].sort();
  }

  /** How many subscribe requests (successful or not) named `topic`. */
  subscribeCount(topic: string): number {
    return this.requests.filter((r) => r.op === 'subscribe' && r.args.includes(topic)).length;
  }

  setAnswerPings(on: boolean): void {
    this.opts.answerPings = on;
  }

  /** Auto-push stops delivering `topic` (a stuck topic); a resubscribe still gets its snapshot. */
  silence(topic: string): void {
    this.silent.add(topic);
  }

  /** Sends `text` on every connection subscribed to `topic`. Returns how many connections got it. */
  push(topic: string, text: string): number {
    let n = 0;
    for (const c of this.conns) {
      if (c.topics.has(topic) && c.ws.readyState === WebSocket.OPEN) {
        c.ws.send(text);
        n++;
      }
    }
    return n;
  }

  /** Sends `text` on every live connection regardless of topics (garbage, odd frames). */
  pushRaw(text: string): void {
    for (const c of this.conns) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(text);
  }

  /** Pushes `count` ticker deltas for `symbol` in order; `bid1Size` carries the sequence number. */
  burst(symbol: string, count: number): void {
    const topic = `tickers.${symbol}`;
    for (let i = 0; i < count; i++) this.push(topic, tickerDeltaFrame(symbol, Date.now(), i));
  }

  /** Every `intervalMs`, a ticker delta for each subscribed, non-silenced `tickers.*` topic. */
  autoPush(intervalMs: number): void {
    this.stopAutoPush();
    this.autoTimer = setInterval(() => {
      const seq = this.autoSeq++;
      for (const c of this.conns) {
        if (c.ws.readyState !== WebSocket.OPEN) continue;
        for (const t of c.topics) {
          if (!t.startsWith('tickers.') || this.silent.has(t) || this.opts.mute?.(t)) continue;
          c.ws.send(tickerDeltaFrame(t.slice('tickers.'.length), Date.now(), seq));
        }
      }
    }, intervalMs);
  }

  stopAutoPush(): void {
    if (this.autoTimer) clearInterval(this.autoTimer);
    this.autoTimer = undefined;
  }

  /** Cuts the connection that carries `topic` abruptly; returns whether one did. */
  dropConnectionOf(topic: string): boolean {
    for (const c of this.conns) {
      if (c.topics.has(topic)) {
        c.ws.terminate();
        return true;
      }
    }
    return false;
  }

  /** Cuts every connection abruptly (no close frame), as a network loss would. */
  dropAll(): void {
    for (const c of this.conns) c.ws.terminate();
  }

  async stop(): Promise<void> {
    this.stopAutoPush();
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(ws: WebSocket): void {
    this.accepted++;
    const conn: ServerConn = { connId: randomUUID(), ws, topics: new Set() };
    this.conns.add(conn);
    ws.on('close', () => this.conns.delete(conn));
    ws.on('error', () => this.conns.delete(conn));
    ws.on('message', (data: Buffer) => this.onRequest(conn, data.toString()));
  }

  private onRequest(conn: ServerConn, text: string): void {
    let req: { op?: unknown; req_id?: unknown; args?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      conn.ws.send(JSON.stringify({ success: false, ret_msg: 'Params Error', conn_id: conn.connId, op: '' }));
      return;
    }
    const op = typeof req.op === 'string' ? req.op : '';
    const reqId = typeof req.req_id === 'string' ? req.req_id : '';
    const args = Array.isArray(req.args) ? req.args.filter((a): a is string => typeof a === 'string') : [];
    this.requests.push({ connId: conn.connId, op, reqId, args });
    const ack = (success: boolean, retMsg: string) =>
      conn.ws.send(JSON.stringify({ success, ret_msg: retMsg, conn_id: conn.connId, req_id: reqId, op }));
    if (op === 'ping') {
      if (this.opts.answerPings !== false) ack(true, 'pong');
    } else if (op === 'subscribe') {
      const bad = args.find((t) => this.opts.rejectTopic?.(t));
      if (bad !== undefined) return ack(false, `Invalid topic: ${bad}`);
      for (const t of args) {
        conn.topics.add(t);
        if (this.opts.snapshotBeforeAck !== false && t.startsWith('tickers.') && !this.opts.mute?.(t)) {
          conn.ws.send(tickerSnapshotFrame(t.slice('tickers.'.length), Date.now()));
        }
      }
      ack(true, '');
    } else if (op === 'unsubscribe') {
      for (const t of args) conn.topics.delete(t);
      ack(true, '');
    } else {
      ack(false, `handler not found: ${op}`);
    }
  }
}

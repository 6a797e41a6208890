import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import type { VenueLog } from './venue-types.js';

export interface PrivateStreamOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly recvWindowMs: number;
  /** Local → exchange clock offset, read at each auth (kept current by the REST session's resyncs). */
  readonly timeOffsetMs: () => number;
  readonly topics?: readonly string[];
  readonly pingIntervalMs?: number;
  readonly pongTimeoutMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  readonly random?: () => number;
  readonly log: VenueLog;
  readonly onMessage: (topic: string, data: unknown[]) => void;
  /** Authenticated and subscribed: from here on updates flow (reconcile the gap now). */
  readonly onUp: () => void;
  readonly onDown: (reason: string) => void;
}

/**
 * Bybit's private stream (`order`, `execution`, `position`, `wallet`) on a plain `ws` socket: auth with
 * `HMAC_SHA256(secret, "GET/realtime" + expires)`, subscribe after the auth ack, ping every 20 s and treat a
 * silent socket as dead, and reconnect with exponential backoff and full jitter (Bybit allows 500 connections
 * per 5 min per IP; the SDK's WebsocketClient reconnects at a fixed delay with no backoff and reports neither
 * the resubscribe ack nor failed auth as a distinct event, and the project's own measurement has it at 0.32×
 * of raw `ws` throughput). "Up" means subscribed, not merely connected, so the venue reconciles only once
 * updates are certain to flow again.
 */
export class BybitPrivateStream {
  private ws: WebSocket | undefined;
  private up = false;
  private stopped = true;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: PrivateStreamOptions) {}

  get isUp(): boolean {
    return this.up;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.clearHeartbeat();
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.terminate();
      });
    }
    this.up = false;
  }

  private connect(): void {
    const ws = new WebSocket(this.opts.url);
    this.ws = ws;
    ws.on('open', () => {
      const expires = Math.floor(Date.now() + this.opts.timeOffsetMs() + this.opts.recvWindowMs);
      const signature = createHmac('sha256', this.opts.apiSecret).update(`GET/realtime${expires}`).digest('hex');
      ws.send(JSON.stringify({ req_id: 'auth', op: 'auth', args: [this.opts.apiKey, expires, signature] }));
      this.pingTimer = setInterval(() => this.ping(ws), this.opts.pingIntervalMs ?? 20_000);
    });
    ws.on('message', (raw) => this.onFrame(ws, String(raw)));
    ws.on('error', (err) => this.opts.log.warn({ err: err.message }, 'bybit private stream: socket error'));
    ws.on('close', (code) => this.onClose(ws, `closed (${code})`));
  }

  private onFrame(ws: WebSocket, text: string): void {
    clearTimeout(this.pongTimer);
    let msg: { op?: unknown; success?: unknown; ret_msg?: unknown; topic?: unknown; data?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.opts.log.warn({ frame: text.slice(0, 200) }, 'bybit private stream: frame is not JSON, ignored');
      return;
    }
    if (typeof msg.topic === 'string') {
      if (Array.isArray(msg.data)) this.opts.onMessage(msg.topic, msg.data);
      return;
    }
    if (msg.op === 'auth') {
      if (msg.success !== true) {
        this.opts.log.error({ retMsg: msg.ret_msg }, 'bybit private stream: auth refused (check the key, its environment, and the clock)');
        ws.terminate();
        return;
      }
      ws.send(JSON.stringify({ req_id: 'sub', op: 'subscribe', args: this.opts.topics ?? ['order', 'execution', 'position', 'wallet'] }));
    } else if (msg.op === 'subscribe') {
      if (msg.success !== true) {
        this.opts.log.error({ retMsg: msg.ret_msg }, 'bybit private stream: subscribe refused');
        ws.terminate();
        return;
      }
      this.up = true;
      this.attempt = 0;
      this.opts.onUp();
    }
  }

  private ping(ws: WebSocket): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ op: 'ping' }));
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => {
      this.opts.log.warn({}, 'bybit private stream: no pong, reconnecting');
      ws.terminate();
    }, this.opts.pongTimeoutMs ?? 10_000);
  }

  private onClose(ws: WebSocket, reason: string): void {
    if (ws !== this.ws) return;
    this.clearHeartbeat();
    const wasUp = this.up;
    this.up = false;
    if (wasUp) this.opts.onDown(reason);
    if (this.stopped) return;
    const ceiling = Math.min(this.opts.backoffCapMs ?? 30_000, (this.opts.backoffBaseMs ?? 500) * 2 ** this.attempt);
    this.attempt++;
    const delayMs = Math.floor((this.opts.random ?? Math.random)() * ceiling);
    this.opts.log.warn({ reason, delayMs, attempt: this.attempt }, 'bybit private stream: down, reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  private clearHeartbeat(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }
}

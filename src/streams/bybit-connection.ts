import WebSocket from 'ws';
import { redactUrl, redactUrlsIn } from '../core/redact-url.js';
import type { Clock } from '../core/clock.js';
import type { SourceEvent } from '../core/events.js';
import { Backoff, type BackoffOptions } from './backoff.js';

/** pino-compatible subset; the connection logs rare events only (never per frame). */
export interface StreamLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

const silentLogger: StreamLogger = { info() {}, warn() {} };

/** Tuning shared by every connection of a stream. All durations are on the injected Clock. */
export interface BybitConnectionTuning {
  /** Default 20 000 (Bybit recommends a ping every 20 s). */
  readonly pingIntervalMs?: number;
  /** No frame at all within this long after a ping means the socket is dead. Default 10 000. */
  readonly pongTimeoutMs?: number;
  /** WebSocket opening-handshake timeout. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Reconnect backoff; defaults base 500 ms, cap 30 s. */
  readonly backoff?: BackoffOptions;
  /** A connection that stayed open this long resets the backoff when it drops. Default 60 000. */
  readonly healthyAfterMs?: number;
  /** A watched topic silent this long while the socket is up is resubscribed. Default 60 000. */
  readonly staleAfterMs?: number;
  /** How often the staleness watchdog runs. Default staleAfterMs / 4. */
  readonly watchdogIntervalMs?: number;
  /** Which topics the staleness watchdog covers. Default: `tickers.*` only (trades and liquidations are legitimately quiet). */
  readonly isWatched?: (topic: string) => boolean;
  /** Topics per subscribe request. Default 200. */
  readonly maxTopicsPerRequest?: number;
  /** JSON length of `args` per subscribe request. Default 10 000. */
  readonly maxArgsCharsPerRequest?: number;
  readonly logger?: StreamLogger;
}

export interface BybitConnectionOptions extends BybitConnectionTuning {
  /** Source id used in events and as `connId`, e.g. `bybit-ws-3`. */
  readonly id: string;
  readonly url: string;
  readonly topics: readonly string[];
  readonly clock: Clock;
  /** Uniform [0,1) source for backoff jitter (seeded in tests). */
  readonly random: () => number;
  /** Every non-control frame, raw, with its receipt time. Must not throw (errors are caught and counted). */
  readonly onFrame: (text: string, tsInit: number, connId: string) => void;
  readonly onSourceEvent?: (event: SourceEvent) => void;
}

/** Plain counters for the lead's metrics wiring. */
export interface BybitConnectionStats {
  readonly id: string;
  readonly up: boolean;
  readonly topics: number;
  /** Frames received, control frames included. */
  readonly frames: number;
  readonly controlFrames: number;
  /** Successful re-opens after a loss (the first open is not a reconnect). */
  readonly reconnects: number;
  readonly connectFailures: number;
  /** Sockets declared dead because nothing arrived after a ping. */
  readonly heartbeatTimeouts: number;
  readonly staleRecoveries: number;
  /** Subscribe requests Bybit answered with success:false. */
  readonly subscribeFailures: number;
  /** Topics Bybit refused on their own (isolated by splitting failed batches). */
  readonly rejectedTopics: readonly string[];
  readonly callbackErrors: number;
  /** Clock time of the last frame of any kind; NaN before the first. */
  readonly lastFrameAt: number;
  /** Clock time of the last successful open; NaN before the first. */
  readonly connectedAt: number;
  /** Bybit's `conn_id` from the last ack or pong. */
  readonly serverConnId: string;
}

interface TopicState {
  /** Last data frame for this topic, or when it was last (re)subscribed, whichever is later. */
  lastSeenAt: number;
  /**
   * Last data frame, or when the topic was added or its socket opened (a grace period for the first frame).
   * Unlike lastSeenAt, the watchdog's resubscribe does not touch it: a topic that never answers stays not live.
   */
  lastLiveAt: number;
}

const TOPIC_KEY = '"topic":"';
const TOPIC_PREFIX = `{${TOPIC_KEY}`;

/**
 * One Bybit v5 public WebSocket (via `ws`) carrying a set of topics. It subscribes in bounded batches,
 * keeps the socket alive with pings, reconnects forever with jittered exponential backoff, resubscribes
 * everything after a reconnect, and resubscribes watched topics that went silent (Bybit then sends a
 * fresh snapshot). Data frames are handed on raw: JSON parsing belongs to the decoder.
 *
 * Gotchas: data may arrive before its subscribe ack, so frames are never filtered by subscription state;
 * Bybit's pong is `{"op":"ping","ret_msg":"pong"}`; any frame counts as liveness (a busy socket may
 * answer pings late). Nothing thrown in a callback escapes into `ws`.
 */
export class BybitConnection {
  readonly id: string;
  private readonly opts: BybitConnectionOptions;
  private readonly clock: Clock;
  private readonly log: StreamLogger;
  private readonly backoff: Backoff;
  private readonly topicStates = new Map<string, TopicState>();
  private readonly pending = new Map<string, { op: string; topics: string[] }>();
  private readonly rejected = new Set<string>();
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly staleAfterMs: number;
  private readonly isWatched: (topic: string) => boolean;
  private ws: WebSocket | undefined;
  private running = false;
  private isUp = false;
  private announcedDown = false;
  private everOpened = false;
  private reqSeq = 0;
  private pingSentAt = NaN;
  /** Why we killed the current socket ourselves, reported instead of the bare close code. */
  private killReason = '';
  private closedPromise: Promise<void> | undefined;
  private frames = 0;
  private controlFrames = 0;
  private reconnects = 0;
  private connectFailures = 0;
  private heartbeatTimeouts = 0;
  private staleRecoveries = 0;
  private subscribeFailures = 0;
  private callbackErrors = 0;
  private lastFrameAt = NaN;
  private connectedAt = NaN;
  private serverConnId = '';

  constructor(options: BybitConnectionOptions) {
    this.opts = options;
    this.id = options.id;
    this.clock = options.clock;
    this.log = options.logger ?? silentLogger;
    this.backoff = new Backoff(options.random, options.backoff);
    this.pingIntervalMs = options.pingIntervalMs ?? 20_000;
    this.pongTimeoutMs = options.pongTimeoutMs ?? 10_000;
    this.staleAfterMs = options.staleAfterMs ?? 60_000;
    this.isWatched = options.isWatched ?? ((t) => t.startsWith('tickers.'));
    const now = this.clock.now();
    for (const t of options.topics) this.topicStates.set(t, { lastSeenAt: now, lastLiveAt: now });
  }

  /** Opens the socket; from now on it reconnects until `close()`. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
    this.armWatchdog();
  }

  get up(): boolean {
    return this.isUp;
  }

  topics(): string[] {
    return [...this.topicStates.keys()];
  }

  stats(): BybitConnectionStats {
    return {
      id: this.id,
      up: this.isUp,
      topics: this.topicStates.size,
      frames: this.frames,
      controlFrames: this.controlFrames,
      reconnects: this.reconnects,
      connectFailures: this.connectFailures,
      heartbeatTimeouts: this.heartbeatTimeouts,
      staleRecoveries: this.staleRecoveries,
      subscribeFailures: this.subscribeFailures,
      rejectedTopics: [...this.rejected],
      callbackErrors: this.callbackErrors,
      lastFrameAt: this.lastFrameAt,
      connectedAt: this.connectedAt,
      serverConnId: this.serverConnId,
    };
  }

  /** Watched topics with no frame for more than staleAfterMs (measured from their last (re)subscribe otherwise). */
  staleTopics(nowMs: number): string[] {
    const out: string[] = [];
    for (const [topic, st] of this.topicStates) {
      if (this.isWatched(topic) && nowMs - st.lastSeenAt > this.staleAfterMs) out.push(topic);
    }
    return out;
  }

  /**
   * Topics matching `filter` (e.g. tickers) and how many of them are live: a data frame within staleAfterMs,
   * or still inside the grace period after being added or their socket opening. Resubscribing does not
   * make a topic live, so readiness cannot be fooled by the watchdog. A down socket has no live topics.
   */
  liveness(nowMs: number, filter: (topic: string) => boolean): { live: number; total: number } {
    let live = 0;
    let total = 0;
    for (const [topic, st] of this.topicStates) {
      if (!filter(topic)) continue;
      total++;
      if (this.isUp && nowMs - st.lastLiveAt <= this.staleAfterMs) live++;
    }
    return { live, total };
  }

  /** Adds topics (already-present ones are ignored) and subscribes them now if the socket is open. */
  addTopics(topics: readonly string[]): void {
    const now = this.clock.now();
    const fresh: string[] = [];
    for (const t of topics) {
      if (this.topicStates.has(t)) continue;
      this.topicStates.set(t, { lastSeenAt: now, lastLiveAt: now });
      this.rejected.delete(t);
      fresh.push(t);
    }
    if (fresh.length > 0 && this.isUp) this.sendBatched('subscribe', fresh);
  }

  /** Forgets topics and unsubscribes them. Frames already in flight for them are still delivered. */
  removeTopics(topics: readonly string[]): void {
    const gone = topics.filter((t) => this.topicStates.delete(t));
    for (const t of gone) this.rejected.delete(t);
    if (gone.length > 0 && this.isUp) this.sendBatched('unsubscribe', gone);
  }

  /** Clean shutdown: no reconnect, no SourceDown. Resolves once the socket is closed. */
  close(): Promise<void> {
    if (this.closedPromise) return this.closedPromise;
    this.running = false;
    for (const n of ['reconnect', 'ping', 'pong', 'watchdog']) this.clock.cancelTimer(this.timerName(n));
    const ws = this.ws;
    this.ws = undefined;
    this.isUp = false;
    this.closedPromise = new Promise<void>((resolve) => {
      if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'client shutdown');
      // A peer that never answers the close handshake must not hold shutdown hostage.
      this.clock.setTimer(this.timerName('close'), this.clock.now() + 2_000, () => ws.terminate());
    }).then(() => {
      this.clock.cancelTimer(this.timerName('close'));
    });
    return this.closedPromise;
  }

  private timerName(kind: string): string {
    return `${this.id}:${kind}`;
  }

  private connect(): void {
    if (!this.running) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.opts.url, {
        handshakeTimeout: this.opts.connectTimeoutMs ?? 10_000,
        perMessageDeflate: false,
      });
    } catch (err) {
      this.onConnectFailed(redactUrlsIn(`cannot open ${redactUrl(this.opts.url)}: ${errorText(err)}`));
      return;
    }
    this.ws = ws;
    let opened = false;
    let lastError = '';
    ws.on('open', () => {
      if (ws !== this.ws) return;
      opened = true;
      this.onOpen();
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (ws !== this.ws) return;
      this.onMessage(typeof data === 'string' ? data : data.toString());
    });
    ws.on('error', (err: Error) => {
      lastError = errorText(err);
      this.log.warn({ conn: this.id, err: lastError }, 'bybit ws error');
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (ws !== this.ws) return;
      this.ws = undefined;
      const why = this.killReason || lastError || `closed ${code}${reason.length ? ` ${reason.toString()}` : ''}`;
      this.killReason = '';
      if (opened) this.onLost(why);
      else this.onConnectFailed(why);
    });
  }

  private onOpen(): void {
    const now = this.clock.now();
    if (this.everOpened) this.reconnects++;
    this.everOpened = true;
    this.isUp = true;
    this.announcedDown = false;
    this.connectedAt = now;
    this.pending.clear();
    this.rejected.clear();
    for (const st of this.topicStates.values()) {
      st.lastSeenAt = now;
      st.lastLiveAt = now;
    }
    this.log.info({ conn: this.id, topics: this.topicStates.size, reconnects: this.reconnects }, 'bybit ws open');
    this.emit({ kind: 'source-up', source: this.id, tsInit: now });
    this.sendBatched('subscribe', [...this.topicStates.keys()]);
    this.schedulePing();
  }

  private onConnectFailed(reason: string): void {
    this.connectFailures++;
    this.announceDown(`connect failed: ${reason}`);
    this.scheduleReconnect();
  }

  private onLost(reason: string): void {
    const now = this.clock.now();
    this.isUp = false;
    this.clock.cancelTimer(this.timerName('ping'));
    this.clock.cancelTimer(this.timerName('pong'));
    if (now - this.connectedAt >= (this.opts.healthyAfterMs ?? 60_000)) this.backoff.reset();
    this.announceDown(reason);
    this.scheduleReconnect();
  }

  private announceDown(reason: string): void {
    if (!this.running || this.announcedDown) return;
    this.announcedDown = true;
    this.log.warn({ conn: this.id, reason }, 'bybit ws down');
    this.emit({ kind: 'source-down', source: this.id, tsInit: this.clock.now(), reason });
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    const delayMs = this.backoff.nextDelayMs();
    this.clock.setTimer(this.timerName('reconnect'), this.clock.now() + delayMs, () => this.connect());
  }

  private schedulePing(): void {
    this.clock.setTimer(this.timerName('ping'), this.clock.now() + this.pingIntervalMs, () => {
      if (!this.isUp) return;
      this.pingSentAt = this.clock.now();
      this.send('{"op":"ping"}');
      this.clock.setTimer(this.timerName('pong'), this.pingSentAt + this.pongTimeoutMs, () => this.checkPong());
      this.schedulePing();
    });
  }

  private checkPong(): void {
    if (!this.isUp || this.lastFrameAt >= this.pingSentAt) return;
    this.heartbeatTimeouts++;
    this.log.warn({ conn: this.id, pongTimeoutMs: this.pongTimeoutMs }, 'bybit ws heartbeat timeout, terminating');
    // terminate() emits 'close', which reports the loss and schedules the reconnect.
    this.killReason = `heartbeat timeout: no frame within ${this.pongTimeoutMs} ms of a ping`;
    this.ws?.terminate();
  }

  private armWatchdog(): void {
    const everyMs = this.opts.watchdogIntervalMs ?? Math.max(1, this.staleAfterMs / 4);
    this.clock.setTimer(this.timerName('watchdog'), this.clock.now() + everyMs, () => {
      if (!this.running) return;
      if (this.isUp) this.recoverStale(this.clock.now());
      this.armWatchdog();
    });
  }

  private recoverStale(nowMs: number): void {
    const stale = this.staleTopics(nowMs).filter((t) => !this.rejected.has(t));
    if (stale.length === 0) return;
    this.staleRecoveries += stale.length;
    for (const t of stale) {
      const st = this.topicStates.get(t);
      if (st) st.lastSeenAt = nowMs;
    }
    this.log.warn({ conn: this.id, count: stale.length, sample: stale.slice(0, 5) }, 'bybit ws stale topics, resubscribing');
    this.sendBatched('unsubscribe', stale);
    this.sendBatched('subscribe', stale);
  }

  private onMessage(text: string): void {
    const now = this.clock.now();
    this.frames++;
    this.lastFrameAt = now;
    // Bybit puts "topic" first; other key orders still work, a little slower.
    let start = text.startsWith(TOPIC_PREFIX) ? TOPIC_PREFIX.length : -1;
    if (start < 0) {
      if (this.tryControl(text)) {
        this.controlFrames++;
        return;
      }
      const at = text.indexOf(TOPIC_KEY);
      if (at >= 0) start = at + TOPIC_KEY.length;
    }
    if (start >= 0) {
      const end = text.indexOf('"', start);
      const st = end > start ? this.topicStates.get(text.slice(start, end)) : undefined;
      if (st !== undefined) {
        st.lastSeenAt = now;
        st.lastLiveAt = now;
      }
    }
    try {
      this.opts.onFrame(text, now, this.id);
    } catch (err) {
      this.countCallbackError(err);
    }
  }

  /** Handles acks and pongs; returns false for anything else (data with odd key order, garbage). */
  private tryControl(text: string): boolean {
    if (!text.includes('"op"') || text.includes('"topic"')) return false;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return false;
    }
    if (typeof msg !== 'object' || msg === null) return false;
    const m = msg as Record<string, unknown>;
    if (typeof m.op !== 'string') return false;
    if (typeof m.conn_id === 'string') this.serverConnId = m.conn_id;
    if (m.op === 'subscribe' || m.op === 'unsubscribe') this.onAck(m);
    else if (m.success === false) this.log.warn({ conn: this.id, op: m.op, retMsg: m.ret_msg }, 'bybit ws request refused');
    return true;
  }

  private onAck(m: Record<string, unknown>): void {
    const reqId = typeof m.req_id === 'string' ? m.req_id : '';
    const req = this.pending.get(reqId);
    this.pending.delete(reqId);
    const msgText = typeof m.ret_msg === 'string' ? m.ret_msg : '';
    if (m.success === true || /already subscribed/i.test(msgText)) return;
    this.subscribeFailures++;
    this.log.warn({ conn: this.id, op: m.op, reqId, retMsg: msgText, topics: req?.topics.slice(0, 5) }, 'bybit ws request refused');
    if (!req || req.op !== 'subscribe') return;
    const live = req.topics.filter((t) => this.topicStates.has(t));
    if (live.length === 1) {
      this.rejected.add(live[0] as string);
    } else if (live.length > 1) {
      // One bad topic (e.g. a symbol delisted since discovery) fails its whole batch: bisect to isolate it.
      const half = Math.ceil(live.length / 2);
      this.sendRequest('subscribe', live.slice(0, half));
      this.sendRequest('subscribe', live.slice(half));
    }
  }

  private sendBatched(op: 'subscribe' | 'unsubscribe', topics: readonly string[]): void {
    const maxTopics = this.opts.maxTopicsPerRequest ?? 200;
    const maxChars = this.opts.maxArgsCharsPerRequest ?? 10_000;
    let batch: string[] = [];
    let chars = 2; // the enclosing []
    for (const t of topics) {
      const cost = t.length + 3; // quotes and comma
      if (batch.length > 0 && (batch.length >= maxTopics || chars + cost > maxChars)) {
        this.sendRequest(op, batch);
        batch = [];
        chars = 2;
      }
      batch.push(t);
      chars += cost;
    }
    if (batch.length > 0) this.sendRequest(op, batch);
  }

  private sendRequest(op: 'subscribe' | 'unsubscribe', topics: string[]): void {
    const reqId = `${this.id}-${++this.reqSeq}`;
    this.pending.set(reqId, { op, topics });
    this.send(JSON.stringify({ req_id: reqId, op, args: topics }));
  }

  private send(text: string): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(text, (err) => {
      if (err) this.log.warn({ conn: this.id, err: errorText(err) }, 'bybit ws send failed');
    });
  }

  private emit(event: SourceEvent): void {
    try {
      this.opts.onSourceEvent?.(event);
    } catch (err) {
      this.countCallbackError(err);
    }
  }

  private countCallbackError(err: unknown): void {
    this.callbackErrors++;
    if (this.callbackErrors <= 10 || this.callbackErrors % 1000 === 0) {
      this.log.warn({ conn: this.id, err: errorText(err), count: this.callbackErrors }, 'bybit ws callback threw');
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

import { createHmac, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

interface PrivateConn {
  readonly connId: string;
  readonly ws: WebSocket;
  authed: boolean;
  readonly topics: Set<string>;
}

const TOPICS = new Set(['order', 'execution', 'position', 'wallet', 'order.linear', 'execution.linear', 'position.linear']);

/**
 * Bybit v5 private stream (`/v5/private`) on the fake exchange's HTTP server: the `auth` op (args
 * `[apiKey, expiresMs, hex(HMAC_SHA256(secret, "GET/realtime" + expires))]`, refused once `expires` is in the
 * past on the exchange's own, skewable clock), `subscribe` to private topics after auth, Bybit's private pong,
 * and pushes in the `{id, topic, creationTime, data:[…]}` envelope.
 */
export class FakeBybitPrivateWs {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<PrivateConn>();
  /** Auth attempts seen (accepted or not), for tests. */
  authAttempts = 0;
  /** Refuse every auth (keeps a client's stream down, to exercise REST polling). */
  rejectAuth = false;
  /** Answer pings; false simulates a half-dead server that keeps the socket open but says nothing. */
  answerPings = true;

  constructor(
    server: http.Server,
    private readonly secretOf: (key: string) => string | undefined,
    private readonly now: () => number,
  ) {
    this.wss = new WebSocketServer({ server, path: '/v5/private' });
    this.wss.on('connection', (ws) => {
      const conn: PrivateConn = { connId: randomUUID(), ws, authed: false, topics: new Set() };
      this.conns.add(conn);
      ws.on('close', () => this.conns.delete(conn));
      ws.on('error', () => this.conns.delete(conn));
      ws.on('message', (raw) => this.onMessage(conn, String(raw)));
    });
  }

  /** Connections that are authenticated and subscribed to at least one topic. */
  get subscribedCount(): number {
    return [...this.conns].filter((c) => c.authed && c.topics.size > 0).length;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Cuts every private connection without a close frame (what a network drop looks like). */
  dropAll(): void {
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
  }

  /** Pushes `data` on `topic` to every authenticated subscriber of it (or of its `.linear` form). */
  push(topic: string, data: unknown[]): void {
    const frame = JSON.stringify({ id: randomUUID(), topic, creationTime: Math.floor(this.now()), data });
    for (const c of this.conns) {
      if (c.authed && (c.topics.has(topic) || c.topics.has(`${topic}.linear`)) && c.ws.readyState === c.ws.OPEN) c.ws.send(frame);
    }
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onMessage(conn: PrivateConn, text: string): void {
    let msg: { op?: unknown; args?: unknown; req_id?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    const reqId = typeof msg.req_id === 'string' ? msg.req_id : undefined;
    const args = Array.isArray(msg.args) ? msg.args : [];
    const reply = (o: Record<string, unknown>) => conn.ws.send(JSON.stringify({ ...(reqId === undefined ? {} : { req_id: reqId }), ...o, conn_id: conn.connId }));
    if (msg.op === 'ping') {
      if (this.answerPings) reply({ op: 'pong', args: [String(Math.floor(this.now()))] });
    } else if (msg.op === 'auth') {
      this.authAttempts++;
      const [key, expires, sign] = args as [unknown, unknown, unknown];
      const secret = typeof key === 'string' ? this.secretOf(key) : undefined;
      let error = '';
      if (this.rejectAuth) error = 'Service unavailable (fault injected)';
      else if (secret === undefined) error = 'Invalid apikey';
      else if (!(Number(expires) > this.now())) error = 'Params Error: request expired';
      else if (createHmac('sha256', secret).update(`GET/realtime${String(expires)}`).digest('hex') !== sign) error = 'Signature verification failed';
      conn.authed = error === '';
      reply({ success: conn.authed, ret_msg: error, op: 'auth' });
    } else if (msg.op === 'subscribe') {
      const topics = args.map(String);
      if (!conn.authed) return reply({ success: false, ret_msg: 'Request not authorized', op: 'subscribe' });
      const bad = topics.find((t) => !TOPICS.has(t));
      if (bad !== undefined) return reply({ success: false, ret_msg: `Invalid topic: ${bad}`, op: 'subscribe' });
      for (const t of topics) conn.topics.add(t);
      reply({ success: true, ret_msg: '', op: 'subscribe' });
    } else if (msg.op === 'unsubscribe') {
      for (const t of args.map(String)) conn.topics.delete(t);
      reply({ success: true, ret_msg: '', op: 'unsubscribe' });
    }
  }
}

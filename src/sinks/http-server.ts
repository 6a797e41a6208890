import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  readonly ready: boolean;
  readonly detail: Record<string, unknown>;
}

export interface OperatorRoutes {
  readonly registry: Registry;
  /** `/readyz`: sources up and fresh. */
  readiness(): Readiness;
  /** `/symbols/:symbol`; undefined → 404. */
  symbol(symbol: string): unknown;
  /** A POST route for `path` (Telegram's webhook, risk controls), looked up per request; undefined → 405. */
  readonly post?: (path: string) => PostHandler | undefined;
  /** Extra JSON routes (`/rankings`, `/trades?limit=`…) given the query string; a handler returning undefined means 404. */
  /** Further GET routes; a handler may answer with a promise (a store query). `undefined` is a 404. */
  readonly extra?: Readonly<Record<string, (query: URLSearchParams) => unknown>>;
}

/** Answers one POST itself (reads the body, writes the response); a throw or rejection becomes a 500. */
export type PostHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface OperatorServer {
  readonly port: number;
  close(): Promise<void>;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The path of a request target, or undefined when it is not one we can read. Origin-form (`/a?b`) is split by
 * hand; absolute-form (`http://host/a`, legal in HTTP/1.1) goes through `new URL`, which throws on targets such
 * as `http://[` or `http://x:99999/`; and percent-escapes are decoded here, where a malformed one (`/symbols/%`)
 * is the client's error (400), not ours (500).
 */
function requestTarget(target: string | undefined): { path: string; query: URLSearchParams } | undefined {
  if (target === undefined || target.length === 0) return undefined;
  let raw: string;
  let query: URLSearchParams;
  if (target.charCodeAt(0) === 47 /* / */) {
    const q = target.search(/[?#]/);
    raw = q < 0 ? target : target.slice(0, q);
    // URLSearchParams never throws: a malformed escape in the query stays as written.
    query = new URLSearchParams(q < 0 || target[q] === '#' ? '' : target.slice(q + 1).split('#')[0]);
  } else {
    try {
      const url = new URL(target);
      raw = url.pathname;
      query = url.searchParams;
    } catch {
      return undefined;
    }
  }
  try {
    return { path: decodeURIComponent(raw), query };
  } catch {
    return undefined;
  }
}

async function route(routes: OperatorRoutes, path: string, query: URLSearchParams, res: http.ServerResponse): Promise<void> {
  if (path === '/metrics') {
    const body = await routes.registry.metrics();
    res.writeHead(200, { 'content-type': routes.registry.contentType });
    res.end(body);
  } else if (path === '/healthz') {
    sendJson(res, 200, { ok: true });
  } else if (path === '/readyz') {
    const r = routes.readiness();
    sendJson(res, r.ready ? 200 : 503, { ready: r.ready, ...r.detail });
  } else if (path.startsWith('/symbols/')) {
    const symbol = path.slice('/symbols/'.length).toUpperCase();
    const view = routes.symbol(symbol);
    if (view === undefined) sendJson(res, 404, { error: `unknown symbol ${symbol.slice(0, 64)}` });
    else sendJson(res, 200, view);
  } else {
    const handler = Object.hasOwn(routes.extra ?? {}, path) ? routes.extra![path] : undefined;
    const view = await handler?.(query);
    if (view === undefined) sendJson(res, 404, { error: 'not found' });
    else sendJson(res, 200, view);
  }
}

/** A fault of ours while answering: 500 if nothing was sent yet, else cut the response. Never throws. */
function fail(res: http.ServerResponse, err: unknown): void {
  try {
    if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    else res.destroy();
  } catch {
    res.destroy();
  }
}

/**
 * The operator HTTP surface: `/metrics`, `/healthz` (the process is alive: always 200 while it serves),
 * `/readyz` (200 only when every source is up and fresh), `/symbols/:symbol`. It is read-only except for the POST
 * routes the daemon registers (Telegram's webhook, which checks its secret token; the risk controls).
 */
export async function startOperatorServer(routes: OperatorRoutes, port: number, host: string): Promise<OperatorServer> {
  const server = http.createServer((req, res) => {
    // Everything a client sends is hostile input: nothing in here may throw out of the request handler, because
    // an exception there is uncaught and ends the process (and with it the tape tail and buffered rows).
    try {
      const target = requestTarget(req.url);
      if (target === undefined) return sendJson(res, 400, { error: 'bad request target' });
      const post = req.method === 'POST' ? routes.post?.(target.path) : undefined;
      if (post !== undefined) {
        void Promise.resolve()
          .then(() => post(req, res))
          .catch((err: unknown) => fail(res, err));
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return sendJson(res, 405, { error: 'method not allowed' });
      }
      void route(routes, target.path, target.query, res).catch((err: unknown) => fail(res, err));
    } catch (err) {
      fail(res, err);
    }
  });
  // A socket error or a parse error the client caused must never reach the process: answer 400 and drop it.
  server.on('clientError', (_err, socket) => {
    if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

import http from 'node:http';
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
  /** Extra JSON routes (`/rankings`, `/trades?limit=`…) given the query string; a handler returning undefined means 404. */
  readonly extra?: Readonly<Record<string, (query: URLSearchParams) => unknown>>;
}

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
 * The operator HTTP surface: `/metrics`, `/healthz` (the process is alive: always 200 while it serves),
 * `/readyz` (200 only when every source is up and fresh), `/symbols/:symbol`. It is read-only.
 */
export async function startOperatorServer(routes: OperatorRoutes, port: number, host: string): Promise<OperatorServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' });
    void (async () => {
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
        const symbol = decodeURIComponent(path.slice('/symbols/'.length)).toUpperCase();
        const view = routes.symbol(symbol);
        if (view === undefined) sendJson(res, 404, { error: `unknown symbol ${symbol}` });
        else sendJson(res, 200, view);
      } else {
        const handler = routes.extra?.[path];
        const view = handler?.(url.searchParams);
        if (view === undefined) sendJson(res, 404, { error: 'not found' });
        else sendJson(res, 200, view);
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
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

import type { PostHandler } from '../sinks/http-server.js';
import type { ControlCommand } from '../sinks/notify/operator-console.js';
import type { DaemonWiring } from './daemon-parts.js';

/** The header a risk control POST must carry: a browser cannot add it cross-origin without a preflight we never grant. */
export const OPERATOR_HEADER = 'x-whalestack-operator';

/**
 * POST /risk/pause, /risk/resume, /risk/stopentry, /risk/kill on the operator HTTP server: the same controls as
 * Telegram's, plus /risk/unkill (lifting the kill switch is deliberately not possible from a phone), applied through the execution actor, for scripts on the host. Guarded like the rest of that server
 * (it listens on HTTP_HOST, loopback by default) plus a custom header, so a web page cannot fire them by a
 * cross-site form post. Answers `{ ok, message }`; 409 when the actor refused, 503 with trading off.
 */
export function registerRiskRoutes(w: DaemonWiring): void {
  const routes: Record<string, ControlCommand> = { '/risk/pause': 'pause', '/risk/resume': 'resume', '/risk/stopentry': 'stop-entry', '/risk/kill': 'kill', '/risk/unkill': 'unkill' };
  for (const [path, command] of Object.entries(routes)) w.postRoutes.set(path, handler(w, command));
}

function handler(w: DaemonWiring, command: ControlCommand): PostHandler {
  return async (req, res) => {
    req.resume();
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.headers[OPERATOR_HEADER] !== '1') return send(403, { ok: false, message: `send the header ${OPERATOR_HEADER}: 1` });
    const console = w.operatorConsole;
    if (console === undefined || w.execution === undefined) return send(503, { ok: false, message: 'trading is not running' });
    const r = await console.control(command, undefined, `http:${req.socket.remoteAddress ?? '?'}`);
    send(r.ok ? 200 : 409, r);
  };
}

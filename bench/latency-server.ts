import { parentPort, workerData } from 'node:worker_threads';
import { WebSocketServer, type WebSocket } from 'ws';
import { simulatedFrames } from './ingest.js';

/**
 * Worker thread for the latency bench: a Bybit-speaking WS server that, once a client subscribes, sends the
 * given frames paced at `ratePerSec` (in ~1 ms bursts, as a busy exchange socket does). Running in its own
 * thread keeps the sender's work off the measured event loop.
 */
const { ratePerSec, seconds, symbols, seed } = workerData as { ratePerSec: number; seconds: number; symbols: number; seed: number };
// Generated here, in the sender's own heap, so its garbage never pauses the measured thread.
const all = simulatedFrames(symbols, Math.max(60_000, Math.ceil((ratePerSec * seconds) / (symbols * 2)) * 1000), seed);
const frames = all.slice(0, ratePerSec * seconds).map((f) => f.d);
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });

function pace(ws: WebSocket): void {
  const start = performance.now();
  let sent = 0;
  const tick = () => {
    if (ws.readyState !== ws.OPEN) return;
    const due = Math.min(frames.length, Math.floor(((performance.now() - start) / 1000) * ratePerSec));
    while (sent < due) ws.send(frames[sent++]!);
    if (sent < frames.length) setTimeout(tick, 1);
    else parentPort!.postMessage({ op: 'done', sent, elapsedMs: performance.now() - start });
  };
  tick();
}

wss.on('connection', (ws) => {
  ws.on('message', (raw) => {
    const msg = JSON.parse(String(raw)) as { op?: string; req_id?: string };
    if (msg.op === 'ping') ws.send(JSON.stringify({ success: true, ret_msg: 'pong', conn_id: 'bench', op: 'ping' }));
    if (msg.op === 'subscribe') {
      ws.send(JSON.stringify({ success: true, ret_msg: '', conn_id: 'bench', req_id: msg.req_id ?? '', op: 'subscribe' }));
      parentPort!.postMessage({ op: 'subscribed' });
      pace(ws);
    }
  });
});
wss.on('listening', () => parentPort!.postMessage({ op: 'listening', port: (wss.address() as { port: number }).port, frames: frames.length }));
parentPort!.on('message', (m: { op: string }) => {
  if (m.op === 'stop') wss.close(() => process.exit(0));
});

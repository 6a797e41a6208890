import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench`: runs each scenario in its own node process (so one bench's heap never skews another's RSS
 * or GC pauses) and prints its figures. Every figure that has a target is a ratio against a baseline measured
 * in the same process and run, because these machines are noisy.
 */
const BENCHES: { name: string; file: string; needsPostgres?: boolean }[] = [
  { name: 'ingest (500 symbols, frames → actor features)', file: 'ingest.js' },
  { name: 'replay (500 symbols: engine with the text scanner vs JSON.parse; tape end to end; sharded over 2 worker threads)', file: 'replay.js' },
  { name: 'latency (25k frames/s over loopback WS)', file: 'latency.js' },
  { name: 'memory (500 symbols, 1 h of data, execution wired, 7-day estimator history)', file: 'memory.js' },
  { name: 'signal latency (completing frame → Signal, 25k frames/s)', file: 'signal-latency.js' },
  { name: 'order latency (completing frame → order handed to the broker, 25k frames/s)', file: 'order-latency.js' },
  { name: 'ranker and estimator cost', file: 'ranker.js' },
  { name: 'cluster outcomes on the ingest path (engine following ~250 clusters per coin vs none)', file: 'cluster-outcomes.js' },
  { name: 'ws client: raw ws vs bybit-api WebsocketClient', file: 'ws-client-overhead.js' },
  { name: 'bybit order ack (venue place → ack vs bare signed request, local exchange)', file: 'bybit-order-ack.js' },
  { name: 'db writer vs raw COPY (hypertables and plain tables); sustained engine rows', file: 'writer.js', needsPostgres: true },
  { name: 'backtest vs replay of the same events (tape and stored bars); sweep speed-up on 2 worker threads', file: 'backtest.js' },
  { name: 'default store memory (engine + embedded PGlite, 502 simulated coins, 1 h; vs PostgreSQL)', file: 'store-memory.js' },
];

async function postgresUp(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: 5432 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
  });
}

const only = process.argv.slice(2);
let failed = 0;
for (const bench of BENCHES) {
  if (only.length > 0 && !only.some((o) => bench.file.startsWith(o))) continue;
  console.log(`\n== ${bench.name}`);
  if (bench.needsPostgres && !(await postgresUp())) {
    console.log('   skipped: PostgreSQL is not reachable on 127.0.0.1:5432');
    continue;
  }
  const file = fileURLToPath(new URL(`./${bench.file}`, import.meta.url));
  const run = spawnSync(process.execPath, ['--expose-gc', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const jsonStart = run.stdout.indexOf('{');
  if (run.status !== 0 || jsonStart < 0) {
    failed++;
    console.log(`   FAILED (exit ${run.status}): ${run.stderr.trim().split('\n').slice(-5).join('\n   ')}`);
    continue;
  }
  const figures = JSON.parse(run.stdout.slice(jsonStart)) as Record<string, unknown>;
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  for (const [k, v] of Object.entries(figures)) console.log(`   ${k.padEnd(width)}  ${String(v)}`);
}
process.exit(failed > 0 ? 1 : 0);

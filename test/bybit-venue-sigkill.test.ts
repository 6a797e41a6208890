import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonFileOrderRecordStore } from '../src/venues/bybit/order-record-store.js';
import { exchangeInvariants, startExchange, startVenue } from './support/bybit-venue-harness.js';
import { Cleanups, waitFor } from './support/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist/src/venues/bybit');
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

/** A separate node process running the built venue: starts it, then places one entry and waits for the reply. */
const CHILD = `
import { BybitVenue } from ${JSON.stringify(path.join(DIST, 'bybit-venue.js'))};
import { JsonFileOrderRecordStore } from ${JSON.stringify(path.join(DIST, 'order-record-store.js'))};
const [rest, ws, file] = process.argv.slice(1);
const quiet = { info() {}, warn() {}, error() {} };
const venue = new BybitVenue({ restUrl: rest, privateWsUrl: ws, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT'],
  store: new JsonFileOrderRecordStore(file), log: quiet, requestTimeoutMs: 60000 });
const r = await venue.start();
if (!r.ok) { console.error(r.message); process.exit(3); }
process.stdout.write('started\\n');
await venue.placeEntry({ orderLinkId: 'sk-1', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: 0.01, stopLoss: 57000 });
process.stdout.write('placed\\n');
`;

describe('Bybit venue: SIGKILL between sending an entry and its stop being confirmed (built venue in a child process)', () => {
  it('after restart the position has its planned stop and no order is duplicated', async () => {
    expect(existsSync(path.join(DIST, 'bybit-venue.js')), 'run npm run build first (npm test does)').toBe(true);
    const ex = await startExchange(cleanups);
    ex.privateWs.rejectAuth = true; // no push reaches the doomed process: it only knows what it wrote before sending
    ex.inject('/v5/order/create', { kind: 'delayReply', delayMs: 30_000 });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bybit-sigkill-')), 'orders.json');
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, ex.restUrl, ex.privateWsUrl, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    await waitFor(`child started (${out})`, () => out.includes('started'), 20_000);
    await waitFor('entry accepted by the exchange', () => ex.book.findOrder({ orderLinkId: 'sk-1' }));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(out).not.toContain('placed');
    ex.book.position('BTCUSDT').stopLoss = 0; // worst case: the stop did not make it onto the position
    ex.privateWs.rejectAuth = false;
    const store = new JsonFileOrderRecordStore(file);
    expect(store.get('sk-1')).toMatchObject({ status: 'sending', stopLoss: 57_000 });
    await startVenue(ex, cleanups, { store, symbols: ['BTCUSDT'] });
    expect(ex.book.position('BTCUSDT')).toMatchObject({ size: 0.01, stopLoss: 57_000 });
    expect(store.get('sk-1')?.status).toBe('filled');
    expect([...ex.book.orders.values()].filter((o) => o.orderLinkId === 'sk-1')).toHaveLength(1);
    expect(exchangeInvariants(ex)).toEqual({ duplicateLinkIds: [], unprotected: [], offStep: [] });
  }, 40_000);
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BacktestReportInput } from '../src/core/backtest-report-input.js';
import { renderBacktestReport } from '../src/sinks/backtest-report.js';
import { formatSigned } from '../src/sinks/backtest-report-format.js';
import { sampleBacktestReport } from './support/backtest-report-sample.js';
import { chromiumAvailable, launchChromium } from './support/headless-chromium.js';

/**
 * The report opened in a real headless Chromium (Debian's package, driven by playwright-core): it must make no
 * request at all, log no error, draw every chart (canvases with real pixels, cluster bands included), and show
 * exactly the input's numbers. Hostile strings in the data must come out as text.
 */
const HOSTILE_REASON = `</td></tr><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;
const HOSTILE_REASON_2 = `</script><!--<script>window.__pwned=3</script>-->'"&amp;`;
const HOSTILE_TITLE = `Sweep <b>#3</b> & "quotes" </title><script>window.__pwned=4</script>`;
const HOSTILE_REFUSAL = `<svg onload="window.__pwned=5">RISK</svg>`;

function hostileSample(): BacktestReportInput {
  const base = sampleBacktestReport({ seed: 11 });
  return {
    ...base,
    title: HOSTILE_TITLE,
    source: `tapes: /data/tapes/<iframe src="https://example.com">`,
    trades: base.trades.map((t, i) => (i === 3 ? { ...t, reason: HOSTILE_REASON } : i === 5 ? { ...t, reason: HOSTILE_REASON_2 } : t)),
    refusals: [...base.refusals, { reason: HOSTILE_REFUSAL, count: 2 }],
  };
}

interface Opened {
  readonly page: Page;
  readonly problems: string[];
  readonly requests: string[];
  readonly url: string;
}

// Callbacks passed to page.evaluate run in the page; the project compiles without the DOM library, so the
// page's globals are declared here, untyped, for this file only.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;

const run = chromiumAvailable() ? describe : describe.skip;

run('backtest report in headless Chromium', () => {
  let browser: Browser;
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-report-'));

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the report to a file and opens it from disk, as a person double-clicking it would. */
  async function open(input: BacktestReportInput, name: string): Promise<Opened> {
    const file = path.join(dir, `${name}.html`);
    writeFileSync(file, renderBacktestReport(input));
    const url = pathToFileURL(file).href;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    // Every request but the page itself is refused and recorded (the request log double-checks it).
    await page.route('**/*', (route) => {
      if (route.request().url() === url) return route.continue();
      problems.push(`network request: ${route.request().url()}`);
      return route.abort();
    });
    await page.goto(url);
    await page.waitForSelector('html[data-charts-ready]', { timeout: 10_000 });
    return { page, problems, requests, url };
  }

  it('renders every chart with real pixels, makes no request, logs no error, and shows exactly the input numbers', async () => {
    const input = hostileSample();
    expect(input.trades.length).toBeGreaterThanOrEqual(25);
    expect(input.coins.every((c) => c.bars.length === 500)).toBe(true);
    const { page, problems, requests, url } = await open(input, 'sample');

    // Charts: one equity chart (two panes) and one price chart per coin, each with sized canvases.
    expect(await page.getAttribute('html', 'data-charts-ready')).toBe(String(1 + input.coins.length));
    const charts = await page.evaluate(() =>
      [...document.querySelectorAll('[data-chart]')].map((el: any) => {
        const canvases: any[] = [...el.querySelectorAll('canvas')];
        // The largest canvas is the (first) pane's main canvas: series and primitives are drawn there.
        const main = canvases.reduce((a: any, b: any) => (b.width * b.height > a.width * a.height ? b : a));
        const data: Uint8ClampedArray = main.getContext('2d').getImageData(0, 0, main.width, main.height).data;
        const colours = new Set<number>();
        let ink = 0;
        let blue = 0;
        let orange = 0;
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
          colours.add(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
          if (r + g + b < 600) ink++;
          if (b >= 250 && r < 240 && r < g) blue++; // long-liquidation band (translucent blue on white)
          if (r >= 250 && g >= 215 && g < 252 && b >= 165 && b <= 240 && g - b >= 10) orange++; // short-liquidation band
        }
        return {
          kind: el.dataset.chart,
          width: el.getBoundingClientRect().width,
          levels: JSON.parse(el.dataset.levels ?? '[]') as [string, number, number, number, number, number][],
          bands: Number(el.dataset.bandsDrawn ?? 0),
          coin: Number(el.dataset.coinIndex),
          canvases: canvases.length,
          sized: canvases.every((c: any) => c.width > 0 && c.height > 0 && c.getBoundingClientRect().width > 0),
          colours: colours.size,
          inkShare: ink / (data.length / 4),
          blue,
          orange,
        };
      }),
    );
    expect(charts.map((c) => c.kind)).toEqual(['equity', ...input.coins.map(() => 'price')]);
    const priceCanvasCount = charts[1]!.canvases;
    for (const c of charts) {
      expect(c.sized, JSON.stringify(c)).toBe(true);
      expect(c.canvases).toBeGreaterThanOrEqual(c.kind === 'equity' ? priceCanvasCount + 2 : 6); // pane + price axis + time axis (+ a second pane)
      expect(c.colours, JSON.stringify(c)).toBeGreaterThan(20);
      expect(c.inkShare, JSON.stringify(c)).toBeGreaterThan(0.01);
    }
    for (const c of charts.slice(1)) {
      expect(c.canvases).toBe(priceCanvasCount);
      const sides = new Set(input.coins[c.coin]!.clusters.map((k) => k.side));
      if (sides.has('long')) expect(c.blue, `blue bands on coin ${c.coin}`).toBeGreaterThan(100);
      if (sides.has('short')) expect(c.orange, `orange bands on coin ${c.coin}`).toBeGreaterThan(100);
      const coin = input.coins[c.coin]!;
      expect(c.bands).toBe(coin.clusters.length);
      // Stop and take-profit segments: one per trade, over the trade's lifetime, on the right sides of entry.
      const trades = input.trades.filter((t) => t.symbol === coin.symbol);
      expect(c.levels.map((l) => l[0])).toEqual(trades.map((t) => t.tradeId));
      for (const [id, xOpen, xClose, yStop, yEntry, yTp] of c.levels) {
        const t = trades.find((tr) => tr.tradeId === id)!;
        expect(xOpen, id).toBeGreaterThan(0);
        expect(xClose, id).toBeGreaterThan(xOpen);
        expect(xClose, id).toBeLessThan(c.width);
        if (t.side === 'long') expect(yStop > yEntry && yEntry > yTp, `${id} long: stop below, take-profit above`).toBe(true);
        else expect(yStop < yEntry && yEntry < yTp, `${id} short: stop above, take-profit below`).toBe(true);
      }
    }

    // Numbers: every metric and every trade, exactly (data-value), and the shown PnL text.
    const metrics = await page.$$eval('#metrics td[data-key]', (tds) => tds.map((td) => [td.getAttribute('data-key'), td.getAttribute('data-value')]));
    expect(metrics.map(([k, v]) => [k, Number(v)])).toEqual(input.metrics.map((m) => [m.key, m.value]));
    const met = await page.$$eval('#metrics tr', (rows) => rows.slice(1).map((r) => r.querySelector('[data-meets-target]')?.getAttribute('data-meets-target') ?? null));
    expect(met).toEqual(input.metrics.map((m) => (m.meetsTarget === undefined ? null : String(m.meetsTarget))));
    const rows = await page.$$eval('#trades tbody tr', (trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute('data-trade-id'),
        values: Object.fromEntries([...tr.querySelectorAll('td[data-value]')].map((td) => [td.getAttribute('data-key'), Number(td.getAttribute('data-value'))])),
        pnlText: tr.querySelector('td[data-key="pnlUsd"]')?.textContent,
        reason: tr.querySelector('td[data-key="reason"]')?.textContent,
      })),
    );
    expect(rows).toHaveLength(input.trades.length);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const t of input.trades) {
      const row = byId.get(t.tradeId)!;
      expect(row, t.tradeId).toBeDefined();
      expect(row.values).toEqual({
        openedAtMs: t.openedAtMs, closedAtMs: t.closedAtMs, entryPrice: t.entryPrice, exitPrice: t.exitPrice, stopLossPrice: t.stopLossPrice,
        takeProfitPrice: t.takeProfitPrice, qty: t.qty, pnlUsd: t.pnlUsd, pnlPct: t.pnlPct, feesUsd: t.feesUsd,
      });
      expect(row.pnlText).toBe(formatSigned(t.pnlUsd));
      expect(row.reason).toBe(t.reason); // hostile reasons come back as the very same text
    }
    const refusals = await page.$$eval('#refusals tbody tr', (trs) => trs.map((tr): [string | null | undefined, number] => [tr.querySelector('.reason')?.textContent, Number(tr.querySelector('[data-key="count"]')?.getAttribute('data-value'))]));
    expect(new Map(refusals)).toEqual(new Map(input.refusals.map((r) => [r.reason, r.count])));

    // Escaping: the hostile strings are text, nothing they contain became markup or ran.
    expect(await page.title()).toBe(HOSTILE_TITLE);
    expect(await page.textContent('h1')).toBe(HOSTILE_TITLE);
    expect(await page.evaluate(() => ({
      scripts: document.scripts.length,
      // Outside the charts (which lay out in tables and carry an svg logo): no element the data could have smuggled in.
      injected: document.querySelectorAll(':is(header, #metrics, #trades, #refusals, .coin-head, .legend) :is(img, iframe, svg, b, script)').length,
      pwned: window.__pwned ?? null,
    }))).toEqual({ scripts: 3, injected: 0, pwned: null });
    expect(JSON.parse((await page.textContent('#report-data'))!)).toEqual(input);

    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    await page.close();
  });

  it('renders an empty backtest (no trades, no coins, no equity) without errors', async () => {
    const empty: BacktestReportInput = { title: 'Empty', source: 'tapes: none', metrics: [], equity: [], trades: [], coins: [], refusals: [] };
    const { page, problems, requests, url } = await open(empty, 'empty');
    expect(await page.getAttribute('html', 'data-charts-ready')).toBe('0');
    expect(await page.textContent('#trades tbody')).toBe('No trades.');
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    await page.close();
  });
});

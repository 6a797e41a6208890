import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BacktestReportInput } from '../src/core/backtest-report-input.js';
import { renderBacktestReport } from '../src/sinks/backtest-report.js';
import { formatMetric, formatPrice, formatQty, formatSigned } from '../src/sinks/backtest-report-format.js';
import { sampleBacktestReport } from './support/backtest-report-sample.js';

/** The report's HTML without a browser: escaping, the embedded data, the CSP and the machine-readable numbers. */
const HOSTILE = `</td></tr></table><script>alert(1)</script><img src=x onerror=alert(2)><!--`;

function withHostileStrings(): BacktestReportInput {
  const base = sampleBacktestReport({ seed: 3, bars: 60, maxTradesPerCoin: 2 });
  return {
    ...base,
    title: `${HOSTILE} title`,
    source: `${HOSTILE} source`,
    metrics: [...base.metrics, { key: `${HOSTILE}key`, label: `${HOSTILE} label`, value: 1, unit: '', target: `${HOSTILE} target`, meetsTarget: false }],
    trades: base.trades.map((t, i) => ({
      ...t,
      ...(i === 0 ? { reason: `${HOSTILE} reason`, tradeId: `${HOSTILE}id` } : {}),
      ...(t.symbol === base.coins[0]!.symbol ? { symbol: `${HOSTILE}USDT` } : {}),
    })),
    coins: base.coins.map((c, i) => (i === 0 ? { ...c, symbol: `${HOSTILE}USDT` } : c)),
    refusals: [{ reason: `${HOSTILE} refusal`, count: 1 }],
  };
}

/** What an HTML parser takes as the JSON block's text: everything up to the first `</script`. */
function embeddedJson(html: string): unknown {
  const open = '<script type="application/json" id="report-data">';
  const start = html.indexOf(open) + open.length;
  return JSON.parse(html.slice(start, html.toLowerCase().indexOf('</script', start)));
}

describe('renderBacktestReport', () => {
  it('never lets a hostile string into the markup: each appears only escaped', () => {
    const input = withHostileStrings();
    const html = renderBacktestReport(input);
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<!--');
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html).toContain('&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&lt;!-- reason');
    expect(embeddedJson(html)).toEqual(input);
  });

  it('allows only its own two scripts (by hash) and no network source at all', () => {
    const html = renderBacktestReport(sampleBacktestReport({ bars: 30, maxTradesPerCoin: 1 }));
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]?.replace(/&#39;/g, "'") ?? '';
    expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[^']+' 'sha256-[^']+'; style-src 'unsafe-inline'; img-src data:;/);
    const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(inline).toHaveLength(2);
    for (const source of inline) expect(csp).toContain(`'sha256-${createHash('sha256').update(source).digest('base64')}'`);
    expect(html).toContain('window.LightweightCharts=');
    expect(html).not.toMatch(/\s(src|href)="(?!#|data:)/);
  });

  it('puts every number in data-value exactly as JavaScript prints it', () => {
    const base = sampleBacktestReport({ bars: 30, maxTradesPerCoin: 1 });
    const odd = [0.1 + 0.2, 1e-12, -123456.789, Number.NaN, Infinity];
    const input: BacktestReportInput = { ...base, metrics: odd.map((value, i) => ({ key: `m${i}`, label: `m${i}`, value, unit: 'USDT' })) };
    const html = renderBacktestReport(input);
    const values = [...html.matchAll(/<td class="num" data-key="(m\d)" data-value="([^"]+)"/g)].map((m) => [m[1], Number(m[2])]);
    expect(values).toEqual(odd.map((v, i) => [`m${i}`, v]));
    expect(html).toContain('>n/a USDT<');
    expect(html).toContain('>∞ USDT<');
    for (const t of input.trades) {
      expect(html).toContain(`<tr data-trade-id="${t.tradeId}">`);
      expect(html).toContain(`data-key="pnlUsd" data-value="${String(t.pnlUsd)}"`);
    }
  });

  it('formats for people: units, signs, price and quantity decimals', () => {
    expect(formatMetric({ value: 71.4285, unit: '%' })).toBe('71.43 %');
    expect(formatMetric({ value: -1234.5, unit: 'USDT' })).toBe('−1,234.50 USDT');
    expect(formatMetric({ value: 2.1, unit: 'x' })).toBe('2.10×');
    expect(formatMetric({ value: 42, unit: 'count' })).toBe('42');
    expect(formatSigned(12.345)).toBe('+12.35');
    expect(formatSigned(-0.001)).toBe('0.00'); // no "−0.00"
    expect(formatPrice(97_123.456)).toBe('97,123.46');
    expect(formatPrice(182.5)).toBe('182.5000');
    expect(formatPrice(0.012345)).toBe('0.01235');
    expect(formatQty(0.02197984)).toBe('0.0219798');
    expect(formatQty(160862.47)).toBe('160,862');
  });
});

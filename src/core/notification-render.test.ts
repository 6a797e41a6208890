import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Notification, NotificationKind } from './notification.js';
import { escapeHtml, renderHtml, renderHtmlMessages, renderText } from './notification-render.js';
import { fmtPrice, fmtUsd, fmtUtcMinute } from './notification-format.js';
import { OutageAlerts } from './outage-alerts.js';
import { dailySummaryNotification, nextDailySummaryAtMs } from './daily-summary.js';

const KINDS: NotificationKind[] = ['signal', 'order_placed', 'order_refused', 'fill', 'trailing_move', 'trade_closed', 'risk_state', 'source_outage', 'daily_summary', 'overflow'];
const note = fc.record({
  id: fc.string(),
  kind: fc.constantFrom(...KINDS),
  tsMs: fc.nat(),
  title: fc.string({ maxLength: 900 }),
  fields: fc.array(fc.tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 900 })), { maxLength: 12 }),
  sensitive: fc.boolean(),
}) as fc.Arbitrary<Notification>;

/** What Telegram's HTML parser would see as text: tags removed, the three entities decoded. */
const textOf = (html: string): string => html.replace(/<\/?(b|i|code)>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('notification templates', () => {
  it('escapes &, < and > so symbols, reasons and numbers cannot break the markup', () => {
    const n: Notification = { id: 'x', kind: 'order_refused', tsMs: 0, symbol: 'A<B>&C', title: 'Refused A<B>&C: RISK_NO_STOP', fields: [['Why', 'loss 1 < 2 & 3 > 2']], sensitive: false };
    expect(renderHtml(n)).toBe('⛔ <b>Refused A&lt;B&gt;&amp;C: RISK_NO_STOP</b>\nWhy: <code>loss 1 &lt; 2 &amp; 3 &gt; 2</code>');
    expect(renderText(n)).toBe('⛔ Refused A<B>&C: RISK_NO_STOP\nWhy: loss 1 < 2 & 3 > 2');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });

  it('property: every message fits Telegram, has only our tags, balanced, and keeps every title (short ones whole)', () => {
    fc.assert(
      fc.property(fc.array(note, { minLength: 1, maxLength: 40 }), (batch) => {
        const msgs = renderHtmlMessages(batch);
        const all = msgs.map(textOf).join('\n');
        for (const m of msgs) {
          expect(m.length).toBeLessThanOrEqual(4096);
          // After removing our tags no raw < or > is left; every & starts an entity.
          const stripped = m.replace(/<\/?(b|i|code)>/g, '');
          expect(stripped).not.toMatch(/[<>]/);
          expect(stripped).not.toMatch(/&(?!(amp|lt|gt);)/);
          for (const tag of ['b', 'i', 'code']) expect(m.split(`<${tag}>`).length).toBe(m.split(`</${tag}>`).length);
        }
        for (const n of batch) expect(all).toContain(n.title.length < 600 ? n.title : n.title.slice(0, 599));
      }),
      { numRuns: 200 },
    );
  });

  it('UTC minutes by arithmetic match Date', () => {
    const p2 = (n: number) => String(n).padStart(2, '0');
    fc.assert(fc.property(fc.integer({ min: 1970, max: 2100 }), fc.integer({ min: 0, max: 11 }), fc.integer({ min: 1, max: 28 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), (y, m, d, h, mi) => {
      expect(fmtUtcMinute(Date.UTC(y, m, d, h, mi, 59, 999))).toBe(`${y}-${p2(m + 1)}-${p2(d)} ${p2(h)}:${p2(mi)} UTC`);
    }));
    expect(fmtUtcMinute(Date.UTC(2024, 1, 29, 23, 59))).toBe('2024-02-29 23:59 UTC');
    expect(fmtUtcMinute(Date.UTC(2000, 11, 31, 0, 0))).toBe('2000-12-31 00:00 UTC');
  });

  it('numbers never use exponent notation', () => {
    expect(fmtPrice(0.00000123)).toBe('0.00000123');
    expect(fmtPrice(65432.123)).toBe('65432.1');
    expect(fmtPrice(1.5)).toBe('1.5');
    expect(fmtUsd(-1234567.5)).toBe('-1,234,567.50');
    fc.assert(fc.property(fc.double({ min: 1e-9, max: 1e9, noNaN: true }), (p) => {
      expect(fmtPrice(p)).not.toMatch(/e/i);
    }));
  });
});

describe('outage alerts', () => {
  it('alert only past the threshold, once; the recovery only for an alerted outage', () => {
    const a = new OutageAlerts(60_000);
    a.onDown('bybit-ws-0', 'closed 1006', 1000);
    a.onDown('bybit-ws-0', 'again', 2000);
    expect(a.tick(60_999)).toEqual([]);
    const [alert] = a.tick(61_000);
    expect(alert).toMatchObject({ kind: 'source_outage', title: 'bybit-ws-0 down for 60 s', fields: [['Since', '1970-01-01 00:00 UTC'], ['Reason', 'closed 1006']] });
    expect(a.tick(120_000)).toEqual([]);
    expect(a.onUp('bybit-ws-0', 181_000)?.title).toBe('bybit-ws-0 back after 3 min');
    a.onDown('coinglass', 'timeout', 200_000);
    expect(a.onUp('coinglass', 210_000)).toBeUndefined();
    expect(a.tick(400_000)).toEqual([]);
  });
});

describe('daily summary', () => {
  it('is scheduled at the hour and counts only trades closed in the last 24 h', () => {
    const day = Date.UTC(2026, 11, 7);
    expect(nextDailySummaryAtMs(day + 3_600_000 * 5, 8)).toBe(day + 3_600_000 * 8);
    expect(nextDailySummaryAtMs(day + 3_600_000 * 8, 8)).toBe(day + 86_400_000 + 3_600_000 * 8);
    const at = day + 8 * 3_600_000;
    const n = dailySummaryNotification({
      atMs: at,
      trades: [
        { symbol: 'SOLUSDT', status: 'closed', pnlUsd: 120, closedAtMs: at - 1000 },
        { symbol: 'ETHUSDT', status: 'closed', pnlUsd: -40, closedAtMs: at - 3_600_000 },
        { symbol: 'BTCUSDT', status: 'closed', pnlUsd: 999, closedAtMs: at - 86_400_001 },
        { symbol: 'XRPUSDT', status: 'cancelled', pnlUsd: undefined, closedAtMs: undefined },
      ],
      signals: 7,
      equityUsd: 10_080,
      riskMode: 'ACTIVE',
      openPositions: 1,
    });
    expect(Object.fromEntries(n.fields)).toMatchObject({ 'Closed trades': '2', 'Win rate': '50 % (1/2)', 'Net PnL': '80.00 USDT', Best: 'SOLUSDT 120.00', Worst: 'ETHUSDT -40.00', Equity: '10,080.00 USDT' });
    expect(n.sensitive).toBe(true);
  });
});

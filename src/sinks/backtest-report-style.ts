/** The report's stylesheet: light, print-friendly, readable at laptop width; no web fonts (nothing to fetch). */
export const REPORT_CSS = `
:root { color-scheme: light; --text: #1e293b; --muted: #64748b; --line: #e2e8f0; --pos: #0f8a7e; --neg: #d93a37; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text); background: #f6f7f9; }
main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 40px; }
header h1 { font-size: 22px; margin: 0 0 4px; }
header p { margin: 0; color: var(--muted); }
h2 { font-size: 16px; margin: 28px 0 10px; }
.card h2 { margin-top: 0; }
h3 { font-size: 15px; margin: 0; }
section.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-top: 16px; }
.overview { display: grid; grid-template-columns: minmax(360px, 470px) 1fr; gap: 16px; align-items: start; }
@media (max-width: 900px) { .overview { grid-template-columns: 1fr; } }
.chart { position: relative; width: 100%; height: 380px; }
.chart.equity { height: 420px; }
.chart.failed::after { content: "chart failed to render (see the console)"; position: absolute; inset: 0; display: grid; place-items: center; color: var(--neg); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 6px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num { text-align: right; }
td.reason, td[data-key="reason"] { white-space: normal; word-break: break-word; }
.pos { color: var(--pos); }
.neg { color: var(--neg); }
.side.long { color: var(--pos); }
.side.short { color: var(--neg); }
.status.met { color: var(--pos); font-weight: 600; }
.status.unmet { color: var(--neg); font-weight: 600; }
.target { color: var(--muted); }
.scroll { overflow-x: auto; }
.empty { color: var(--muted); }
.coin-head { display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; margin-bottom: 8px; }
.coin-summary { margin: 0; color: var(--muted); }
.legend { display: flex; gap: 14px; flex-wrap: wrap; margin: 8px 0 0; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 18px; height: 10px; margin-right: 5px; vertical-align: -1px; border-radius: 2px; }
.legend .k-long { background: rgba(41,98,255,0.25); }
.legend .k-short { background: rgba(255,152,0,0.3); }
.legend .k-stop { height: 0; border-top: 2px dashed #ef5350; }
.legend .k-tp { height: 0; border-top: 2px dashed #26a69a; }
.share { min-width: 160px; }
.share .bar { display: inline-block; height: 8px; background: #94a3b8; border-radius: 2px; margin-right: 8px; max-width: 100px; vertical-align: 0; }
footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
`;

/**
 * The browser side of the HTML report, as plain ES2017 source inlined into the page after the standalone
 * lightweight-charts build (which defines `window.LightweightCharts`). It reads the input from the
 * `#report-data` JSON block and draws:
 * - `[data-chart="equity"]`: one chart, equity (line) in the top pane and drawdown (area, drawn below zero)
 *   in a second pane, so both share the time axis;
 * - `[data-chart="price"][data-coin-index=i]`: candlesticks for coin i, entry and exit markers
 *   (`createSeriesMarkers`), and a series primitive that paints the liquidation clusters as shaded bands
 *   (priceLow–priceHigh over fromMs–toMs, stronger the larger the cluster) beneath the candles, and each
 *   trade's stop and take-profit as dashed segments over the trade's own lifetime.
 *
 * Why a primitive and not price lines or extra series: price lines span the whole chart (thirty trades make
 * sixty lines across every bar), and lightweight-charts' time axis is index-based, so an extra series with
 * times between bars would insert slots and distort the candles. The primitive maps any time to a
 * fractional bar index itself and draws exactly the span it should.
 *
 * Kept as a string because the project's TypeScript has no DOM library; the browser test (no console errors,
 * non-blank canvases) is what checks it. When every chart is created the root element gets
 * `data-charts-ready="<count>"` after two animation frames.
 */
export const CHART_SCRIPT = String.raw`(function () {
  'use strict';
  var LC = window.LightweightCharts;
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var UP = '#26a69a', DOWN = '#ef5350', TEXT = '#334155', GRID = '#eef1f5';
  var CLUSTER = { long: '41,98,255', short: '255,152,0' };

  function sec(ms) { return Math.floor(ms / 1000); }

  // lightweight-charts wants strictly ascending times: sort, and keep the last value within a second.
  function byTime(points, timeMsOf, make) {
    var sorted = points.slice().sort(function (a, b) { return timeMsOf(a) - timeMsOf(b); });
    var out = [];
    for (var i = 0; i < sorted.length; i++) {
      var p = make(sorted[i]);
      p.time = sec(timeMsOf(sorted[i]));
      if (out.length > 0 && out[out.length - 1].time === p.time) out[out.length - 1] = p;
      else out.push(p);
    }
    return out;
  }

  function decimals(price) {
    var abs = Math.abs(price);
    if (!isFinite(abs) || abs >= 1000 || abs === 0) return 2;
    if (abs >= 1) return 4;
    return Math.min(10, 3 - Math.floor(Math.log10(abs)));
  }

  function baseOptions() {
    return {
      autoSize: true,
      layout: { background: { type: 'solid', color: '#ffffff' }, textColor: TEXT, fontSize: 11, fontFamily: 'system-ui, sans-serif' },
      grid: { vertLines: { color: GRID }, horzLines: { color: GRID } },
      rightPriceScale: { borderColor: '#d5dae1' },
      timeScale: { borderColor: '#d5dae1', timeVisible: true, secondsVisible: false },
    };
  }

  function fail(el, err) {
    console.error('chart ' + (el.getAttribute('data-chart') || '?') + ': ' + (err && err.message ? err.message : String(err)));
    el.classList.add('failed');
  }

  function equityChart(el) {
    var chart = LC.createChart(el, baseOptions());
    var equity = chart.addSeries(LC.LineSeries, { color: '#2962ff', lineWidth: 2, priceFormat: { type: 'price', precision: 2, minMove: 0.01 }, title: 'equity USDT' }, 0);
    equity.setData(byTime(data.equity, function (p) { return p.tsMs; }, function (p) { return { value: p.equity }; }));
    var dd = chart.addSeries(LC.AreaSeries, {
      lineColor: DOWN, topColor: 'rgba(239,83,80,0.05)', bottomColor: 'rgba(239,83,80,0.35)', lineWidth: 1,
      priceFormat: { type: 'custom', formatter: function (v) { return v.toFixed(2) + ' %'; }, minMove: 0.01 }, title: 'drawdown',
    }, 1);
    dd.setData(byTime(data.equity, function (p) { return p.tsMs; }, function (p) { return { value: -p.drawdownPct }; }));
    var panes = chart.panes();
    if (panes.length > 1) { panes[0].setStretchFactor(3); panes[1].setStretchFactor(1); }
    chart.timeScale().fitContent();
  }

  // Any time (ms) to a fractional bar index: inside the bars by interpolation, outside by the bar spacing.
  function indexer(times) {
    var n = times.length;
    var step = n > 1 ? (times[n - 1] - times[0]) / (n - 1) : 3600;
    return function (tSec) {
      if (n === 0) return 0;
      if (tSec <= times[0]) return (tSec - times[0]) / step;
      if (tSec >= times[n - 1]) return n - 1 + (tSec - times[n - 1]) / step;
      var lo = 0, hi = n - 1;
      while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (times[mid] <= tSec) lo = mid; else hi = mid; }
      return lo + (tSec - times[lo]) / (times[hi] - times[lo]);
    };
  }

  function Overlay(el, clusters, trades, toIndex) {
    var self = this;
    var maxUsd = clusters.reduce(function (m, c) { return Math.max(m, c.totalUsd); }, 0) || 1;
    this.spans = trades.map(function (t) {
      return { from: toIndex(sec(t.openedAtMs)), to: toIndex(sec(t.closedAtMs)), t: t };
    });
    // logicalToCoordinate answers 0 for a fractional index, so interpolate between the two whole ones.
    function x(tSec) {
      var ts = self.chart.timeScale(), l = toIndex(tSec), i = Math.floor(l);
      var a = ts.logicalToCoordinate(i), b = ts.logicalToCoordinate(i + 1);
      return a === null || b === null ? null : a + (l - i) * (b - a);
    }
    function y(price) { return self.series.priceToCoordinate(price); }
    function bands(ctx) {
      var drawn = 0;
      clusters.forEach(function (c) {
        var x1 = x(sec(c.fromMs)), x2 = x(sec(c.toMs)), y1 = y(c.priceHigh), y2 = y(c.priceLow), yc = y(c.centerPrice);
        if (x1 === null || x2 === null || y1 === null || y2 === null) return;
        var rgb = CLUSTER[c.side] || CLUSTER.long;
        ctx.fillStyle = 'rgba(' + rgb + ',' + (0.08 + 0.22 * c.totalUsd / maxUsd).toFixed(3) + ')';
        ctx.fillRect(x1, y1, Math.max(2, x2 - x1), Math.max(1, y2 - y1));
        drawn++;
        if (yc !== null) {
          ctx.strokeStyle = 'rgba(' + rgb + ',0.7)';
          ctx.setLineDash([2, 3]);
          ctx.beginPath(); ctx.moveTo(x1, yc); ctx.lineTo(Math.max(x1 + 2, x2), yc); ctx.stroke();
        }
      });
      el.setAttribute('data-bands-drawn', String(drawn));
    }
    // What was drawn, per trade, in CSS pixels ([tradeId, x open, x close, y stop, y entry, y take-profit]),
    // on the chart element as data-levels: lets a test check the geometry, not just that pixels changed.
    function levels(ctx) {
      var drawn = [];
      ctx.lineWidth = 1.5;
      self.spans.forEach(function (s) {
        var x1 = x(sec(s.t.openedAtMs)), x2 = x(sec(s.t.closedAtMs));
        if (x1 === null || x2 === null) return;
        drawn.push([s.t.tradeId, x1, x2, y(s.t.stopLossPrice), y(s.t.entryPrice), y(s.t.takeProfitPrice)].map(function (v) { return typeof v === 'number' ? Math.round(v * 10) / 10 : v; }));
        x2 = Math.max(x1 + 3, x2);
        [[s.t.stopLossPrice, DOWN], [s.t.takeProfitPrice, UP]].forEach(function (level) {
          var yl = y(level[0]);
          if (yl === null) return;
          ctx.strokeStyle = level[1]; ctx.setLineDash([4, 3]);
          ctx.beginPath(); ctx.moveTo(x1, yl); ctx.lineTo(x2, yl); ctx.stroke();
        });
        var ye = y(s.t.entryPrice), yx = y(s.t.exitPrice);
        if (ye !== null && yx !== null) {
          ctx.strokeStyle = 'rgba(51,65,85,0.7)'; ctx.setLineDash([]);
          ctx.beginPath(); ctx.moveTo(x1, ye); ctx.lineTo(x2, yx); ctx.stroke();
        }
      });
      ctx.setLineDash([]);
      el.setAttribute('data-levels', JSON.stringify(drawn));
    }
    function view(z, paint) {
      var renderer = { draw: function (target) { target.useMediaCoordinateSpace(function (scope) { scope.context.save(); paint(scope.context); scope.context.restore(); }); } };
      return { zOrder: function () { return z; }, renderer: function () { return renderer; } };
    }
    this.views = [view('bottom', bands), view('normal', levels)];
  }
  Overlay.prototype.attached = function (p) { this.chart = p.chart; this.series = p.series; };
  Overlay.prototype.paneViews = function () { return this.views; };
  // Keep every visible trade's stop and take-profit on screen.
  Overlay.prototype.autoscaleInfo = function (from, to) {
    var min = Infinity, max = -Infinity;
    this.spans.forEach(function (s) {
      if (s.to < from || s.from > to) return;
      min = Math.min(min, s.t.stopLossPrice, s.t.takeProfitPrice);
      max = Math.max(max, s.t.stopLossPrice, s.t.takeProfitPrice);
    });
    return min <= max ? { priceRange: { minValue: min, maxValue: max } } : null;
  };

  function priceChart(el, coin) {
    var trades = data.trades.filter(function (t) { return t.symbol === coin.symbol; });
    var bars = byTime(coin.bars, function (b) { return b.tsMs; }, function (b) { return { open: b.open, high: b.high, low: b.low, close: b.close }; });
    var times = bars.map(function (b) { return b.time; });
    var d = decimals(bars.length > 0 ? bars[bars.length - 1].close : 1);
    var chart = LC.createChart(el, baseOptions());
    var candles = chart.addSeries(LC.CandlestickSeries, {
      upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN,
      priceFormat: { type: 'price', precision: d, minMove: Math.pow(10, -d) },
    });
    candles.setData(bars);
    var toIndex = indexer(times);
    function barTime(tMs) { var i = Math.max(0, Math.min(times.length - 1, Math.floor(toIndex(sec(tMs))))); return times[i]; }
    var markers = [];
    trades.forEach(function (t) {
      var long = t.side === 'long';
      markers.push({ time: barTime(t.openedAtMs), position: long ? 'belowBar' : 'aboveBar', shape: long ? 'arrowUp' : 'arrowDown', color: long ? UP : DOWN, text: long ? 'L' : 'S' });
      markers.push({ time: barTime(t.closedAtMs), position: long ? 'aboveBar' : 'belowBar', shape: 'circle', color: t.pnlUsd >= 0 ? UP : DOWN, text: (t.pnlUsd >= 0 ? '+' : '') + t.pnlUsd.toFixed(0) });
    });
    markers.sort(function (a, b) { return a.time - b.time; });
    if (times.length > 0) LC.createSeriesMarkers(candles, markers);
    candles.attachPrimitive(new Overlay(el, coin.clusters, trades, toIndex));
    chart.timeScale().fitContent();
  }

  var count = 0;
  var equityEl = document.querySelector('[data-chart="equity"]');
  if (equityEl) { try { equityChart(equityEl); count++; } catch (err) { fail(equityEl, err); } }
  document.querySelectorAll('[data-chart="price"]').forEach(function (el) {
    var coin = data.coins[Number(el.getAttribute('data-coin-index'))];
    try { priceChart(el, coin); count++; } catch (err) { fail(el, err); }
  });
  requestAnimationFrame(function () { requestAnimationFrame(function () { document.documentElement.setAttribute('data-charts-ready', String(count)); }); });
})();`;

// Draws the report's charts with uPlot from the inlined, pre-aggregated data; everything else is static HTML.
(function () {
  'use strict';
  var dataEl = document.getElementById('report-data');
  if (!dataEl || typeof uPlot === 'undefined') return;
  var data = JSON.parse(dataEl.textContent || '{}');
  var charts = [];

  function shade(u, intervals, colour, top, height) {
    var ctx = u.ctx;
    var b = u.bbox;
    ctx.save();
    ctx.fillStyle = colour;
    for (var i = 0; i < intervals.length; i++) {
      var iv = intervals[i];
      var x0 = u.valToPos(iv.s, 'x', true);
      var x1 = u.valToPos(iv.e, 'x', true);
      var left = Math.max(b.left, Math.min(x0, x1));
      var right = Math.min(b.left + b.width, Math.max(x0, x1, x0 + 2));
      if (right <= left) continue;
      var y = top === undefined ? b.top : b.top + top * b.height;
      var h = height === undefined ? b.height : height * b.height;
      ctx.fillRect(left, y, right - left, h);
    }
    ctx.restore();
  }

  function vline(u, x, colour) {
    var ctx = u.ctx;
    var b = u.bbox;
    var px = u.valToPos(x, 'x', true);
    if (px < b.left || px > b.left + b.width) return;
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(px, b.top);
    ctx.lineTo(px, b.top + b.height);
    ctx.stroke();
    ctx.restore();
  }

  // Fault windows, split brain and unavailability behind the series; failover start/end as dashed lines over them.
  function intervalHooks(sc) {
    return {
      drawClear: [function (u) {
        shade(u, sc.faults, 'rgba(110, 60, 190, 0.14)');
        shade(u, sc.split, 'rgba(179, 38, 30, 0.22)');
        shade(u, sc.unavail, 'rgba(227, 116, 0, 0.55)', 0.965, 0.035);
      }],
      draw: [function (u) {
        if (sc.failover) {
          vline(u, sc.failover.s, '#455a64');
          if (sc.failover.e !== null) vline(u, sc.failover.e, '#455a64');
        }
      }],
    };
  }

  function widthOf(el) {
    return Math.max(320, Math.floor(el.getBoundingClientRect().width || el.clientWidth || 900));
  }

  function seconds(u, v) {
    return v == null ? '' : v.toFixed(v < 10 ? 2 : 1) + ' s';
  }

  function throughputChart(sc, el) {
    var stepped = uPlot.paths.stepped({ align: 1 });
    var opts = {
      title: '',
      width: widthOf(el),
      height: 220,
      cursor: { sync: { key: 'sc-' + sc.id } },
      scales: { x: { time: false } },
      axes: [
        { label: 'seconds since scenario start', values: function (u, vals) { return vals.map(function (v) { return v + 's'; }); } },
        { label: 'ops/s', size: 100 },
      ],
      series: [
        { label: 't', value: seconds },
        { label: 'ok', stroke: '#1b7f3b', fill: 'rgba(27,127,59,0.12)', width: 1.5, paths: stepped },
        { label: 'fail', stroke: '#b3261e', fill: 'rgba(179,38,30,0.15)', width: 1.5, paths: stepped },
        { label: 'indeterminate', stroke: '#e37400', width: 1.5, paths: stepped },
      ],
      hooks: intervalHooks(sc),
    };
    return new uPlot(opts, [sc.t, sc.rate.ok, sc.rate.fail, sc.rate.info], el);
  }

  function positive(arr) {
    return arr.map(function (v) { return v == null ? null : Math.max(v, 0.01); });
  }

  function latencyChart(sc, el) {
    var opts = {
      width: widthOf(el),
      height: 220,
      cursor: { sync: { key: 'sc-' + sc.id } },
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [
        { label: 'seconds since scenario start', values: function (u, vals) { return vals.map(function (v) { return v + 's'; }); } },
        { label: 'latency ms (log)', size: 100 },
      ],
      series: [
        { label: 't', value: seconds },
        { label: 'ok p50', stroke: '#6fbf86', width: 1.2, spanGaps: false },
        { label: 'ok p99', stroke: '#1b7f3b', width: 1.5, spanGaps: false },
        { label: 'fail p99', stroke: '#b3261e', width: 1.5, points: { show: true, size: 4 }, spanGaps: false },
        { label: 'indeterminate p99', stroke: '#e37400', width: 1.5, points: { show: true, size: 4 }, spanGaps: false },
      ],
      hooks: intervalHooks(sc),
    };
    return new uPlot(opts, [sc.t, positive(sc.p50.ok), positive(sc.p99.ok), positive(sc.p99.fail), positive(sc.p99.info)], el);
  }

  // The timeline above the charts shares their time axis: give its tracks the plot area's left edge and width.
  function alignTimeline(sc, u) {
    var tl = document.querySelector('[data-scenario-timeline="' + sc.id + '"]');
    if (!tl || !u) return;
    var dpr = window.devicePixelRatio || 1;
    var total = tl.getBoundingClientRect().width || 1;
    // Percentages keep the alignment when print scales the charts down with the page.
    tl.style.setProperty('--tl-label', ((u.bbox.left / dpr / total) * 100).toFixed(3) + '%');
    tl.style.setProperty('--tl-track', ((u.bbox.width / dpr / total) * 100).toFixed(3) + '%');
  }

  var firstChart = {};
  (data.scenarios || []).forEach(function (sc) {
    var tp = document.getElementById('chart-throughput-' + sc.id);
    var lat = document.getElementById('chart-latency-' + sc.id);
    if (tp) charts.push({ el: tp, chart: throughputChart(sc, tp) });
    if (lat) charts.push({ el: lat, chart: latencyChart(sc, lat) });
    firstChart[sc.id] = tp ? charts[charts.length - (lat ? 2 : 1)].chart : undefined;
    alignTimeline(sc, firstChart[sc.id]);
  });

  function resizeAll() {
    charts.forEach(function (c) { c.chart.setSize({ width: widthOf(c.el), height: 220 }); });
    (data.scenarios || []).forEach(function (sc) { alignTimeline(sc, firstChart[sc.id]); });
  }
  var pending = 0;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(resizeAll, 100);
  });
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details').forEach(function (d) { d.setAttribute('open', ''); });
    resizeAll();
  });
  window.addEventListener('afterprint', resizeAll);

  document.querySelectorAll('button.copy').forEach(function (btn) {
    btn.addEventListener('click', function () {
      var target = document.getElementById(btn.getAttribute('data-target') || '');
      if (!target || !navigator.clipboard) return;
      navigator.clipboard.writeText(target.textContent || '').then(function () { btn.textContent = 'copied'; }, function () {});
    });
  });
  document.documentElement.setAttribute('data-charts-drawn', String(charts.length));
})();

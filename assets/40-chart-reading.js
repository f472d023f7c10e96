// The chart's reading, in the browser (pages/components/chart_view_callbacks.py sets it up through
// clientside callbacks, so nothing here round-trips to the server):
// - the price axis fits the candles in view after every pan, zoom and new candle, with a little
//   padding, and the live blocks' stops and targets and the form's proposed block (lines that can
//   be dragged); dragging the price axis scales it by hand (auto-fit off), a double-click resets;
// - the wheel and a drag in the plot move time only: plotly has no "zoom x only" for an axis that
//   may still be dragged, so the price axes are made fixed for the moment of each wheel turn or
//   plot drag (plotly reads `fixedrange` when the gesture starts) and free again after it;
// - the time axis follows new candles while its right edge is at the latest bar;
// - the OHLC/change/volume readout in the market's precision, the crosshair's price and time
//   labels on the axes (plotly's spikes draw lines only, no labels), the time ticks in the user's
//   timezone (plotly's date axes know UTC only), the candle count, and the chart's state in the
//   URL (history.replaceState: a dcc.Location would make Dash pages rebuild the page).
(function () {
  "use strict";
  var PAD = 0.08; // share of the visible price span added above and below
  var DAY = 86400000;
  var STEPS = [60e3, 300e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3, 43200e3, DAY, 2 * DAY, 7 * DAY, 14 * DAY];
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var clocks = {};
  var numbers = {};

  function graph() {
    return document.querySelector("#chart-graph .js-plotly-plot");
  }

  function noUpdate() {
    return window.dash_clientside.no_update;
  }

  function clock(tz) {
    if (!clocks[tz]) {
      clocks[tz] = new Intl.DateTimeFormat("en-GB", {
        timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit",
      });
    }
    return clocks[tz];
  }

  // The wall clock of `ms` in `tz`: {y, mo (1-12), d, h, mi, s}.
  function wall(ms, tz) {
    var out = {};
    clock(tz).formatToParts(new Date(ms)).forEach(function (p) {
      if (p.type !== "literal") { out[p.type] = parseInt(p.value, 10); }
    });
    return { y: out.year, mo: out.month, d: out.day, h: out.hour % 24, mi: out.minute, s: out.second };
  }

  function offset(ms, tz) {
    var w = wall(ms, tz);
    return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
  }

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function stamp(ms, tz) {
    var w = wall(ms, tz);
    return w.y + "-" + two(w.mo) + "-" + two(w.d) + " " + two(w.h) + ":" + two(w.mi);
  }

  function number(value, decimals) {
    var key = String(decimals);
    if (!numbers[key]) {
      numbers[key] = new Intl.NumberFormat("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    }
    return numbers[key].format(value);
  }

  // Ticks of the visible range [lo, hi] at local midnights, hours or minutes of the user's zone.
  function ticks(lo, hi, width, tz) {
    var wanted = Math.max(2, Math.floor(width / 110));
    var step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i++) {
      if (STEPS[i] * wanted >= hi - lo) { step = STEPS[i]; break; }
    }
    if (STEPS[STEPS.length - 1] * wanted < hi - lo) { return monthTicks(lo, hi, wanted, tz); }
    var vals = [], text = [];
    var local = Math.ceil((lo + offset(lo, tz)) / step) * step;
    for (var guard = 0; guard < 60; guard++, local += step) {
      var ms = local - offset(local - offset(local, tz), tz);
      if (ms > hi) { break; }
      var w = wall(ms, tz);
      var midnight = w.h === 0 && w.mi === 0;
      var label;
      if (step >= DAY || midnight) {
        label = w.mo === 1 && w.d === 1 ? String(w.y) : w.d + " " + MONTHS[w.mo - 1];
      } else {
        label = two(w.h) + ":" + two(w.mi);
      }
      vals.push(ms);
      text.push(label);
    }
    return { vals: vals, text: text };
  }

  // Ticks on the first of every 1, 3, 6 or 12 months (local midnight), for long ranges.
  function monthTicks(lo, hi, wanted, tz) {
    var months = [1, 3, 6, 12].find(function (m) { return m * 30.4 * DAY * wanted >= hi - lo; }) || 12;
    var start = wall(lo, tz), vals = [], text = [];
    var index = start.y * 12 + start.mo - 1 + 1; // the first month starting after `lo`
    index = Math.ceil(index / months) * months;
    for (var guard = 0; guard < 60; guard++, index += months) {
      var y = Math.floor(index / 12), mo = index % 12;
      var local = Date.UTC(y, mo, 1);
      var ms = local - offset(local - offset(local, tz), tz);
      if (ms > hi) { break; }
      vals.push(ms);
      text.push(mo === 0 ? String(y) : MONTHS[mo]);
    }
    return { vals: vals, text: text };
  }

  function nearest(xs, t) {
    var lo = 0, hi = xs.length - 1;
    if (hi < 0) { return -1; }
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (xs[mid] <= t) { lo = mid; } else { hi = mid - 1; }
    }
    return lo;
  }

  function same(a, b) {
    if (!a || !b) { return false; }
    var span = Math.abs(b[1] - b[0]) || 1;
    return Math.abs(a[0] - b[0]) < span * 1e-6 && Math.abs(a[1] - b[1]) < span * 1e-6;
  }

  // The fit and the ticks are not the user's: plotly's relayout event is kept from dcc.Graph, so
  // relayoutData (which the server's callbacks read: zoom re-reads, drawings, the form's lines)
  // only ever holds the user's own changes, and one of ours cannot supersede one of theirs.
  // Ours never touch the shapes: a line drawn or dragged while one of ours is redrawing (plotly
  // emits at the end of the redraw) still reaches the server, or the drawing would be lost.
  // Two of ours may overlap: plotly's own emit is put back when the last one ends, not the first
  // (which would leave the second's filter on for good, and the user's zooms unheard).
  function relayout(gd, update) {
    if (!gd._tbOwn) {
      var emit = (gd._tbEmit = gd.emit);
      gd.emit = function (name) {
        if (name === "plotly_relayout" && !touchesShapes(arguments[1])) { return undefined; }
        return emit.apply(gd, arguments);
      };
    }
    gd._tbOwn = (gd._tbOwn || 0) + 1;
    var done = function () {
      gd._tbOwn -= 1;
      if (!gd._tbOwn) { gd.emit = gd._tbEmit; }
    };
    try {
      return window.Plotly.relayout(gd, update).then(done, done);
    } catch (error) { // refused mid-redraw: the next plot's refresh fits again
      done();
      return Promise.resolve();
    }
  }

  function touchesShapes(event) {
    return Object.keys(event || {}).some(function (k) { return k.indexOf("shapes") === 0; });
  }

  // After every plot: follow new candles, fit the price axes, time ticks, readout, URL.
  function refresh(gd) {
    var fl = gd._fullLayout, cfg = gd._tbCfg;
    var candles = gd.data && gd.data[0], volume = gd.data && gd.data[1];
    if (!fl || !fl.xaxis || !fl.yaxis || !fl.yaxis2 || !cfg || !candles || candles.type !== "candlestick") { return; }
    var xs = candles.x || [];
    if (!xs.length) { return; }
    var xa = fl.xaxis;
    var range = [xa.r2l(xa.range[0]), xa.r2l(xa.range[1])];
    writeUrl(cfg, range); // first: nothing below (a relayout refused mid-redraw) may keep the URL behind
    var update = {};
    if (!gd._tbManual) {
      var half = xs.length > 1 ? (xs[1] - xs[0]) / 2 : 0;
      var lo = Infinity, hi = -Infinity, most = 0;
      for (var i = 0; i < xs.length; i++) {
        if (xs[i] + half < range[0] || xs[i] - half > range[1]) { continue; }
        lo = Math.min(lo, candles.low[i]);
        hi = Math.max(hi, candles.high[i]);
        most = Math.max(most, (volume && volume.y && volume.y[i]) || 0);
      }
      if (lo <= hi) {
        // A live block's stop and targets and the form's proposed lines stay in view: a line off
        // the pane could not be dragged.
        ((gd.layout && gd.layout.shapes) || []).forEach(function (s) {
          if (s && s.editable && /^tb-(block|preview)-/.test(String(s.name || "")) && isFinite(s.y0)) {
            lo = Math.min(lo, s.y0);
            hi = Math.max(hi, s.y0);
          }
        });
        var pad = (hi - lo) * PAD || Math.abs(hi) * 0.001 || 1;
        var prices = [lo - pad, hi + pad];
        if (!same(fl.yaxis.range, prices)) { update["yaxis.range"] = prices; }
        var volumes = [0, most * 1.1 || 1];
        if (!same(fl.yaxis2.range, volumes)) { update["yaxis2.range"] = volumes; }
      }
    }
    var t = ticks(range[0], range[1], xa._length || 800, cfg.tz);
    var shown = fl.xaxis2.tickmode === "array" ? (fl.xaxis2.tickvals || []).join(",") : "";
    if (t.vals.join(",") !== shown) { // a figure update may have put plotly's own ticks back
      ["xaxis", "xaxis2"].forEach(function (axis) {
        update[axis + ".tickmode"] = "array";
        update[axis + ".tickvals"] = t.vals;
        update[axis + ".ticktext"] = t.text;
      });
    }
    if (Object.keys(update).length && (gd._tbOwn || 0) < 3) {
      relayout(gd, update);
    }
    if (!gd._tbHover) { readout(gd, xs.length - 1); }
  }

  // The followed range goes into the figure Dash holds, not through Plotly.relayout: plotly keeps
  // a user's pan over the next figure update (uirevision) but not a script's relayout, which the
  // next live update would undo. (And no relayoutData: the server has nothing to re-read.)
  // Candles appended (same first candle, a newer last one) while the latest bar was in view:
  // the range moves on by as much. `figure` is the one Dash just received, before it is drawn.
  function followed(gd, figure, key) {
    var c = figure && figure.data && figure.data[0], fl = gd._fullLayout;
    if (!c || c.type !== "candlestick" || !c.x || !c.x.length || !figure.layout) { return false; }
    var first = c.x[0], last = c.x[c.x.length - 1], before = gd._tbSeenLast;
    var newest = gd._tbNewestKey === key ? gd._tbNewest : last;
    var grew = gd._tbSeenFirst === first && before != null && last > before && before >= newest;
    gd._tbSeenFirst = first;
    gd._tbSeenLast = last;
    gd._tbNewest = Math.max(newest, last); // a window re-read after a pan back ends before it
    gd._tbNewestKey = key;
    if (!grew || !fl || !fl.xaxis || !fl.xaxis.range) { return false; }
    var range = [fl.xaxis.r2l(fl.xaxis.range[0]), fl.xaxis.r2l(fl.xaxis.range[1])];
    if (range[1] < before) { return false; } // panned back: stay put
    follow([range[0] + last - before, range[1] + last - before]);
    return true;
  }

  function follow(range) {
    // A Patch, applied to the figure as it is then: a figure update that lands meanwhile (new
    // candles, the blocks' lines, a drawing) is kept.
    var patch = new window.dash_clientside.Patch();
    patch.assign(["layout", "xaxis", "range"], range.slice()).assign(["layout", "xaxis2", "range"], range.slice());
    window.dash_clientside.set_props("chart-graph", { figure: patch.build() });
  }

  function writeUrl(cfg, range) {
    if (window.location.pathname !== "/" || !cfg.query) { return; }
    var here = new URLSearchParams(window.location.search);
    var next = new URLSearchParams(cfg.query.slice(1));
    if (here.get("block") && here.get("symbol") === next.get("symbol")) { next.set("block", here.get("block")); }
    next.set("from", String(Math.round(range[0])));
    next.set("to", String(Math.round(range[1])));
    var search = "?" + next.toString();
    if (search !== window.location.search) {
      window.history.replaceState(window.history.state, "", window.location.pathname + search);
    }
  }

  function span(text, className) {
    var el = document.createElement("span");
    el.textContent = text;
    if (className) { el.className = className; }
    return el;
  }

  function readout(gd, i) {
    var box = document.getElementById("chart-readout");
    var cfg = gd._tbCfg, c = gd.data[0], v = gd.data[1];
    if (!box || !cfg || !c || i < 0 || i >= (c.x || []).length) { return; }
    var d = cfg.price_decimals, before = i > 0 ? c.close[i - 1] : c.open[i];
    var change = c.close[i] - before;
    var pct = before ? (change / before) * 100 : 0;
    var up = change >= 0;
    var parts = [
      span(stamp(c.x[i], cfg.tz) + " " + cfg.tz_label, "me-2"),
      span("O " + number(c.open[i], d) + " H " + number(c.high[i], d) + " L " + number(c.low[i], d) +
        " C " + number(c.close[i], d), "me-2"),
      span((up ? "+" : "") + number(change, d) + " (" + (up ? "+" : "") + number(pct, 2) + "%)",
        "me-2 " + (up ? "text-success" : "text-danger")),
      span("V " + number((v && v.y && v.y[i]) || 0, cfg.volume_decimals)),
    ];
    box.replaceChildren.apply(box, parts);
    box.setAttribute("data-index", String(i));
  }

  function label(host, name) {
    var el = host.querySelector(".tb-axis-label." + name);
    if (!el) {
      el = document.createElement("div");
      el.className = "tb-axis-label " + name;
      host.appendChild(el);
    }
    return el;
  }

  // The crosshair's price on the price axis and its time (the candle's, in the user's zone) on
  // the time axis, and the readout of the candle under the cursor.
  function crosshair(gd, e) {
    var fl = gd._fullLayout, cfg = gd._tbCfg, host = document.getElementById("chart-graph");
    if (!fl || !fl.xaxis || !fl.yaxis2 || !cfg || !host || !gd.data || !gd.data[0]) { return; }
    var box = gd.getBoundingClientRect(), hostBox = host.getBoundingClientRect();
    var x = e.clientX - box.left, y = e.clientY - box.top;
    var xa = fl.xaxis, ya = fl.yaxis, yv = fl.yaxis2;
    var left = box.left - hostBox.left, top = box.top - hostBox.top;
    var inX = x >= xa._offset && x <= xa._offset + xa._length;
    var inPrice = y >= ya._offset && y <= ya._offset + ya._length;
    var inPlot = y >= ya._offset && y <= yv._offset + yv._length;
    var price = label(host, "tb-price-label"), time = label(host, "tb-time-label");
    price.style.display = inX && inPrice ? "block" : "none";
    time.style.display = inX && inPlot ? "block" : "none";
    gd._tbHover = inX && inPlot;
    if (!gd._tbHover) { return; }
    if (inPrice) {
      price.textContent = number(ya.p2l(y - ya._offset), cfg.price_decimals);
      price.style.left = left + xa._offset + xa._length + "px";
      price.style.top = top + y + "px";
    }
    var xs = gd.data[0].x || [];
    var i = nearest(xs, xa.p2l(x - xa._offset));
    if (i >= 0) {
      time.textContent = stamp(xs[i], cfg.tz);
      time.style.left = left + xa._offset + xa.l2p(xs[i]) + "px";
      time.style.top = top + yv._offset + yv._length + "px";
      readout(gd, i);
    }
  }

  function leave(gd) {
    var host = document.getElementById("chart-graph");
    gd._tbHover = false;
    if (host) {
      host.querySelectorAll(".tb-axis-label").forEach(function (el) { el.style.display = "none"; });
    }
    if (gd.data && gd.data[0] && gd.data[0].x) { readout(gd, gd.data[0].x.length - 1); }
  }

  function holdPrices(gd, held) {
    var fl = gd._fullLayout;
    if (!fl) { return; }
    ["yaxis", "yaxis2"].forEach(function (axis) {
      if (fl[axis]) { fl[axis].fixedrange = held; }
    });
  }

  function isPriceDrag(event) {
    var hasY = "yaxis.range[0]" in event || "yaxis.range" in event;
    var hasX = Object.keys(event).some(function (k) { return k.indexOf("xaxis") === 0 && k.indexOf("range") > 0; });
    return hasY && !hasX;
  }

  function schedule(gd) {
    if (gd._tbPending) { return; }
    gd._tbPending = window.setTimeout(function () {
      gd._tbPending = null;
      refresh(gd);
    }, 0);
  }

  function hook(gd) {
    if (gd._tbHooked) { return; }
    gd._tbHooked = true;
    // Not inside plotly's own plot: a relayout started there would wait on the one that emitted it.
    gd.on("plotly_afterplot", function () { schedule(gd); });
    gd.on("plotly_relayout", function (event) {
      if (gd._tbOwn) { return; }
      if (event["yaxis.autorange"] || event["xaxis.autorange"]) { gd._tbManual = false; }
      else if (isPriceDrag(event)) { gd._tbManual = true; }
    });
    gd.addEventListener("wheel", function () {
      holdPrices(gd, true);
      window.setTimeout(function () { holdPrices(gd, false); }, 0);
    }, true);
    gd.addEventListener("mousedown", function (e) {
      var target = e.target;
      if (!gd._tbManual && target && target.classList && target.classList.contains("nsewdrag")) {
        holdPrices(gd, true);
        document.addEventListener("mouseup", function () { holdPrices(gd, false); }, { once: true });
      }
    }, true);
    gd.addEventListener("mousemove", function (e) { crosshair(gd, e); });
    gd.addEventListener("mouseleave", function () { leave(gd); });
    if (window.tradeblockGrab) { window.tradeblockGrab(gd); } // 42-chart-grab.js
  }

  function attach(view, figure, tries) {
    var gd = graph();
    if (!view || !view.reading) { return; }
    if (!gd || !gd.on || !gd._fullLayout) {
      if ((tries || 0) < 50) { window.setTimeout(function () { attach(view, figure, (tries || 0) + 1); }, 100); }
      return;
    }
    // A replay is a chart of its own: the newest bar it follows is the replay's, not the live one.
    var key = view.series_id + "-" + view.timeframe + (view.replay ? "-replay-" + view.replay : "");
    var cfg = Object.assign({}, view.reading, { key: key });
    if (!gd._tbCfg || gd._tbCfg.key !== cfg.key) { gd._tbManual = false; }
    gd._tbCfg = cfg;
    hook(gd);
    if (followed(gd, figure, cfg.key)) { return; } // the figure comes back with the new range
    schedule(gd);
    var count = document.getElementById("chart-count");
    var xs = figure && figure.data && figure.data[0] && figure.data[0].x;
    if (count && xs) { count.textContent = xs.length + " candles"; }
  }

  var ns = (window.dash_clientside = window.dash_clientside || {});
  ns.tradeblockChart = {
    attach: function (view, figure) {
      attach(view, figure, 0);
      return view ? view.series_id + "-" + view.timeframe : null;
    },
    // A live update's or a zoom's answer (pages/chart.py LIVE_ANSWER, ZOOM_ANSWER) goes to the figure it was
    // read for only: one that answers after another timeframe or series was drawn would put its
    // candles and its view on that chart.
    answer: function (answer, view) {
      if (!answer || !view || answer.for !== view.drawn) { return [noUpdate(), noUpdate(), noUpdate()]; }
      return [
        answer.figure === null ? noUpdate() : answer.figure,
        answer.view, // null: the series is no longer watched
        answer.status === null ? noUpdate() : answer.status,
      ];
    },
    // The bar shows the chart's exchange, symbol and timeframe; unchanged values are not set again.
    syncBar: function (view, exchange, symbol, timeframe) {
      if (!view) { return [noUpdate(), noUpdate(), noUpdate()]; }
      return [
        view.exchange === exchange ? noUpdate() : view.exchange,
        view.symbol === symbol ? noUpdate() : view.symbol,
        view.timeframe === timeframe ? noUpdate() : view.timeframe,
      ];
    },
  };
})();

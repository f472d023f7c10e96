// Grabbing the chart's horizontal lines (a block's stop and targets, the form's proposed lines, a
// level drawn by hand) by a band around them. Plotly hit-tests an editable shape on its painted
// stroke alone, so a 2-px dotted line answered only on its dots and a press beside it panned the
// chart. A press within BAND px of such a line drags it here instead; the line follows the mouse
// (its SVG moved, no relayout on the way) and on release one `Plotly.relayout` sets its price:
// the same event plotly sends after its own drag, which the server reads (an amend, a form field).
// 40-chart-reading.js calls `tradeblockGrab(gd)` once per graph.
(function () {
  "use strict";
  var BAND = 7; // px above and below a line that grab it
  var MOVED = 3; // px: a press that moved less is a click

  function horizontal(s) {
    return s && s.editable && s.type === "line" && s.y0 === s.y1 && isFinite(s.y0);
  }

  function priceAxis(gd, s) {
    return gd._fullLayout[String(s.yref || "y").replace("y", "yaxis")];
  }

  // The index of the grabbable line nearest to the point (x, y) of the graph, within the band; of
  // lines at the same price, the one painted on top (the last), as plotly's own hit would take.
  function nearest(gd, x, y) {
    var fl = gd._fullLayout, xa = fl && fl.xaxis, shapes = (gd.layout && gd.layout.shapes) || [];
    if (!xa || x < xa._offset || x > xa._offset + xa._length) { return -1; }
    var best = -1, gap = BAND + 1;
    shapes.forEach(function (s, i) {
      var ya = horizontal(s) && priceAxis(gd, s);
      if (!ya) { return; }
      var d = Math.abs(ya._offset + ya.l2p(ya.d2l(s.y0)) - y);
      if (d <= gap) { best = i; gap = d; }
    });
    return best;
  }

  function drawable(gd) {
    var mode = gd._fullLayout && gd._fullLayout.dragmode;
    return mode === "pan" || mode === "zoom";
  }

  function parts(gd, index) {
    return gd.querySelectorAll(".shapelayer [data-index='" + index + "']");
  }

  function shift(gd, index, dy) {
    parts(gd, index).forEach(function (el) {
      el.setAttribute("transform", dy ? "translate(0," + dy + ")" : "");
    });
  }

  function point(gd, e) {
    var box = gd.getBoundingClientRect();
    return { x: e.clientX - box.left, y: e.clientY - box.top };
  }

  function swallowClick() {
    document.addEventListener("click", function (e) { e.stopPropagation(); e.preventDefault(); },
      { capture: true, once: true });
  }

  function grab(gd, index, start) {
    var shape = gd.layout.shapes[index], ya = priceAxis(gd, shape), moved = false, dy = 0;
    gd.classList.add("tb-grabbing");
    function move(e) {
      dy = point(gd, e).y - start.y;
      moved = moved || Math.abs(dy) >= MOVED;
      if (moved) { shift(gd, index, dy); }
    }
    function release() {
      document.removeEventListener("mousemove", move, true);
      gd.classList.remove("tb-grabbing");
      if (!moved) { return; }
      swallowClick();
      shift(gd, index, 0);
      var price = ya.l2d(ya.p2l(ya.l2p(ya.d2l(shape.y0)) + dy));
      var update = {};
      update["shapes[" + index + "].y0"] = price;
      update["shapes[" + index + "].y1"] = price;
      window.Plotly.relayout(gd, update);
    }
    document.addEventListener("mousemove", move, true);
    document.addEventListener("mouseup", release, { capture: true, once: true });
  }

  window.tradeblockGrab = function (gd) {
    gd.addEventListener("mousedown", function (e) {
      if (e.button !== 0 || !drawable(gd)) { return; }
      var at = point(gd, e), index = nearest(gd, at.x, at.y);
      if (index < 0) { return; }
      e.stopPropagation(); // plotly would pan (or start its own stroke-only drag)
      e.preventDefault();
      grab(gd, index, at);
    }, true);
    gd.addEventListener("mousemove", function (e) {
      if (gd.classList.contains("tb-grabbing")) { return; }
      var at = point(gd, e);
      gd.classList.toggle("tb-grab-near", drawable(gd) && nearest(gd, at.x, at.y) >= 0);
    });
  };
})();

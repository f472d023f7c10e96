// Picking a price alert's level on the chart (pages/components/chart_alerts.py): "Pick" arms the
// chart, and the next click inside the price pane writes the price under the cursor (at the
// market's precision, as the crosshair label shows it) into the alert bar's field; Escape or a
// second "Pick" disarms. Nothing is set until "Alert" is pressed.
(function () {
  "use strict";

  function graph() {
    return document.querySelector("#chart-graph .js-plotly-plot");
  }

  function arm(gd, on) {
    gd._tbAlertPick = on;
    var host = document.getElementById("chart-graph");
    if (host) { host.classList.toggle("tb-alert-picking", on); }
    var button = document.getElementById("alert-pick");
    if (button) { button.classList.toggle("active", on); }
  }

  // The price under the cursor, or null outside the price pane.
  function priceAt(gd, e) {
    var fl = gd._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) { return null; }
    var box = gd.getBoundingClientRect();
    var x = e.clientX - box.left, y = e.clientY - box.top, xa = fl.xaxis, ya = fl.yaxis;
    if (x < xa._offset || x > xa._offset + xa._length || y < ya._offset || y > ya._offset + ya._length) {
      return null;
    }
    var decimals = gd._tbCfg && typeof gd._tbCfg.price_decimals === "number" ? gd._tbCfg.price_decimals : 2;
    return ya.p2l(y - ya._offset).toFixed(decimals);
  }

  document.addEventListener("click", function (e) {
    var gd = graph();
    if (!gd || !e.target || !e.target.closest) { return; }
    if (e.target.closest("#alert-pick")) {
      arm(gd, !gd._tbAlertPick);
      return;
    }
    if (!gd._tbAlertPick || !gd.contains(e.target)) { return; }
    var price = priceAt(gd, e);
    if (price === null) { return; }
    arm(gd, false);
    window.dash_clientside.set_props("alert-price", { value: price, invalid: false });
  }, true);

  document.addEventListener("keydown", function (e) {
    var gd = graph();
    if (e.key === "Escape" && gd && gd._tbAlertPick) { arm(gd, false); }
  });
})();

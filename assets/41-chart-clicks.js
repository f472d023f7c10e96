// The chart page's clicks, told apart from redraws in the browser before the server is asked, and
// the watchlist's word passed on to the chart (redraw).
// A button drawn again (the watchlist's, the timeframe buttons) or a value set by a callback (the
// bar's timeframe) triggers its callbacks with no click. Were those the server callbacks that
// write chart-prefs, each would be pending for a round trip, and Dash holds every callback that
// reads chart-prefs until it answers: the first figure waited ~120 ms on two callbacks that then
// changed nothing. Here nothing is pending; the server callbacks read the stores these write.
(function () {
  "use strict";

  function noUpdate() {
    return window.dash_clientside.no_update;
  }

  // The id of what was clicked, or null when the trigger was a redraw (no clicks yet).
  function clicked() {
    var c = window.dash_clientside.callback_context;
    var t = c && c.triggered && c.triggered[0];
    return t && t.value ? c.triggered_id : null;
  }

  var ns = (window.dash_clientside = window.dash_clientside || {});
  ns.tradeblockClicks = {
    // Add to watchlist, a watchlist entry chosen or removed: {kind, series, at} for the server.
    watch: function () {
      var id = clicked();
      if (!id) { return noUpdate(); }
      if (id === "bar-add") { return { kind: "add", series: null, at: Date.now() }; }
      if (id.type === "watch-select") { return { kind: "select", series: id.series, at: Date.now() }; }
      if (id.type === "watch-remove") { return { kind: "remove", series: id.series, at: Date.now() }; }
      return noUpdate();
    },
    // A timeframe button, or a timeframe picked in the bar, other than the one on screen.
    timeframe: function (_clicks, picked, view) {
      var id = clicked();
      if (!id || !view) { return noUpdate(); }
      var wanted = typeof id === "object" ? id.tf : picked;
      if (!wanted || wanted === view.timeframe) { return noUpdate(); }
      return { tf: wanted, at: Date.now() };
    },
    // The watchlist's series-state, passed on to the chart on a poll's tick when the chart must
    // be drawn again for it: another series is chosen, or the "Backfilling..." chart's backfill
    // ended. Not while the page's first draw is on its way (it reads the same series).
    redraw: function (_progress, _live, state, view, figure) {
      var meta = figure && figure.layout && figure.layout.meta;
      var shown = meta && meta.placeholder;
      if (!state || shown === "loading") { return noUpdate(); }
      var other = view && view.series_id !== state.series_id;
      var ready = !view && shown === "backfilling" && state.status !== "backfilling";
      return other || ready ? state : noUpdate();
    },
    // A link's or bookmark's series and timeframe become the ones shown (and stay the preference).
    focus: function (focus) {
      if (!focus || !focus.series_id) { return noUpdate(); }
      return { series_id: focus.series_id, timeframe: focus.timeframe === undefined ? null : focus.timeframe };
    },
  };
})();

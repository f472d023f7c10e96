"""Callbacks of the chart's indicators and closed-trade markers (pages/components/chart_indicators.py,
chart_markers.py): choosing indicators and the trades switch (kept per user in the database), and
drawing both over the chart as a dash.Patch.

The browser says which of our traces the figure holds (a clientside callback on every new figure,
window or live candle); the server answers with the whole indicator set after a new figure, window
or choice, and with the newest values only (a few numbers) after a live candle or a replay step.
The indicators are read from the database, never from the browser; every callback checks the user.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, Patch, State, ctx, html, no_update

from engine.blocks import api as blocks
from engine.common.timeframes import tf_ms
from engine.market import api as market
from engine.market.api import ChartPrefError, StudyLines
from pages.components import chart_indicators as ci
from pages.components import chart_markers, chart_replay
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
from web.auth import READERS, current_runtime, current_view, require_role

# Registered by pages/chart.py, once per app (see pages/components/deferred.py).
CALLBACKS = Deferred()

# What the figure holds of ours: each indicator or trades trace's index, name, level, point count,
# first and last time. Cheap: it reads the figure already in the browser.
HELD_JS = """
function (view, prefs, figure) {
  var data = figure && figure.data;
  if (!view || !data || !data[0] || data[0].type !== "candlestick") { return window.dash_clientside.no_update; }
  var held = [];
  data.forEach(function (t, i) {
    var name = t.name || "";
    if (name.indexOf("ind:") !== 0 && name !== "tb-trades") { return; }
    var xs = t.x || [];
    held.push({i: i, name: name, meta: t.meta || null, n: xs.length,
               first: xs.length ? xs[0] : null, last: xs.length ? xs[xs.length - 1] : null});
  });
  return {series_id: view.series_id, level: view.level, first_ts: view.first_ts, last_ts: view.last_ts,
          drawn: view.drawn, prefs: prefs, held: held};
}
"""


def register_clientside() -> None:
    """The browser's report of what the figure holds (called by pages/chart.py at import)."""
    dash.clientside_callback(
        HELD_JS,
        Output(ci.REQUEST, "data"),
        Input("chart-view", "data"),
        Input(ci.PREFS, "data"),
        State("chart-graph", "figure"),
    )


@CALLBACKS.callback(
    Output(ci.PREFS, "data"),
    Output(ci.CHIPS, "children"),
    Output(ci.MESSAGE, "children"),
    Input(ci.ADD, "n_clicks"),
    Input({"type": ci.REMOVE, "key": ALL}, "n_clicks"),
    Input(ci.TRADES, "value"),
    State(ci.PICK, "value"),
    State(ci.PERIOD, "value"),
    State(ci.WIDTH, "value"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def change_studies(_add: int, _removes: list[int], trades: bool | None, name: Any, period: Any, width: Any) -> tuple:
    """Add an indicator (refused at the toolbar with why: nothing stored), remove one, or show or
    hide the closed trades; stored for the user, so every chart and a reload show the same."""
    trigger = ctx.triggered_id
    if trigger != ci.TRADES and not clicked():
        return no_update, no_update, no_update  # chips re-rendered, not clicked
    runtime, user = current_runtime(), current_view()
    shown = list(market.chart_prefs(runtime, user.id).indicators)
    try:
        if trigger == ci.TRADES:
            prefs = market.keep_chart_prefs(runtime, user.id, show_trades=bool(trades))
        elif trigger == ci.ADD:
            spec = market.parse_spec(name, period, width)
            if spec in shown:
                return (
                    no_update,
                    no_update,
                    html.Span(f"{spec.label} is already shown.", className="text-body-secondary"),
                )
            prefs = market.keep_chart_prefs(runtime, user.id, indicators=[*shown, spec])
        elif isinstance(trigger, dict) and trigger.get("type") == ci.REMOVE:
            kept = [s for s in shown if s.key != trigger.get("key")]
            prefs = market.keep_chart_prefs(runtime, user.id, indicators=kept)
        else:
            return no_update, no_update, no_update
    except ChartPrefError as exc:
        return no_update, no_update, html.Span(str(exc), className="text-danger", id="ind-error")
    return prefs.as_dict(), ci.chips(prefs.indicators), ""


def _tail_from(request: dict, names: list[str]) -> int | None:
    """The newest time the figure's indicator traces hold, when they are these indicators at this
    level over this window (only newer values need sending); None when they must be drawn again."""
    held = [h for h in request.get("held") or [] if str(h.get("name", "")).startswith(ci.PREFIX)]
    first, last = request.get("first_ts"), request.get("last_ts")
    if [h.get("name") for h in held] != names:
        return None
    if not held:  # none shown, none wanted: only the trades may need sending
        return last if isinstance(last, int) else None
    lasts = [h.get("last") for h in held]
    if any(h.get("meta") != request.get("level") or h.get("first") != first for h in held):
        return None
    if any(not isinstance(x, int) or not isinstance(last, int) or x > last for x in lasts):
        return None
    return min(lasts)  # type: ignore[type-var]


def _tail_patch(patch: Patch, request: dict, studies: list[StudyLines]) -> bool:
    """Set the values at the figure's last time and append the newer ones; whether anything changed."""
    by_name = {h["name"]: h for h in request.get("held") or []}
    changed = False
    for trace in ci.study_traces(studies, str(request.get("level"))):
        held = by_name.get(trace["name"])
        if held is None:
            continue
        i, n, last = int(held["i"]), int(held["n"]), held["last"]
        newer = [(x, y) for x, y in zip(trace["x"], trace["y"], strict=True) if x >= last]
        if newer and newer[0][0] == last:
            patch["data"][i]["y"][n - 1] = newer[0][1]
            newer = newer[1:]
            changed = True
        if newer:
            patch["data"][i]["x"].extend([x for x, _ in newer])
            patch["data"][i]["y"].extend([y for _, y in newer])
            changed = True
    return changed


@CALLBACKS.callback(
    Output("chart-graph", "figure", allow_duplicate=True),
    Input(ci.REQUEST, "data"),
    State(chart_replay.REPLAY, "data"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def draw_studies(request: dict | None, replay: dict | None) -> Any:
    """The user's indicators and closed trades over the figure the browser holds."""
    first, last, level = (request or {}).get("first_ts"), (request or {}).get("last_ts"), (request or {}).get("level")
    if not request or not isinstance(first, int) or not isinstance(last, int) or not isinstance(level, str):
        return no_update
    runtime, user = current_runtime(), current_view()
    series_id = request.get("series_id")
    try:
        entry = market.watched(runtime, user.id, series_id)
        tf_ms(level)
    except (market.NotWatchedError, ValueError):
        return no_update
    prefs = market.chart_prefs(runtime, user.id)
    until = chart_replay.cursor_for(runtime, user.id, replay, entry.exchange, entry.symbol)
    patch, changed = Patch(), False
    specs = list(prefs.indicators)
    expected = [ci.trace_name(s, line) for s in specs for line in _lines_of(s)]
    tail = _tail_from(request, expected)
    held = list(request.get("held") or [])
    if tail is not None:
        studies = market.chart_studies(runtime, user.id, entry.series_id, level, tail, last, specs, until)
        changed = _tail_patch(patch, request, studies)
        trades = next((h for h in held if h.get("name") == chart_markers.NAME), None)
        shown = _markers(prefs.show_trades and until is None, entry.series_id, first, last + tf_ms(level))
        if trades is None:
            patch["data"].append(shown)
            return patch
        if trades.get("meta") != shown["meta"]:
            patch["data"][int(trades["i"])] = shown
            changed = True
        return patch if changed else no_update
    studies = market.chart_studies(runtime, user.id, entry.series_id, level, first, last, specs, until)
    for h in sorted(held, key=lambda h: -int(h["i"])):  # the last first: earlier indices stay put
        del patch["data"][int(h["i"])]
    for trace in ci.study_traces(studies, level):
        patch["data"].append(trace)
    patch["data"].append(_markers(prefs.show_trades and until is None, entry.series_id, first, last + tf_ms(level)))
    ci.apply_layout(patch, ci.pane_layout(specs))
    return patch


def _lines_of(spec: market.IndicatorSpec) -> list[str]:
    return list(market.compute(spec.name, market.ChartCandles("1m", "1m", False), spec.period, spec.width))


def _markers(show: bool, series_id: int, start: int, end: int) -> dict[str, Any]:
    found = blocks.trade_markers(current_runtime(), current_view().id, series_id, start, end) if show else []
    return chart_markers.markers_trace(found)

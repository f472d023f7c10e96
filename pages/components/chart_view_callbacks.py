"""Callbacks and helpers of the chart's reading (pages/components/chart_view.py): the one-click
timeframes, the symbol bar following the chart, a link or bookmark opening its series, and the
browser side (assets/40-chart-reading.js: the price axis fitted to the visible candles, following
new candles, the readout, the crosshair's labels, times in the user's timezone, the URL).

A timeframe button reads another stored level of the series on screen: no watchlist entry is
added. Every server callback reads the user from the session.
"""

from __future__ import annotations

import time
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Input, Output, State, html, no_update

from engine.market import api as market
from engine.market.api import ChartCandles, WatchEntry
from pages.components import chart_focus, chart_view
from pages.components.deferred import Deferred
from web.auth import READERS, current_runtime, current_view, require_role

# Registered by pages/chart.py, once per app (see pages/components/deferred.py).
CALLBACKS = Deferred()
HOOK = "chart-reading-hook"  # what the browser side last set up (a clientside callback's output)
TIMEFRAME_PICK = "chart-tf-pick"  # {tf, at}: a timeframe button or the bar's, other than the one shown


def focus_for(query: dict[str, Any]) -> dict | None:
    """The series, level and moment or range a link asks for: a series of the user's that stores
    that timeframe, else one added like the Add button does; None for a plain visit or a link that
    does not parse."""
    focus = chart_focus.parse_focus(query)
    if focus is None:
        return None
    runtime, user = current_runtime(), current_view()
    entry = market.find_watched(runtime, user.id, focus.exchange, focus.symbol, focus.timeframe)
    if entry is None:
        try:
            entry, _new = market.add_series(runtime, user.id, focus.exchange, focus.symbol, focus.timeframe)
        except (market.WatchError, ValueError):
            return None
    return {
        "series_id": entry.series_id,
        "timeframe": focus.timeframe,
        "at": focus.at,
        "block": focus.block,
        "start": focus.start,
        "end": focus.end,
    }


def focused_range(focus: dict | None, series_id: int, level: str, step_ms: int) -> tuple | None:
    """(candles to load, x range shown) of a link's moment or range on this series and level."""
    if not focus or focus.get("series_id") != series_id or focus.get("timeframe", level) != level:
        return None
    if isinstance(focus.get("start"), int) and isinstance(focus.get("end"), int):
        return chart_focus.shown_range(focus["start"], focus["end"])
    if isinstance(focus.get("at"), int):
        return chart_focus.window(focus["at"], step_ms)
    return None


def status(entry: WatchEntry, candles: ChartCandles, level: str) -> list:
    """The line over the chart: what is shown, its timeframes, the candle count."""
    parts: list = [html.Span(f"{entry.symbol} · {entry.exchange} · {level}", className="fw-semibold")]
    parts.append(chart_view.timeframe_buttons(chart_view.levels(entry.timeframe), level))
    if candles.coarser:
        parts.append(dbc.Badge(f"showing {candles.timeframe} candles", color="info", id="chart-level"))
    parts.append(html.Span(f"{len(candles)} candles", id="chart-count", className="small text-body-secondary"))
    return parts


def view_data(entry: WatchEntry, candles: ChartCandles, level: str, last: list | None = None) -> dict:
    """What the figure holds (the "chart-view" store): series, level, count, oldest and newest
    candle, the last price, and what the browser needs to read it."""
    ticks = market.market_ticks(current_runtime(), entry.exchange, entry.symbol)
    newest = [candles.ts[-1], candles.close[-1]] if candles.ts else None
    if last and (newest is None or last[0] > newest[0]):
        newest = last  # a pan back: the last price is still the newest candle's
    return {
        "series_id": entry.series_id,
        "exchange": entry.exchange,
        "symbol": entry.symbol,
        "timeframe": level,
        "level": candles.timeframe,
        "count": len(candles),
        "first_ts": candles.ts[0] if candles.ts else None,
        "last_ts": candles.ts[-1] if candles.ts else None,
        "last": newest,
        "tick": None if ticks.price is None else str(ticks.price),
        "reading": chart_view.reading(
            entry.exchange,
            entry.symbol,
            level,
            ticks.price,
            ticks.amount,
            chart_view.zone(current_view().timezone),
        ),
        "drawn": time.monotonic_ns(),  # a new figure (or window): the shapes over it are sent again
    }


@CALLBACKS.callback(
    Output("chart-prefs", "data", allow_duplicate=True),
    Input(TIMEFRAME_PICK, "data"),
    State("chart-view", "data"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def choose_timeframe(pick: dict | None, view: dict | None) -> Any:
    """A timeframe button, or a timeframe picked in the bar that the series on screen stores,
    shows that level of the same series (the bar's other timeframes are for Add to watchlist).
    The browser sends real picks only (assets/41-chart-clicks.js)."""
    wanted = (pick or {}).get("tf")
    if not view or not wanted:
        return no_update
    try:
        entry = market.watched(current_runtime(), current_view().id, view.get("series_id"))
    except market.NotWatchedError:
        return no_update
    if wanted == view.get("timeframe") or wanted not in market.stored_levels(entry.timeframe):
        return no_update
    return {"series_id": entry.series_id, "timeframe": wanted}


def register_clientside() -> None:
    """The browser-side callbacks (assets/40-chart-reading.js), called by pages/chart.py at import
    like its own: the symbol bar shows what the chart shows (only what differs is set, since each
    set asks the server for the bar's options again), the reading follows each new figure, and a
    timeframe picked is told from a redraw before the server is asked (assets/41-chart-clicks.js)."""
    dash.clientside_callback(
        ClientsideFunction("tradeblockClicks", "timeframe"),  # assets/41-chart-clicks.js
        Output(TIMEFRAME_PICK, "data"),
        Input({"type": chart_view.BUTTON, "tf": ALL}, "n_clicks"),
        Input("bar-timeframe", "value"),
        State("chart-view", "data"),
        prevent_initial_call=True,
    )
    dash.clientside_callback(
        ClientsideFunction("tradeblockChart", "syncBar"),
        Output("bar-exchange", "value", allow_duplicate=True),
        Output("bar-symbol", "value", allow_duplicate=True),
        Output("bar-timeframe", "value", allow_duplicate=True),
        Input("chart-view", "data"),
        State("bar-exchange", "value"),
        State("bar-symbol", "value"),
        State("bar-timeframe", "value"),
        prevent_initial_call=True,
    )
    dash.clientside_callback(
        ClientsideFunction("tradeblockChart", "attach"),
        Output(HOOK, "data"),
        Input("chart-view", "data"),
        Input("chart-graph", "figure"),
    )

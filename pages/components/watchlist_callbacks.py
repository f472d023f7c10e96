"""Callbacks of the chart page's watchlist (pages/components/watchlist.py): add a series from the
symbol bar, show or remove one, the panel with its backfill progress, and a link's series opened.

The clicks reach the server through the stores WATCH_CLICK (and the link's focus through a
browser-side copy): assets/41-chart-clicks.js says why. Every server callback reads the user from
the session; a series id from the browser is checked by the engine against the user's watchlist.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, html, no_update

from engine.market import api as market
from pages.components import chart_focus
from pages.components import watchlist as wl
from pages.components.deferred import Deferred
from web.auth import READERS, current_runtime, current_view, require_role

CALLBACKS = Deferred()  # registered by pages/chart.py
WATCH_CLICK = "watch-click"  # {kind: add | select | remove, series, at}, from a real click only


@CALLBACKS.callback(
    Output("chart-prefs", "data"),
    Output("watch-version", "data"),
    Output("bar-message", "children"),
    Input(WATCH_CLICK, "data"),
    State("bar-exchange", "value"),
    State("bar-symbol", "value"),
    State("bar-timeframe", "value"),
    State("chart-prefs", "data"),
    State("watch-version", "data"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def watchlist_actions(
    click: dict | None,
    exchange: str | None,
    symbol: str | None,
    timeframe: str | None,
    prefs: dict | None,
    version: int | None,
) -> tuple[Any, Any, Any]:
    kind = (click or {}).get("kind")
    runtime, user = current_runtime(), current_view()
    bump = (version or 0) + 1
    if kind == "add":
        if not (exchange and symbol and timeframe):
            return (
                no_update,
                no_update,
                html.Span("Pick an exchange, a symbol and a timeframe.", className="text-danger"),
            )
        try:
            entry, new = market.add_series(runtime, user.id, exchange, symbol, timeframe)
        except (market.WatchError, ValueError) as exc:
            return no_update, no_update, html.Span(str(exc), className="text-danger")
        if not new:  # shown, not added twice
            said = html.Span(f"{wl.label(entry)} is already on your watchlist.", className="text-body-secondary")
            return {"series_id": entry.series_id}, no_update, said
        return {"series_id": entry.series_id}, bump, html.Span(f"Added {wl.label(entry)}.", className="text-success")
    try:
        series_id = int((click or {}).get("series"))
    except (TypeError, ValueError):
        return no_update, no_update, no_update
    if kind == "select":
        return {"series_id": series_id}, no_update, ""
    if kind == "remove":
        market.remove_series(runtime, user.id, series_id)
        keep = prefs if (prefs or {}).get("series_id") != series_id else {"series_id": None}
        return keep, bump, ""
    return no_update, no_update, no_update


@CALLBACKS.callback(
    Output("watchlist", "children"),
    Output("progress-poll", "disabled"),
    Output("chart-progress", "children"),
    Output("series-state", "data"),
    Input("watch-version", "data"),
    Input("progress-poll", "n_intervals"),
    Input("chart-prefs", "data"),
    State("series-state", "data"),
)
@require_role(*READERS)
def render_watchlist(_version: int, _tick: int, prefs: dict | None, state: dict | None) -> tuple[Any, ...]:
    runtime, user = current_runtime(), current_view()
    entries = market.watchlist(runtime, user.id)
    chosen = market.pick_series(runtime, user.id, (prefs or {}).get("series_id"))
    progress: Any = None
    if chosen is not None and wl.backfilling(chosen):
        progress = html.Div(
            [
                html.Div(f"Backfilling {wl.label(chosen)}…", className="small"),
                wl.progress_bar(chosen, "backfill-progress"),
            ],
            className="mb-2",
        )
    new_state = None if chosen is None else {"series_id": chosen.series_id, "status": chosen.backfill_status.value}
    # One tick more after the chosen series' backfill ends: on it the browser sees the chart still
    # "Backfilling..." with the series done, and has it drawn (pages/chart.py, SERIES_REDRAW).
    polling = any(wl.backfilling(e) for e in entries) or (state or {}).get("status") == "backfilling"
    return (
        wl.panel(entries, chosen.series_id if chosen else None),
        not polling,
        progress,
        new_state if new_state != state else no_update,
    )


def register_clientside() -> None:
    """The browser's filters of the clicks (assets/41-chart-clicks.js), called by pages/chart.py."""
    dash.clientside_callback(
        ClientsideFunction("tradeblockClicks", "watch"),
        Output(WATCH_CLICK, "data"),
        Input("bar-add", "n_clicks"),
        Input({"type": wl.SELECT, "series": ALL}, "n_clicks"),
        Input({"type": wl.REMOVE, "series": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    dash.clientside_callback(
        ClientsideFunction("tradeblockClicks", "focus"),
        Output("chart-prefs", "data", allow_duplicate=True),
        Input(chart_focus.STORE, "data"),
        prevent_initial_call="initial_duplicate",
    )

"""Callbacks of the conditions on the chart (pages/components/chart_conditions.py): read the
trader's open conditions of the market shown (on a new series and on each live tick, so one saved
in /blocks or through the API appears), list them under the chart, cancel one from there; and
copy what is drawn to the chart's store, which the overlays callback
(pages/components/chart_shapes_callbacks.py) draws with the blocks' lines.

Trader-only (analysts' charts have no section, so none of this is asked for): the conditions read
are the signed-in user's; a cancel id comes from the browser and the engine checks it is theirs.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, ctx, no_update

from engine.conditions import api as conditions
from engine.market import api as market
from pages.components import chart_conditions as cc
from pages.components.block_conditions import condition_cancel_message
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
from web.auth import TRADERS, current_runtime, current_view, require_role

CALLBACKS = Deferred()  # registered by pages/chart.py


def _drawn(user_id: int, view: dict | None) -> dict:
    """The open conditions of the market of the chart's series (none for a series not watched)."""
    runtime = current_runtime()
    try:
        entry = market.watched(runtime, user_id, (view or {}).get("series_id"))
    except market.NotWatchedError:
        return {"series_id": None, "conditions": []}
    views = [
        v for v in conditions.list_conditions(runtime, user_id, True) if cc.on_market(v, entry.exchange, entry.symbol)
    ]
    tick = market.market_ticks(runtime, entry.exchange, entry.symbol).price
    return cc.items(views, tick, entry.series_id, entry.symbol)


# Two callbacks, not one: Dash drops the answer of a callback called again before it answered,
# so a poll must not swallow a cancel's message.
@CALLBACKS.callback(
    Output(cc.ITEMS, "data"),
    Output(cc.LIST, "children"),
    Input("chart-view", "data"),
    Input(cc.POLL, "n_intervals"),
    State(cc.ITEMS, "data"),
)
@require_role(*TRADERS)
def chart_conditions(view: dict | None, _tick: int | None, shown: dict | None) -> tuple[Any, Any]:
    drawn = _drawn(current_view().id, view)
    if drawn == shown:  # a poll that changed nothing redraws nothing
        return no_update, no_update
    return drawn, cc.listing(drawn)


@CALLBACKS.callback(
    Output(cc.MESSAGE, "children"),
    Output(cc.ITEMS, "data", allow_duplicate=True),
    Output(cc.LIST, "children", allow_duplicate=True),
    Input({"type": cc.CANCEL, "id": ALL}, "n_clicks"),
    State("chart-view", "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def cancel_from_chart(_clicks: list | None, view: dict | None) -> tuple[Any, Any, Any]:
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not clicked():
        return no_update, no_update, no_update  # buttons drawn again, not clicked
    user_id = current_view().id
    message = condition_cancel_message(user_id, trigger.get("id"), "py-1 small", "chart-condition-alert")
    drawn = _drawn(user_id, view)
    return message, drawn, cc.listing(drawn)


def register_clientside() -> None:
    """The chart's copy of what the section drew (the section is a trader's only; the copy is in
    every chart, so the overlays callback has its input on an analyst's chart too)."""
    dash.clientside_callback("function (drawn) { return drawn; }", Output(cc.SHAPES, "data"), Input(cc.ITEMS, "data"))

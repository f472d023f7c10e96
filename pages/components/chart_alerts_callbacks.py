"""Callbacks of the chart's price alerts (pages/components/chart_alerts.py): the active alerts of
the market on screen, read on the server for a series the user watches (on each new chart, each
change and each live tick, so a triggered one leaves the chart); setting one from the bar's level
and cancelling one from its badge (traders: analysts have no bar, and the callbacks refuse them).
Registered by pages/chart.py, once per app."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, ctx, html, no_update

from db.enums import AlertState
from engine.alerts import api as alerts
from engine.market import api as market
from pages.components import chart_alerts as ca
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
from web.auth import READERS, TRADERS, current_runtime, current_view, require_role

CALLBACKS = Deferred()


def _series(view: dict | None) -> int | None:
    return (view or {}).get("series_id")


@CALLBACKS.callback(
    Output(ca.STORE, "data"),
    Input("chart-view", "data"),
    Input(ca.VERSION, "data"),
    Input("live-poll", "n_intervals"),
    State(ca.STORE, "data"),
)
@require_role(*READERS)
def load_alerts(view: dict | None, _version: int | None, _tick: int | None, shown: dict | None) -> Any:
    """The active alerts of the chart's market; nothing sent when they are what is drawn."""
    series_id = _series(view)
    if series_id is None:
        return no_update
    runtime, user = current_runtime(), current_view()
    try:
        entry = market.watched(runtime, user.id, series_id)
    except market.NotWatchedError:
        return no_update
    found = alerts.list_alerts(runtime, user.id, AlertState.ACTIVE, entry.exchange, entry.symbol)
    data = {
        "series_id": series_id,
        "alerts": [
            {"id": a.id, "price": float(a.price), "label": a.price_text, "text": a.text, "note": a.note} for a in found
        ],
    }
    return no_update if data == shown else data


@CALLBACKS.callback(Output(ca.LIST, "children"), Input(ca.STORE, "data"))
@require_role(*TRADERS)
def list_alerts(data: dict | None) -> Any:
    return ca.badges(data)


@CALLBACKS.callback(
    Output(ca.VERSION, "data"),
    Output(ca.MESSAGE, "children"),
    Output(ca.PRICE, "value"),
    Output(ca.PRICE, "invalid"),
    Output(ca.NOTE, "value"),
    Input(ca.ADD, "n_clicks"),
    Input({"type": ca.CANCEL, "alert": ALL}, "n_clicks"),
    State(ca.PRICE, "value"),
    State(ca.NOTE, "value"),
    State("chart-view", "data"),
    State(ca.VERSION, "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def alert_actions(
    _add: int, _cancels: list[int], price: str | None, note: str | None, view: dict | None, version: int | None
) -> Any:
    """Set an alert at the bar's level (with its note) on the chart's series, or cancel the one whose
    × was clicked."""
    if not clicked():
        return (no_update,) * 5  # badges re-rendered, not clicked
    runtime, user = current_runtime(), current_view()
    bump = (version or 0) + 1
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and trigger.get("type") == ca.CANCEL:
        try:
            gone = alerts.cancel_alert(runtime, user.id, int(trigger["alert"]))
        except alerts.AlertAccessError:
            return no_update, _said("No such alert of yours.", False), no_update, no_update, no_update
        return bump, _said(f"Alert cancelled: {gone.text}.", True), no_update, no_update, no_update
    fields = {"series_id": _series(view), "price": (price or "").strip(), "note": note}
    try:
        made = alerts.create_alert(runtime, user.id, fields)
    except alerts.AlertRefused as exc:
        return no_update, _said(" ".join(exc.fields.values()), False), no_update, True, no_update
    return bump, _said(f"Alert set: {made.text}.", True), "", False, ""


def _said(text: str, ok: bool) -> html.Span:
    return html.Span(text, id="alert-said", className="text-success" if ok else "text-danger")

"""The desk's price-alert toasts, on every page of a signed-in user: a poll asks the engine for the
user's triggered alerts not shown yet (engine.alerts.api.take_unshown: each is shown once, in
one tab) and adds a toast per alert, kept until closed. Part of the app shell
(pages/components/layout.py), registered per app like the shell's own callbacks."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, Patch, dcc, html, no_update

from engine.alerts import api as alerts
from web.auth import READERS, current_runtime, current_view, require_role

POLL = "alert-toast-poll"
HOST = "alert-toasts"
POLL_EVERY_MS = 4_000


def parts() -> list[Any]:
    """The poll and the corner the toasts stack in."""
    return [
        dcc.Interval(id=POLL, interval=POLL_EVERY_MS),
        html.Div(id=HOST, className="position-fixed top-0 end-0 p-3 mt-5", style={"zIndex": 1090}),
    ]


def toast(alert: alerts.AlertView, tz: str) -> dbc.Toast:
    at = alert.triggered_at
    moment = f" at {at.astimezone(ZoneInfo(tz)):%H:%M:%S} ({tz})" if at else ""
    body = [html.Div(f"{alert.exchange} {alert.symbol} was at {alert.seen_text}{moment}.")]
    if alert.note:
        body.append(html.Div(alert.note, className="text-body-secondary"))
    return dbc.Toast(
        body,
        header=f"Price alert: {alert.text}",
        id={"type": "alert-toast", "alert": alert.id},
        dismissable=True,
        is_open=True,
        icon="warning",
        class_name="alert-toast mb-2",
    )


def register(app: Dash) -> None:
    @app.callback(Output(HOST, "children"), Input(POLL, "n_intervals"), prevent_initial_call=True)
    @require_role(*READERS)
    def show_alert_toasts(_tick: int | None) -> Any:
        user = current_view()
        found = alerts.take_unshown(current_runtime(), user.id)
        if not found:
            return no_update
        patch = Patch()
        for alert in found:
            patch.append(toast(alert, user.timezone))
        return patch

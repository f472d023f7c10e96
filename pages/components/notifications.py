"""The settings page's "Notifications" card (every signed-in user): one apprise URL (Telegram,
Discord, e-mail, any webhook) that the engine sends fills, stops, finished blocks and refused orders
to. The URL is checked by apprise at the field, encrypted by the engine (engine.notify.api) and never
sent back: the card shows its scheme only. "Send a test" sends at once and shows the answer. The
user always comes from the server session. Registered by pages/settings.py (`CALLBACKS.register()`).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from engine.notify import api as notify
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
from web.auth import READERS, current_runtime, current_view, require_role

CALLBACKS = Deferred()
EXAMPLES = "tgram://bottoken/chatid, discord://webhook_id/webhook_token, mailto://user:pass@gmail.com, json://host/path"


def section() -> dbc.Card:
    """The card: the URL field with its buttons, what is set now, the last action's answer."""
    field = dbc.Col(
        [
            dbc.Label("Notification URL", html_for="notify-url", class_name="small mb-1"),
            dbc.Input(id="notify-url", type="password", placeholder="tgram://bottoken/chatid", autocomplete="off"),
            dbc.FormFeedback(id="notify-url-feedback", type="invalid"),
        ],
        md=6,
    )
    buttons = dbc.Col(
        dbc.ButtonGroup(
            [
                dbc.Button("Save", id="notify-save", color="primary", n_clicks=0),
                dbc.Button("Send a test", id="notify-test", color="outline-secondary", n_clicks=0),
                dbc.Button("Remove", id="notify-remove", color="outline-danger", n_clicks=0),
            ]
        ),
        md=6,
        class_name="align-self-end",
    )
    intro = html.Div(
        ["Entry, target and stop fills, finished blocks and refused orders are sent to one ",
         html.A("apprise URL", href="https://github.com/caronc/apprise/wiki", target="_blank"),
         f": {EXAMPLES}. It is stored encrypted and never shown again."],
        className="small text-body-secondary mb-2",
    )  # fmt: skip
    body = [
        html.H2("Notifications", className="h6"),
        intro,
        dbc.Row([field, buttons], class_name="g-2 mb-2"),
        dcc.Store(id="notify-version", data=0),
        html.Div(id="notify-status", className="small mb-2"),
        html.Div(id="notify-message"),
    ]
    return dbc.Card(dbc.CardBody(body), class_name="mb-3", id="notify-section")


def status(channel: notify.ChannelView | None, tz: str) -> html.Div:
    if channel is None:
        return html.Div("No notification URL: nothing is sent.", id="notify-current", className="text-body-secondary")
    since = channel.updated_at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    return html.Div(["Sending to ", html.Code(f"{channel.scheme}://…"), f" (set {since})."], id="notify-current")


def _message(text: str, ok: bool) -> dbc.Alert:
    return dbc.Alert(text, color="success" if ok else "danger", class_name="py-2 mb-0", id="notify-alert")


@CALLBACKS.callback(Output("notify-status", "children"), Input("notify-version", "data"))
@require_role(*READERS)
def notify_status(_version: int | None) -> Any:
    user = current_view()
    return status(notify.channel_of(current_runtime(), user.id), user.timezone)


@CALLBACKS.callback(
    Output("notify-message", "children"),
    Output("notify-url", "invalid"),
    Output("notify-url-feedback", "children"),
    Output("notify-version", "data"),
    Output("notify-url", "value"),
    Input("notify-save", "n_clicks"),
    Input("notify-test", "n_clicks"),
    Input("notify-remove", "n_clicks"),
    State("notify-url", "value"),
    State("notify-version", "data"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def notify_actions(_save: int, _test: int, _remove: int, url: str | None, version: int | None) -> tuple[Any, ...]:
    if not clicked():
        return no_update, no_update, no_update, no_update, no_update
    runtime, user, bump = current_runtime(), current_view(), (version or 0) + 1
    if ctx.triggered_id == "notify-save":
        try:
            channel = notify.save_url(runtime, user.id, url)
        except notify.NotifyError as exc:
            return None, True, str(exc), no_update, no_update
        return _message(f"Saved: notifications go to your {channel.scheme} URL.", True), False, "", bump, ""
    if ctx.triggered_id == "notify-test":
        result = notify.send_test(runtime, user.id)
        text = "Test sent: check that it arrived." if result.ok else f"The test was not delivered: {result.detail}"
        return _message(text, result.ok), False, "", no_update, no_update
    removed = notify.remove_url(runtime, user.id)
    text = "Notification URL removed: nothing is sent any more." if removed else "There was no notification URL."
    return _message(text, removed), False, "", bump, no_update

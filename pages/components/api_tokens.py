"""The settings page's "API tokens" card (every signed-in user): make a named token, read or trade
scope (trade only for roles that trade), shown once in full; the table lists each token by its
prefix with when it was made and last used, and revokes it. The engine (engine.users.api) keeps
only a hash; the user always comes from the server session, and a token id from the browser is
revoked only when it is the user's own. Registered by pages/settings.py (`CALLBACKS.register()`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from engine.users import api as users
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
from web.auth import READERS, current_runtime, current_view, require_role

CALLBACKS = Deferred()
REVOKE_ID = "token-revoke"
SCOPE_LABELS = {"read": "read: look only", "trade": "trade: also place and cancel blocks"}


def _when(moment: datetime | None, tz: str) -> str:
    return "never" if moment is None else moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _intro() -> html.Div:
    docs = html.A("API docs", href="/api/docs", target="_blank")
    parts = ["For scripts and bots: send ", html.Code("Authorization: Bearer <token>"), " to "]
    parts += [html.Code("/api/v1"), " (", docs, ")."]
    return html.Div(parts, className="small text-body-secondary mb-2")


def section(can_trade: bool) -> dbc.Card:
    """The card: the form, the once-shown new token, the table."""
    scopes = [s for s in users.SCOPES if can_trade or s == "read"]
    form = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Name", html_for="token-name", class_name="small mb-1"),
                    dbc.Input(id="token-name", placeholder="e.g. TradingView bot", maxLength=64),
                ],
                md=5,
            ),
            dbc.Col(
                [
                    dbc.Label("Scope", html_for="token-scope", class_name="small mb-1"),
                    dbc.Select(
                        id="token-scope", options=[{"label": SCOPE_LABELS[s], "value": s} for s in scopes], value="read"
                    ),
                ],
                md=4,
            ),
            dbc.Col(dbc.Button("Create token", id="token-create", color="primary", n_clicks=0), md=3),
        ],
        class_name="g-2 align-items-end mb-2",
    )
    body = [
        html.H2("API tokens", className="h6"),
        _intro(),
        form,
        dcc.Store(id="tokens-version", data=0),
        html.Div(id="tokens-message", className="mb-2"),
        html.Div(id="tokens-table"),
    ]
    return dbc.Card(dbc.CardBody(body), class_name="mb-3", id="tokens-section")


def _row(token: users.TokenView, tz: str) -> html.Tr:
    revoked = token.revoked_at is not None
    status: Any = dbc.Badge("revoked", color="secondary") if revoked else dbc.Badge(token.scope, color="info")
    action: Any = (
        ""
        if revoked
        else dbc.Button(
            "Revoke", id={"type": REVOKE_ID, "token": token.id}, color="outline-danger", size="sm", n_clicks=0
        )
    )
    cells = [token.name, html.Code(f"tb_{token.prefix}_…"), status, _when(token.created_at, tz)]
    cells += [_when(token.last_used_at, tz), action]
    return html.Tr([html.Td(c) for c in cells], id=f"token-row-{token.id}")


def table(tokens: list[users.TokenView], tz: str) -> Any:
    if not tokens:
        return html.Div("No API tokens yet.", className="small text-body-secondary", id="tokens")
    header = html.Thead(html.Tr([html.Th(h) for h in ("Name", "Token", "Scope", "Created", "Last used", "")]))
    body = html.Tbody([_row(t, tz) for t in tokens])
    return dbc.Table([header, body], size="sm", hover=True, class_name="align-middle mb-0", id="tokens")


def _message(text: Any, ok: bool) -> dbc.Alert:
    return dbc.Alert(text, color="success" if ok else "danger", class_name="py-2 mb-0", id="tokens-alert")


def created_message(made: users.NewToken) -> dbc.Alert:
    """The new token in full, the one time it is shown."""
    text = [
        html.Div(f"Token {made.view.name} ({made.view.scope}) created. Copy it now: it is not shown again."),
        html.Code(made.token, id="token-new", className="user-select-all d-block mt-1"),
    ]
    return _message(text, True)


@CALLBACKS.callback(Output("tokens-table", "children"), Input("tokens-version", "data"))
@require_role(*READERS)
def tokens_table(_version: int | None) -> Any:
    user = current_view()
    return table(users.list_tokens(current_runtime(), user.id), user.timezone)


@CALLBACKS.callback(
    Output("tokens-message", "children"),
    Output("tokens-version", "data"),
    Output("token-name", "value"),
    Input("token-create", "n_clicks"),
    Input({"type": REVOKE_ID, "token": ALL}, "n_clicks"),
    State("token-name", "value"),
    State("token-scope", "value"),
    State("tokens-version", "data"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def token_actions(
    _create: int | None, _revokes: list[int], name: str | None, scope: str | None, version: int | None
) -> tuple[Any, Any, Any]:
    if not clicked():
        return no_update, no_update, no_update
    runtime, user, bump = current_runtime(), current_view(), (version or 0) + 1
    trigger = ctx.triggered_id
    if trigger == "token-create":
        try:
            made = users.create_token(runtime, user.id, name, scope)
        except users.UserError as exc:
            return _message(str(exc), False), no_update, no_update
        return created_message(made), bump, ""
    token_id = trigger.get("token") if isinstance(trigger, dict) else None
    if isinstance(token_id, int) and users.revoke_token(runtime, user.id, token_id):
        return _message("Token revoked: it opens nothing from now on.", True), bump, no_update
    return _message("No such token of yours.", False), bump, no_update

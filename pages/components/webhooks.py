"""The settings page's "TradingView webhook" card (traders and admins): make the webhook or rotate
its secret (the URL and the secret shown once), edit the template that turns an alert into a
trade block (each wrong field gets its message beside it, from engine.webhooks.api), and the log
of the last 50 calls (accepted -> the block, refused -> why). The user always comes from the
server session. Registered by pages/settings.py (`CALLBACKS.register()`).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from flask import request

from engine.users import api as users
from engine.webhooks import api as webhooks
from pages.components.deferred import Deferred
from web.auth import TRADERS, current_runtime, current_view, require_role

CALLBACKS = Deferred()
FIELD, ERROR = "wh-field", "wh-error"
REFRESH_MS = 10_000
SIZE_MODES = {"base": "base amount", "quote": "quote amount", "equity_pct": "% of equity", "risk_pct": "% at risk"}
PRICE_MODES = {"price": "prices from the alert", "distance": "distances from the close", "atr": "ATR multiples"}
SIDES = {"alert": "from the alert's action", "long": "long", "short": "short"}


def _options(choices: Any) -> list[dict[str, str]]:
    items = choices.items() if isinstance(choices, dict) else ((c, c) for c in choices)
    return [{"label": label, "value": value} for value, label in items]


def _control(name: str, value: Any, choices: Any = None, placeholder: str = "") -> Any:
    ident = {"type": FIELD, "name": name}
    if choices is not None:
        return dbc.Select(id=ident, options=_options(choices), value=value)
    return dbc.Input(id=ident, value=value, placeholder=placeholder, debounce=True)


def _field(label: str, name: str, value: Any, width: int, choices: Any = None, placeholder: str = "") -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, class_name="small mb-1"),
            _control(name, value, choices, placeholder),
            dbc.FormFeedback(id={"type": ERROR, "name": name}, type="invalid"),
        ],
        md=width,
    )


def _values(t: webhooks.Template | None, account: int | None) -> dict[str, Any]:
    if t is None:
        t = webhooks.Template(account_id=account or 0, stop="", targets=(), size_value="1")
    return {
        **{k: getattr(t, k) for k in ("side", "entry_type", "price_mode", "entry", "stop", "atr_timeframe")},
        **{k: getattr(t, k) for k in ("size_mode", "size_value", "entry_timeout_min", "max_duration_min")},
        "account_id": str(t.account_id or account or ""),
        "targets": ", ".join(t.targets),
        "shares": ", ".join(t.shares),
        "atr_period": str(t.atr_period),
        "max_age_s": str(t.max_age_s),
        "rate_per_min": str(t.rate_per_min),
        "allowed_ips": " ".join(t.allowed_ips),
    }


def _form(accounts: list[users.AccountView], v: dict[str, Any]) -> list[Any]:
    named = {str(a.id): f"{a.name} ({a.exchange})" for a in accounts}
    rows = [
        [
            _field("Account", "account_id", v["account_id"], 4, named),
            _field("Side", "side", v["side"], 4, SIDES),
            _field("Entry", "entry_type", v["entry_type"], 4, webhooks.ENTRY_TYPES),
        ],
        [
            _field("Prices as", "price_mode", v["price_mode"], 4, PRICE_MODES),
            _field("ATR timeframe", "atr_timeframe", v["atr_timeframe"], 4, webhooks.TIMEFRAMES),
            _field("ATR candles", "atr_period", v["atr_period"], 4),
        ],
        [
            _field("Entry offset (limit/stop)", "entry", v["entry"], 3),
            _field("Stop", "stop", v["stop"], 3, placeholder="e.g. 2"),
            _field("Targets", "targets", v["targets"], 3, placeholder="e.g. 2, 4"),
            _field("Shares %", "shares", v["shares"], 3, placeholder="e.g. 50, 50"),
        ],
        [
            _field("Size as", "size_mode", v["size_mode"], 3, SIZE_MODES),
            _field("Size", "size_value", v["size_value"], 3),
            _field("Entry timeout (min)", "entry_timeout_min", v["entry_timeout_min"], 3),
            _field("Max duration (min)", "max_duration_min", v["max_duration_min"], 3),
        ],
        [
            _field("Time window (s)", "max_age_s", v["max_age_s"], 3),
            _field("Calls a minute", "rate_per_min", v["rate_per_min"], 3),
            _field("Allowed addresses", "allowed_ips", v["allowed_ips"], 6, placeholder="any; or: tradingview"),
        ],
    ]
    return [dbc.Row(r, class_name="g-2 mb-2") for r in rows]


def section() -> dbc.Card:
    """The card, filled with the user's saved template (or the defaults)."""
    runtime, user = current_runtime(), current_view()
    hook = webhooks.get_hook(runtime, user.id)
    accounts = users.list_accounts(runtime, user.id)
    values = _values(hook.template if hook else None, accounts[0].id if accounts else None)
    intro = 'TradingView alerts place trade blocks: see the README\'s "TradingView alerts" for the message to paste.'
    body = [
        html.H2("TradingView webhook", className="h6"),
        html.Div(intro, className="small text-body-secondary mb-2"),
        dbc.Row(
            [
                dbc.Col(html.Div(id="webhook-url", className="small"), md=9),
                dbc.Col(
                    dbc.Button(
                        "Make webhook / rotate secret", id="webhook-rotate", color="primary", n_clicks=0, size="sm"
                    ),
                    md=3,
                ),
            ],
            class_name="g-2 align-items-center mb-2",
        ),
        html.Div(id="webhook-secret", className="mb-2"),
        *_form(accounts, values),
        dbc.Button("Save template", id="webhook-save", color="primary", n_clicks=0, class_name="mb-2"),
        html.Div(id="webhook-save-message", className="mb-2"),
        html.H3("Last calls", className="h6 mt-2"),
        dcc.Store(id="webhook-version", data=0),
        dcc.Interval(id="webhook-tick", interval=REFRESH_MS),
        html.Div(id="webhook-log"),
    ]
    return dbc.Card(dbc.CardBody(body), class_name="mb-3", id="webhook-section")


def hook_url(hook_id: str) -> str:
    return f"{request.host_url.rstrip('/')}/hooks/tv/{hook_id}"


def log_table(calls: list[webhooks.CallView], tz: str) -> Any:
    if not calls:
        return html.Div("No calls yet.", className="small text-body-secondary", id="webhook-calls")
    zone = ZoneInfo(tz)
    rows = []
    for c in calls:
        result: Any = (
            dbc.Badge(f"block {c.block_id}", color="success") if c.accepted else dbc.Badge("refused", color="danger")
        )
        when = c.received_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(html.Tr([html.Td(when), html.Td(result), html.Td(c.reason), html.Td(c.remote_ip)]))
    header = html.Thead(html.Tr([html.Th(h) for h in ("Received", "Result", "Details", "From")]))
    return dbc.Table([header, html.Tbody(rows)], size="sm", class_name="align-middle mb-0 small", id="webhook-calls")


@CALLBACKS.callback(
    Output("webhook-url", "children"),
    Output("webhook-log", "children"),
    Input("webhook-version", "data"),
    Input("webhook-tick", "n_intervals"),
)
@require_role(*TRADERS)
def webhook_view(_version: int | None, _tick: int | None) -> tuple[Any, Any]:
    runtime, user = current_runtime(), current_view()
    hook = webhooks.get_hook(runtime, user.id)
    url: Any = (
        "No webhook yet." if hook is None else ["URL: ", html.Code(hook_url(hook.hook_id), id="webhook-url-text")]
    )
    return url, log_table(webhooks.recent_calls(runtime, user.id), user.timezone)


@CALLBACKS.callback(
    Output("webhook-secret", "children"),
    Output("webhook-version", "data"),
    Input("webhook-rotate", "n_clicks"),
    State("webhook-version", "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def webhook_rotate(clicks: int | None, version: int | None) -> tuple[Any, Any]:
    if not clicks:
        return no_update, no_update
    made = webhooks.rotate_secret(current_runtime(), current_view().id)
    shown = [
        html.Div("Copy the secret now: it is not shown again. Any older secret stopped working."),
        html.Div(["URL: ", html.Code(hook_url(made.hook_id), className="user-select-all")]),
        html.Div(["Secret: ", html.Code(made.secret, id="webhook-new-secret", className="user-select-all")]),
    ]
    return dbc.Alert(shown, color="success", class_name="py-2 mb-0"), (version or 0) + 1


@CALLBACKS.callback(
    Output("webhook-save-message", "children"),
    Output({"type": FIELD, "name": ALL}, "invalid"),
    Output({"type": ERROR, "name": ALL}, "children"),
    Input("webhook-save", "n_clicks"),
    State({"type": FIELD, "name": ALL}, "value"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def webhook_save(clicks: int | None, values: list[Any]) -> tuple[Any, Any, Any]:
    names = [item["id"]["name"] for item in ctx.states_list[0]]
    if not clicks:
        return no_update, [no_update] * len(names), [no_update] * len(names)
    raw = dict(zip(names, values, strict=True))
    saved = webhooks.save_template(current_runtime(), current_view().id, raw)
    errors = saved if isinstance(saved, dict) else {}
    invalid = [name in errors for name in names]
    messages = [errors.get(name, "") for name in names]
    if not errors:
        return dbc.Alert("Template saved.", color="success", class_name="py-2 mb-0"), invalid, messages
    extra = [m for n, m in errors.items() if n not in names]  # e.g. "Make the webhook first."
    text = " ".join(extra) or "Not saved: see the message at each field."
    return dbc.Alert(text, color="danger", class_name="py-2 mb-0", id="webhook-save-error"), invalid, messages

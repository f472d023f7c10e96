"""Settings (every signed-in user): exchange accounts (traders and admins), timezone and password,
API tokens (pages/components/api_tokens.py), notifications (pages/components/notifications.py), the
TradingView webhook (pages/components/webhooks.py).

Accounts: open a paper account, add a live one (its API credentials are encrypted by the engine
and never sent back: the table shows at most the key's last four characters), test a live
connection, switch live trading on (after a confirmation) or off, remove or retire an account.
Analysts see only the timezone and password cards, and the account callbacks refuse them (403).
The user always comes from the server session; account ids from the browser are checked by the
engine against that user.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from db.enums import AccountKind
from engine.users import api as users
from pages.components import api_tokens, notifications, webhooks
from pages.components.triggers import clicked
from web.auth import READERS, TRADERS, current_runtime, current_view, has_role, require_role
from web.password_change import change_own_password

dash.register_page(
    __name__, path="/settings", title="Settings · Tradeblock", name="Settings", roles=READERS, order=5, nav=True
)

LIVE_ID = "account-live"
TEST_ID = "account-test"
REMOVE_ID = "account-remove"
PASSWORD_FIELDS = ("current", "new", "repeat")
api_tokens.CALLBACKS.register()
notifications.CALLBACKS.register()
webhooks.CALLBACKS.register()


def _field(label: str, control: Any, width: int = 12) -> dbc.Col:
    return dbc.Col([dbc.Label(label, class_name="small mb-1"), control], md=width)


def _paper_form(exchanges: tuple[str, ...]) -> dbc.Card:
    body = [
        html.H2("Open a paper account", className="h6"),
        dbc.Row(
            [
                _field("Name", dbc.Input(id="paper-name", placeholder="e.g. Paper BTC", maxLength=users.NAME_MAX), 6),
                _field(
                    "Prices from",
                    dbc.Select(id="paper-exchange", options=list(exchanges), value=exchanges[0] if exchanges else None),
                    6,
                ),
                _field("Quote currency", dbc.Input(id="paper-quote", value="USDT", maxLength=16), 4),
                _field("Starting balance", dbc.Input(id="paper-balance", value="10000", inputMode="decimal"), 4),
                dbc.Col(
                    dbc.Switch(id="paper-margin", label="Margin (shorts)", value=False, class_name="mb-2"),
                    md=4,
                    class_name="align-self-end",
                ),
            ],
            class_name="g-2 mb-2",
        ),
        dbc.Button("Open paper account", id="paper-open", color="primary", n_clicks=0),
    ]
    return dbc.Card(dbc.CardBody(body), class_name="h-100")


def _live_form() -> dbc.Card:
    secret = {"type": "password", "autoComplete": "off"}
    body = [
        html.H2("Add a live account", className="h6"),
        dbc.Row(
            [
                _field("Name", dbc.Input(id="live-name", placeholder="e.g. Binance main", maxLength=users.NAME_MAX), 6),
                _field(
                    "Exchange (ccxt id)",
                    dcc.Dropdown(
                        id="live-exchange", options=list(users.live_exchanges()), placeholder="type to search…"
                    ),
                    6,
                ),
                _field("API key", dbc.Input(id="live-key", autoComplete="off"), 4),
                _field("API secret", dbc.Input(id="live-secret", **secret), 4),
                _field("Passphrase (if any)", dbc.Input(id="live-passphrase", **secret), 4),
            ],
            class_name="g-2 mb-2",
        ),
        dbc.Button("Add live account", id="live-add", color="primary", n_clicks=0),
        html.Div(
            "Stored encrypted, never shown again. Live trading stays off until you switch it on.",
            className="small text-body-secondary mt-2",
        ),
    ]
    return dbc.Card(dbc.CardBody(body), class_name="h-100")


def _confirm_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Switch on live trading?")),
            dbc.ModalBody(id="live-confirm-text"),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id="live-confirm-no", color="secondary", n_clicks=0),
                    dbc.Button("Switch on", id="live-confirm-yes", color="danger", n_clicks=0),
                ]
            ),
        ],
        id="live-confirm-modal",
        is_open=False,
    )


def _accounts_section() -> html.Div:
    runtime = current_runtime()
    return html.Div(
        [
            html.H2("Exchange accounts", className="h5"),
            dcc.Store(id="accounts-version", data=0),
            dcc.Store(id="live-pending"),
            _confirm_modal(),
            dbc.Row(
                [dbc.Col(_paper_form(users.paper_exchanges(runtime)), lg=6), dbc.Col(_live_form(), lg=6)],
                class_name="g-3 mb-3",
            ),
            dcc.Loading(html.Div(id="accounts-message", className="mb-2"), type="dot"),
            html.Div(id="accounts-table"),
        ],
        className="mb-4",
        id="accounts-section",
    )


def _timezone_card(current: str) -> dbc.Card:
    body = [
        html.H2("Timezone", className="h6"),
        html.Div("Days of the P&L calendar start at midnight here.", className="small text-body-secondary mb-2"),
        dcc.Dropdown(id="tz-select", options=list(users.timezones()), value=current, clearable=False),
        dbc.Button("Save timezone", id="tz-save", color="primary", n_clicks=0, class_name="mt-2"),
        html.Div(id="tz-message", className="mt-2"),
    ]
    return dbc.Card(dbc.CardBody(body), class_name="h-100")


def _password_input(field: str, label: str, autocomplete: str) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=f"pw-{field}", class_name="small mb-1"),
            dbc.Input(id=f"pw-{field}", type="password", autoComplete=autocomplete),
            dbc.FormFeedback(id=f"pw-{field}-feedback", type="invalid"),
        ],
        className="mb-2",
    )


def _password_card() -> dbc.Card:
    body = [
        html.H2("Password", className="h6"),
        _password_input("current", "Current password", "current-password"),
        _password_input("new", f"New password ({users.MIN_PASSWORD}+ characters)", "new-password"),
        _password_input("repeat", "New password again", "new-password"),
        dbc.Button("Change password", id="pw-save", color="primary", n_clicks=0),
        html.Div(id="pw-message", className="mt-2"),
    ]
    return dbc.Card(dbc.CardBody(body), class_name="h-100")


def layout(**_query: Any) -> html.Div:
    user = current_view()
    parts: list[Any] = [
        html.H1("Settings", className="h4 mb-1"),
        html.Div(f"Signed in as {user.username} ({user.role.value})", className="small text-body-secondary mb-3"),
    ]
    if has_role(*TRADERS):
        parts.append(_accounts_section())
    parts.append(
        dbc.Row(
            [dbc.Col(_timezone_card(user.timezone), lg=5), dbc.Col(_password_card(), lg=5)],
            class_name="g-3",
            id="personal-section",
        )
    )
    parts.append(html.Div(api_tokens.section(has_role(*TRADERS)), className="mt-3"))
    parts.append(notifications.section())
    if has_role(*TRADERS):
        parts.append(webhooks.section())
    return html.Div(parts, id="settings-page")


# --- the accounts table ---


def _row(account: users.AccountView) -> html.Tr:
    live = account.kind is AccountKind.LIVE
    name: list[Any] = [account.name]
    if account.disabled:
        name.append(dbc.Badge("disabled", color="secondary", className="ms-2"))
    kind = dbc.Badge(account.kind.value, color="warning" if live else "info", text_color="dark")
    details = account.credentials if live else account.details
    if live:
        switch: Any = dbc.Switch(
            id={"type": LIVE_ID, "account": account.id},
            value=account.live_enabled,
            label="on" if account.live_enabled else "off",
            disabled=account.disabled,
            class_name="mb-0",
        )
    else:
        switch = html.Span("simulated", className="small text-body-secondary")
    actions: list[Any] = []
    if live:
        actions.append(
            dbc.Button(
                "Test connection",
                id={"type": TEST_ID, "account": account.id},
                color="outline-secondary",
                size="sm",
                n_clicks=0,
                class_name="me-2",
                disabled=account.disabled,
            )
        )
    if not account.disabled:
        actions.append(
            dbc.Button(
                "Remove",
                id={"type": REMOVE_ID, "account": account.id},
                color="outline-danger",
                size="sm",
                n_clicks=0,
                disabled=account.live_blocks > 0,
                title="close or cancel its blocks first" if account.live_blocks else "",
            )
        )
    cells = [html.Td(name), html.Td(kind), html.Td(account.exchange), html.Td(details)]
    cells += [html.Td(switch), html.Td(actions, className="text-nowrap")]
    return html.Tr(cells, id=f"account-row-{account.id}")


@callback(Output("accounts-table", "children"), Input("accounts-version", "data"))
@require_role(*TRADERS)
def accounts_table(_version: int | None) -> Any:
    accounts = users.list_accounts(current_runtime(), current_view().id)
    if not accounts:
        return html.Div("No exchange accounts yet.", className="text-body-secondary", id="accounts")
    header = html.Thead(html.Tr([html.Th(h) for h in ("Account", "Type", "Exchange", "Details", "Live trading", "")]))
    body = html.Tbody([_row(a) for a in accounts])
    return dbc.Table([header, body], hover=True, size="sm", class_name="align-middle", id="accounts")


def _message(text: str, ok: bool) -> dbc.Alert:
    return dbc.Alert(text, color="success" if ok else "danger", class_name="py-2 mb-0", id="accounts-alert")


@callback(
    Output("accounts-message", "children"),
    Output("accounts-version", "data"),
    Output("paper-name", "value"),
    Output("live-name", "value"),
    Output("live-key", "value"),
    Output("live-secret", "value"),
    Output("live-passphrase", "value"),
    Input("paper-open", "n_clicks"),
    Input("live-add", "n_clicks"),
    State("paper-name", "value"),
    State("paper-exchange", "value"),
    State("paper-quote", "value"),
    State("paper-balance", "value"),
    State("paper-margin", "value"),
    State("live-name", "value"),
    State("live-exchange", "value"),
    State("live-key", "value"),
    State("live-secret", "value"),
    State("live-passphrase", "value"),
    State("accounts-version", "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def account_forms(
    _open: int | None,
    _add: int | None,
    paper_name: str | None,
    paper_exchange: str | None,
    quote: str | None,
    balance: str | None,
    margin: bool | None,
    live_name: str | None,
    live_exchange: str | None,
    api_key: str | None,
    secret: str | None,
    passphrase: str | None,
    version: int | None,
) -> tuple[Any, ...]:
    keep = (no_update,) * 7
    if not clicked():
        return keep
    runtime, user, bump = current_runtime(), current_view(), (version or 0) + 1
    try:
        if ctx.triggered_id == "paper-open":
            made = users.open_paper(runtime, user.id, paper_name, paper_exchange, quote, balance, bool(margin))
            text = f"Opened paper account {made.name} ({made.details})."
            return _message(text, True), bump, "", no_update, no_update, no_update, no_update
        if ctx.triggered_id == "live-add":
            made = users.add_live(runtime, user.id, live_name, live_exchange, api_key, secret, passphrase)
            text = f"Added live account {made.name} on {made.exchange}; live trading is off."
            # The credentials leave the form at once: the browser keeps no copy.
            return _message(text, True), bump, no_update, "", "", "", ""
    except users.SettingsError as exc:
        return _message(str(exc), False), *keep[1:]
    return keep


@callback(
    Output("accounts-message", "children", allow_duplicate=True),
    Output("accounts-version", "data", allow_duplicate=True),
    Output("live-confirm-modal", "is_open"),
    Output("live-confirm-text", "children"),
    Output("live-pending", "data"),
    Input({"type": TEST_ID, "account": ALL}, "n_clicks"),
    Input({"type": REMOVE_ID, "account": ALL}, "n_clicks"),
    Input({"type": LIVE_ID, "account": ALL}, "value"),
    Input("live-confirm-yes", "n_clicks"),
    Input("live-confirm-no", "n_clicks"),
    State("live-pending", "data"),
    State("accounts-version", "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def account_rows(
    _tests: list[int],
    _removes: list[int],
    _switches: list[bool],
    _yes: int | None,
    _no: int | None,
    pending: int | None,
    version: int | None,
) -> tuple[Any, ...]:
    keep = (no_update,) * 5
    trigger = ctx.triggered_id
    value = ctx.triggered[0]["value"] if ctx.triggered else None
    runtime, user, bump = current_runtime(), current_view(), (version or 0) + 1
    closed = (False, no_update, None)
    try:
        if trigger == "live-confirm-no" and value:
            return no_update, bump, *closed  # redraw: the switch goes back off
        if trigger == "live-confirm-yes" and value and pending is not None:
            account = users.set_live_enabled(runtime, user.id, int(pending), True)
            return _message(f"Live trading is on for {account.name}.", True), bump, *closed
        account_id = trigger.get("account") if isinstance(trigger, dict) else None
        if not isinstance(account_id, int):
            return keep
        if trigger.get("type") == TEST_ID and value:
            result = users.check_connection(runtime, user.id, account_id)
            return _message(result.message, result.ok), *keep[1:]
        if trigger.get("type") == REMOVE_ID and value:
            name = _account_name(account_id)
            outcome = users.remove_account(runtime, user.id, account_id)
            text = f"Deleted {name}." if outcome == "deleted" else f"Disabled {name}: its blocks' history is kept."
            return _message(text, True), bump, *keep[2:]
        if trigger.get("type") == LIVE_ID:
            current = next((a for a in users.list_accounts(runtime, user.id) if a.id == account_id), None)
            if current is None or bool(value) == current.live_enabled:
                return keep  # the table was redrawn, nothing was switched
            if not value:  # switching off needs no confirmation: it only ever makes things safer
                users.set_live_enabled(runtime, user.id, account_id, False)
                return _message(f"Live trading is off for {current.name}.", True), bump, *keep[2:]
            text = (
                f"From now on, blocks on {current.name} ({current.exchange}) place real orders with real "
                "money. You can switch it off here at any time."
            )
            return no_update, no_update, True, text, account_id
    except (users.SettingsError, users.AccountAccessError) as exc:
        return _message(str(exc), False), bump, *closed
    return keep


def _account_name(account_id: int) -> str:
    found = [a for a in users.list_accounts(current_runtime(), current_view().id) if a.id == account_id]
    return found[0].name if found else f"account {account_id}"


# --- timezone and password (everyone) ---


@callback(
    Output("tz-message", "children"),
    Input("tz-save", "n_clicks"),
    State("tz-select", "value"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def save_timezone(clicks: int | None, timezone: str | None) -> Any:
    if not clicks:
        return no_update
    try:
        saved = users.set_timezone(current_runtime(), current_view().id, timezone)
    except users.SettingsError as exc:
        return html.Span(str(exc), className="text-danger small", id="tz-alert")
    return html.Span(f"Timezone set to {saved}.", className="text-success small", id="tz-alert")


@callback(
    *(Output(f"pw-{f}", "invalid") for f in PASSWORD_FIELDS),
    *(Output(f"pw-{f}-feedback", "children") for f in PASSWORD_FIELDS),
    Output("pw-message", "children"),
    *(Output(f"pw-{f}", "value") for f in PASSWORD_FIELDS),
    Input("pw-save", "n_clicks"),
    *(State(f"pw-{f}", "value") for f in PASSWORD_FIELDS),
    prevent_initial_call=True,
)
@require_role(*READERS)
def change_password(clicks: int | None, current: str | None, new: str | None, repeat: str | None) -> tuple:
    if not clicks:
        return (no_update,) * 10
    try:
        change_own_password(current, new, repeat)  # limited, and ends the user's other sessions
    except users.PasswordError as exc:
        invalid = tuple(f == exc.field for f in PASSWORD_FIELDS)
        feedback = tuple(str(exc) if f == exc.field else "" for f in PASSWORD_FIELDS)
        return *invalid, *feedback, "", no_update, no_update, no_update
    done = html.Span("Password changed.", className="text-success small", id="pw-done")
    return False, False, False, "", "", "", done, "", "", ""

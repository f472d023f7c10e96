"""The form that saves a conditional block (engine.conditions), in a dialog opened from /blocks:
the condition (a candle closing above/below a price on a timeframe, the price crossing a level,
or a time, UTC), the market of the user's watchlist it watches and trades, and the block to
place (side, entry, stop, one target, size). The engine checks it exactly as a placed block
would be checked; each problem is shown under its field and nothing is saved. `then` steps are
saved through the REST API (POST /api/v1/conditions)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update

from engine.conditions import api as conditions
from engine.market import api as market
from engine.users import api as users
from pages.components.block_conditions import MESSAGE as WAITING_MESSAGE
from pages.components.block_conditions import TABLE, conditions_table
from pages.components.block_form import ENTRY_TYPES, SIDES, SIZE_MODES
from pages.components.deferred import Deferred
from web.auth import TRADERS, current_runtime, current_view, require_role

CALLBACKS = Deferred()  # registered by pages/blocks.py

MODAL, OPEN, CLOSE, SAVE, MESSAGE = "cf-modal", "cf-open", "cf-close", "cf-save", "cf-message"
KINDS = [
    {"label": "closes above", "value": "close_above"},
    {"label": "closes below", "value": "close_below"},
    {"label": "crosses", "value": "crosses"},
    {"label": "at time (UTC)", "value": "at_time"},
]
TIMEFRAMES = ["1m", "5m", "15m", "30m", "1h", "2h", "4h", "12h", "1d", "1w"]
# The shown fields: (input id, label, the engine's field name its messages come under).
FIELDS = [
    ("cf-kind", "When", "kind"),
    ("cf-series", "Market", "series_id"),
    ("cf-price", "Price", "price"),
    ("cf-timeframe", "Timeframe", "timeframe"),
    ("cf-at", "Time (UTC)", "at"),
    ("cf-account", "Account", "account"),
    ("cf-side", "Side", "block.side"),
    ("cf-entry-type", "Entry", "block.entry_type"),
    ("cf-entry-price", "Entry price", "block.entry_price"),
    ("cf-stop", "Stop", "block.stop_price"),
    ("cf-target", "Target", "block.targets"),
    ("cf-size-mode", "Size mode", "block.size_mode"),
    ("cf-size", "Size", "block.size_value"),
]
_TEXT: dict[str, Any] = {"type": "text", "size": "sm", "autocomplete": "off"}


def message_id(input_id: str) -> str:
    return f"{input_id}-msg"


def _input(input_id: str, user_id: int) -> Any:
    runtime = current_runtime()
    if input_id == "cf-kind":
        return dbc.Select(id=input_id, options=KINDS, value="close_above", size="sm")
    if input_id == "cf-series":
        entries = market.watchlist(runtime, user_id)
        options = [{"label": f"{e.symbol} · {e.exchange} · {e.timeframe}", "value": e.series_id} for e in entries]
        return dbc.Select(id=input_id, options=options, value=options[0]["value"] if options else None, size="sm")
    if input_id == "cf-timeframe":
        return dbc.Select(id=input_id, options=TIMEFRAMES, value="15m", size="sm")
    if input_id == "cf-at":
        return dbc.Input(id=input_id, type="datetime-local", size="sm")
    if input_id == "cf-account":
        options = [{"label": a.label, "value": a.id} for a in users.account_choices(runtime, user_id)]
        return dbc.Select(id=input_id, options=options, value=options[0]["value"] if options else None, size="sm")
    choices = {"cf-side": SIDES, "cf-entry-type": ENTRY_TYPES, "cf-size-mode": SIZE_MODES}
    if input_id in choices:
        return dbc.Select(id=input_id, options=choices[input_id], value=choices[input_id][0]["value"], size="sm")
    return dbc.Input(id=input_id, **_TEXT)


def condition_dialog(user_id: int) -> html.Div:
    """The "New conditional block…" button and its dialog."""
    rows = [
        html.Div(
            [
                dbc.Label(label, html_for=input_id, className="small mb-0"),
                _input(input_id, user_id),
                html.Div(id=message_id(input_id), className="small text-danger cf-field-message"),
            ],
            className="mb-2",
        )
        for input_id, label, _field in FIELDS
    ]
    modal = dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("New conditional block")),
            dbc.ModalBody([dbc.Row([dbc.Col(rows[:6]), dbc.Col(rows[6:])]), html.Div(id=MESSAGE)]),
            dbc.ModalFooter(
                [
                    dbc.Button("Close", id=CLOSE, color="secondary", outline=True, n_clicks=0),
                    dbc.Button("Save condition", id=SAVE, color="primary", n_clicks=0),
                ]
            ),
        ],
        id=MODAL,
        is_open=False,
        size="lg",
    )
    button = dbc.Button("New conditional block…", id=OPEN, color="outline-primary", size="sm", n_clicks=0)
    return html.Div([button, modal])


def condition_raw(values: dict[str, Any], series: Any) -> dict[str, Any]:
    """The form's values as engine.conditions.api.create_condition reads them; the block trades
    the chosen market (`series`, a watchlist entry, or None)."""
    target = values.get("cf-target")
    return {
        "kind": values.get("cf-kind"),
        "account_id": values.get("cf-account"),
        "series_id": values.get("cf-series"),
        "timeframe": values.get("cf-timeframe"),
        "price": values.get("cf-price"),
        "at": values.get("cf-at") or None,
        "block": {
            "symbol": series.symbol if series is not None else None,
            "exchange": series.exchange if series is not None else None,
            "side": values.get("cf-side"),
            "entry_type": values.get("cf-entry-type"),
            "entry_price": values.get("cf-entry-price"),
            "stop_price": values.get("cf-stop"),
            "target_prices": [target] if target not in (None, "") else [],
            "target_shares": [None] if target not in (None, "") else [],
            "size_mode": values.get("cf-size-mode"),
            "size_value": values.get("cf-size"),
        },
    }


def field_messages(errors: Any) -> tuple[dict[str, str], list[str]]:
    """The engine's errors by shown input id, and those no shown field holds (said at the top)."""
    by_field = {field: input_id for input_id, _label, field in FIELDS}
    by_field["block.symbol"] = by_field["block.exchange"] = "cf-series"
    shown: dict[str, str] = {}
    rest: list[str] = []
    for e in errors:
        key = "block.targets" if e.field.startswith("block.targets") else e.field
        input_id = by_field.get(key)
        if input_id is None:
            rest.append(e.message)
        else:
            shown[input_id] = f"{shown[input_id]} {e.message}" if input_id in shown else e.message
    return shown, rest


_MESSAGES = [Output(message_id(input_id), "children") for input_id, _label, _field in FIELDS]


@CALLBACKS.callback(
    Output(MODAL, "is_open"),
    Output(MESSAGE, "children"),
    Output(WAITING_MESSAGE, "children", allow_duplicate=True),
    Output(TABLE, "children", allow_duplicate=True),
    *_MESSAGES,
    Input(OPEN, "n_clicks"),
    Input(CLOSE, "n_clicks"),
    Input(SAVE, "n_clicks"),
    *[State(input_id, "value") for input_id, _label, _field in FIELDS],
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def save_condition(_open: int | None, _close: int | None, _save: int | None, *values: Any) -> tuple[Any, ...]:
    quiet = [no_update] * len(FIELDS)
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        return no_update, no_update, no_update, no_update, *quiet
    if ctx.triggered_id == OPEN:
        return True, None, no_update, no_update, *[None] * len(FIELDS)
    if ctx.triggered_id == CLOSE:
        return False, no_update, no_update, no_update, *quiet
    user_id = current_view().id
    named = dict(zip([input_id for input_id, _l, _f in FIELDS], values, strict=True))
    series = _series(user_id, named.get("cf-series"))
    try:
        first = conditions.create_condition(current_runtime(), user_id, condition_raw(named, series))
    except conditions.ConditionRefused as exc:
        shown, rest = field_messages(exc.errors)
        top = dbc.Alert(" ".join(rest) or "See the message at each field.", color="danger", class_name="py-2")
        return True, top, no_update, no_update, *[shown.get(input_id) for input_id, _l, _f in FIELDS]
    done = dbc.Alert(f"Condition #{first} saved: it waits below.", color="success", class_name="py-2", id="cf-saved")
    return False, None, done, conditions_table(user_id), *[None] * len(FIELDS)


def _series(user_id: int, series_id: Any) -> Any:
    try:
        return market.watched(current_runtime(), user_id, int(series_id))
    except (market.NotWatchedError, TypeError, ValueError):
        return None

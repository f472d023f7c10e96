"""The form that saves a conditional block (engine.conditions), in a dialog opened from /blocks:
the condition (a candle closing above/below a price on a timeframe, the price crossing a level,
or a time, UTC), the market of the user's watchlist it watches and trades, and the block to
place (side, entry, stop, one target, size); and, when "Then, a next step" is on, one `then`
step with the same fields (another condition and its block, armed when the first fires). The
engine checks it all exactly as the REST API's chains are checked (one parse, one set of rules);
each problem is shown under its field, the next step's under its own, and nothing is saved.
Longer chains are saved through the REST API (POST /api/v1/conditions)."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update

from engine.conditions import api as conditions
from engine.market import api as market
from engine.users import api as users
from pages.components.block_conditions import MESSAGE as WAITING_MESSAGE
from pages.components.block_conditions import TABLE, conditions_table
from pages.components.block_form import ENTRY_TYPES, SIDES, SIZE_MODES
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
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
# A step's fields: (name, label, the engine's field name its messages come under).
STEP = [
    ("kind", "When", "kind"),
    ("series", "Market", "series_id"),
    ("price", "Price", "price"),
    ("timeframe", "Timeframe", "timeframe"),
    ("at", "Time (UTC)", "at"),
    ("account", "Account", "account"),
    ("side", "Side", "block.side"),
    ("entry-type", "Entry", "block.entry_type"),
    ("entry-price", "Entry price", "block.entry_price"),
    ("stop", "Stop", "block.stop_price"),
    ("target", "Target", "block.targets"),
    ("size-mode", "Size mode", "block.size_mode"),
    ("size", "Size", "block.size_value"),
]
FIRST, NEXT = "cf-", "cf-then-"  # the input ids' prefixes of the condition and of its next step
THEN_ON, THEN_BOX = "cf-then-on", "cf-then"  # the switch and the next step's fields


def step_fields(prefix: str) -> list[tuple[str, str, str]]:
    """The shown fields of one step: (input id, label, engine field); the next step's engine
    fields are the first's under "then."."""
    under = "then." if prefix == NEXT else ""
    return [(f"{prefix}{name}", label, f"{under}{field}") for name, label, field in STEP]


FIELDS = [*step_fields(FIRST), *step_fields(NEXT)]
_TEXT: dict[str, Any] = {"type": "text", "size": "sm", "autocomplete": "off"}


def message_id(input_id: str) -> str:
    return f"{input_id}-msg"


def _input(input_id: str, user_id: int) -> Any:
    runtime = current_runtime()
    name = input_id.removeprefix(NEXT) if input_id.startswith(NEXT) else input_id.removeprefix(FIRST)
    if name == "kind":
        return dbc.Select(id=input_id, options=KINDS, value="close_above", size="sm")
    if name == "series":
        entries = market.watchlist(runtime, user_id)
        options = [{"label": f"{e.symbol} · {e.exchange} · {e.timeframe}", "value": e.series_id} for e in entries]
        return dbc.Select(id=input_id, options=options, value=options[0]["value"] if options else None, size="sm")
    if name == "timeframe":
        return dbc.Select(id=input_id, options=TIMEFRAMES, value="15m", size="sm")
    if name == "at":
        return dbc.Input(id=input_id, type="datetime-local", size="sm")
    if name == "account":
        options = [{"label": a.label, "value": a.id} for a in users.account_choices(runtime, user_id)]
        return dbc.Select(id=input_id, options=options, value=options[0]["value"] if options else None, size="sm")
    choices = {"side": SIDES, "entry-type": ENTRY_TYPES, "size-mode": SIZE_MODES}
    if name in choices:
        return dbc.Select(id=input_id, options=choices[name], value=choices[name][0]["value"], size="sm")
    return dbc.Input(id=input_id, **_TEXT)


def _rows(prefix: str, user_id: int) -> list[html.Div]:
    return [
        html.Div(
            [
                dbc.Label(label, html_for=input_id, className="small mb-0"),
                _input(input_id, user_id),
                html.Div(id=message_id(input_id), className="small text-danger cf-field-message"),
            ],
            className="mb-2",
        )
        for input_id, label, _field in step_fields(prefix)
    ]


def condition_dialog(user_id: int) -> html.Div:
    """The "New conditional block…" button and its dialog."""
    rows, then_rows = _rows(FIRST, user_id), _rows(NEXT, user_id)
    then = html.Div(
        [
            html.H3("Then, when the condition above has placed its block", className="h6 mt-2"),
            dbc.Row([dbc.Col(then_rows[:6]), dbc.Col(then_rows[6:])]),
        ],
        id=THEN_BOX,
        hidden=True,
        className="border-top pt-2",
    )
    switch = dbc.Switch(id=THEN_ON, label="Then, a next step (another conditional block)", value=False)
    modal = dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("New conditional block")),
            dbc.ModalBody([dbc.Row([dbc.Col(rows[:6]), dbc.Col(rows[6:])]), switch, then, html.Div(id=MESSAGE)]),
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
        scrollable=True,
    )
    button = dbc.Button("New conditional block…", id=OPEN, color="outline-primary", size="sm", n_clicks=0)
    return html.Div([button, modal])


def register_clientside() -> None:
    """The switch shows the next step's fields (browser-side: nothing to ask the server)."""
    dash.clientside_callback("function (on) { return !on; }", Output(THEN_BOX, "hidden"), Input(THEN_ON, "value"))


def condition_raw(values: dict[str, Any], series: Any, prefix: str = FIRST) -> dict[str, Any]:
    """One step of the form's values (input ids under `prefix`) as
    engine.conditions.api.create_condition reads them; the block trades the chosen market
    (`series`, a watchlist entry, or None)."""
    target = values.get(f"{prefix}target")
    return {
        "kind": values.get(f"{prefix}kind"),
        "account_id": values.get(f"{prefix}account"),
        "series_id": values.get(f"{prefix}series"),
        "timeframe": values.get(f"{prefix}timeframe"),
        "price": values.get(f"{prefix}price"),
        "at": values.get(f"{prefix}at") or None,
        "block": {
            "symbol": series.symbol if series is not None else None,
            "exchange": series.exchange if series is not None else None,
            "side": values.get(f"{prefix}side"),
            "entry_type": values.get(f"{prefix}entry-type"),
            "entry_price": values.get(f"{prefix}entry-price"),
            "stop_price": values.get(f"{prefix}stop"),
            "target_prices": [target] if target not in (None, "") else [],
            "target_shares": [None] if target not in (None, "") else [],
            "size_mode": values.get(f"{prefix}size-mode"),
            "size_value": values.get(f"{prefix}size"),
        },
    }


def chain_raw(values: dict[str, Any], series: Any, then_series: Any, then_on: bool) -> dict[str, Any]:
    """The condition, with its next step under "then" when the switch is on."""
    raw = condition_raw(values, series)
    if then_on:
        raw["then"] = condition_raw(values, then_series, NEXT)
    return raw


def field_messages(errors: Any) -> tuple[dict[str, str], list[str]]:
    """The engine's errors by shown input id, and those no shown field holds (said at the top)."""
    by_field = {field: input_id for input_id, _label, field in FIELDS}
    by_field["block.symbol"] = by_field["block.exchange"] = f"{FIRST}series"
    by_field["then.block.symbol"] = by_field["then.block.exchange"] = f"{NEXT}series"
    shown: dict[str, str] = {}
    rest: list[str] = []
    for e in errors:
        under = "then." if e.field.startswith("then.") else ""
        key = f"{under}block.targets" if e.field.startswith(f"{under}block.targets") else e.field
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
    State(THEN_ON, "value"),
    *[State(input_id, "value") for input_id, _label, _field in FIELDS],
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def save_condition(
    _open: int | None, _close: int | None, _save: int | None, then_on: bool | None, *values: Any
) -> tuple[Any, ...]:
    quiet = [no_update] * len(FIELDS)
    if not clicked():
        return no_update, no_update, no_update, no_update, *quiet
    if ctx.triggered_id == OPEN:
        return True, None, no_update, no_update, *[None] * len(FIELDS)
    if ctx.triggered_id == CLOSE:
        return False, no_update, no_update, no_update, *quiet
    user_id = current_view().id
    named = dict(zip([input_id for input_id, _l, _f in FIELDS], values, strict=True))
    series, then_series = _series(user_id, named.get(f"{FIRST}series")), _series(user_id, named.get(f"{NEXT}series"))
    raw = chain_raw(named, series, then_series, bool(then_on))
    try:
        first = conditions.create_condition(current_runtime(), user_id, raw)
    except conditions.ConditionRefused as exc:
        shown, rest = field_messages(exc.errors)
        top = dbc.Alert(" ".join(rest) or "See the message at each field.", color="danger", class_name="py-2")
        return True, top, no_update, no_update, *[shown.get(input_id) for input_id, _l, _f in FIELDS]
    steps = conditions.chain(current_runtime(), user_id, first)
    they = "they wait" if len(steps) > 1 else "it waits"
    said = f"Condition {', then '.join(f'#{v.id}' for v in steps)} saved: {they} below."
    done = dbc.Alert(said, color="success", class_name="py-2", id="cf-saved")
    return False, None, done, conditions_table(user_id), *[None] * len(FIELDS)


def _series(user_id: int, series_id: Any) -> Any:
    try:
        return market.watched(current_runtime(), user_id, int(series_id))
    except (market.NotWatchedError, TypeError, ValueError):
        return None

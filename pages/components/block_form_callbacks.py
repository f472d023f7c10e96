"""Callbacks of the trade-block form (pages/components/block_form.py), traders only: adding and
removing target rows, the live preview (engine.blocks.api.preview_block) and the proposed lines it
puts on the chart, dragging one of those lines to move the form's price, and placing the block
(engine.blocks.api.submit_block) with the engine's errors shown next to their fields.

The market is the chart's series, read on the server (the user must watch it); the account must be
one of the user's (the engine refuses anyone else's). While the chart replays, the account is the
replay's own, read from the run on the server (pages/components/chart_replay.py), whatever the
account field says.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update

from engine.blocks.api import (
    MAX_TARGETS,
    BlockPreview,
    BlockRejected,
    FieldError,
    can_short,
    parse_account_id,
    preview_block,
    submit_block,
)
from engine.common.precision import round_price, to_decimal
from engine.common.symbols import is_contract, split_symbol
from engine.market import api as market
from engine.market.api import WatchEntry
from engine.users import api as users
from engine.users.api import AccountAccessError
from pages.components import block_form as bf
from pages.components import chart_replay, chart_shapes
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
from web.auth import TRADERS, current_runtime, current_view, require_role

# Registered by pages/chart.py, once per app (see pages/components/deferred.py).
CALLBACKS = Deferred()

_SHAPE_Y = re.compile(r"^shapes\[(\d+)\]\.y([01])$")
FORM_STATE = [
    State(bf.ACCOUNT, "value"),
    State(bf.SIDE, "value"),
    State(bf.ENTRY_TYPE, "value"),
    State(bf.ENTRY, "value"),
    State(bf.STOP, "value"),
    State({"type": bf.T_PRICE, "row": ALL}, "value"),
    State({"type": bf.T_SHARE, "row": ALL}, "value"),
    State(bf.SIZE_MODE, "value"),
    State(bf.SIZE, "value"),
    State(bf.BREAKEVEN, "value"),
    State(bf.TIMEOUT, "value"),
    State(bf.DURATION, "value"),
    State(bf.LEVERAGE, "value"),
    State(bf.MARGIN_MODE, "value"),
]
FORM_INPUTS = [Input(s.component_id, s.component_property) for s in FORM_STATE]


@CALLBACKS.callback(
    Output(bf.ROWS, "data"),
    Input(bf.ADD_TARGET, "n_clicks"),
    Input({"type": bf.T_REMOVE, "row": ALL}, "n_clicks"),
    State(bf.ROWS, "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def change_rows(_add: int | None, _removes: list[int], rows: list[int] | None) -> Any:
    if not clicked():
        return no_update  # rows re-rendered, nothing clicked
    current = [int(r) for r in (rows or bf.DEFAULT_ROWS)]
    trigger = ctx.triggered_id
    if trigger == bf.ADD_TARGET:
        return [*current, max(current, default=-1) + 1] if len(current) < MAX_TARGETS else no_update
    if isinstance(trigger, dict) and trigger.get("type") == bf.T_REMOVE and len(current) > 1:
        return [r for r in current if r != trigger.get("row")]
    return no_update


@CALLBACKS.callback(Output(bf.TARGETS, "children"), Input(bf.ROWS, "data"))
@require_role(*TRADERS)
def render_rows(rows: list[int] | None) -> list:
    # Rows render with empty values: each input's persisted value (the browser's) fills it back in.
    return bf.target_rows([int(r) for r in (rows or bf.DEFAULT_ROWS)][:MAX_TARGETS])


@CALLBACKS.callback(
    Output(bf.ADD_TARGET, "disabled"),
    Output(bf.ADD_TARGET, "title"),
    Input(bf.ROWS, "data"),
)
@require_role(*TRADERS)
def limit_targets(rows: list[int] | None) -> tuple[bool, str]:
    """At the most targets a block may have, "+ target" is off and says why (it did nothing, silently)."""
    if len(rows or bf.DEFAULT_ROWS) >= MAX_TARGETS:
        return True, f"A block has at most {MAX_TARGETS} profit targets."
    return False, "Add a profit target"


def _values(args: tuple[Any, ...]) -> bf.FormValues:
    return bf.FormValues(*args)


def _market(series_state: dict | None) -> WatchEntry | None:
    try:
        return market.watched(current_runtime(), current_view().id, (series_state or {}).get("series_id"))
    except market.NotWatchedError:
        return None


def _account_problem(values: bf.FormValues) -> FieldError | None:
    """The account must be the user's (that it trades on the chart's exchange is the engine's check)."""
    account_id = bf.account_id(values)
    choices = {a.id: a for a in users.account_choices(current_runtime(), current_view().id, create_default=False)}
    if account_id not in choices:
        return FieldError("account", "Choose one of your accounts.")
    return None


def _trading_account(values: bf.FormValues, replay: dict | None, entry: WatchEntry) -> int | FieldError:
    """The account the block goes to: the replay's while the chart replays, else the form's."""
    if (replay or {}).get("run_id"):
        run = chart_replay.active_run(current_runtime(), current_view().id, replay)
        if run is None:
            return FieldError("account", "This replay is not running: exit it to trade live.")
        if not chart_replay.on_market(run, entry.exchange, entry.symbol):
            return FieldError("account", f"The replay plays {', '.join(run.symbols)}: trade it on its chart.")
        return run.account_id
    problem = _account_problem(values)
    account_id = bf.account_id(values)
    return problem if problem is not None or account_id is None else account_id


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _preview_store(shown: BlockPreview, entry: WatchEntry) -> dict:
    return {
        "series_id": entry.series_id,
        "entry": _float(shown.entry_price),
        "stop": _float(shown.stop_price),
        "targets": [_float(p) for p in shown.target_prices],
        "tick": None if shown.price_tick is None else str(shown.price_tick),
    }


BLURS = [
    Input(bf.ENTRY, "n_blur"),
    Input(bf.STOP, "n_blur"),
    Input(bf.SIZE, "n_blur"),
    Input({"type": bf.T_PRICE, "row": ALL}, "n_blur"),
    Input({"type": bf.T_SHARE, "row": ALL}, "n_blur"),
]


def _shown(shown: BlockPreview, values: bf.FormValues, blurs: tuple[Any, ...], attempted: Any) -> BlockPreview:
    """The preview without the "Enter ..." messages of fields the trader has not been to yet."""
    if attempted is True:
        return shown
    hidden = bf.untouched_empty(values, blurs)
    return replace(shown, errors=tuple(e for e in shown.errors if e.field not in hidden))


def _notes(shown: BlockPreview | None, rows: int) -> tuple[Any, ...]:
    """The preview's notes (a price rounded to the tick) under their fields: entry, stop, target rows."""
    placed = bf.place_errors(shown.notes if shown is not None else (), rows)
    plain = [" ".join(placed.fields.get(field_id, [])) for field_id in bf.NOTED_FIELDS]
    return (*plain, [" ".join(m) for m in placed.rows])


# After a refused "Place block" the fields' red marks follow the live preview, so a field the
# trader has corrected since loses its mark and its stale reason (a stop refused "at 100x" while
# the leverage now reads 10); before any attempt the preview leaves the marks alone.
MARKS = [
    *[Output(field_id, "invalid", allow_duplicate=True) for field_id in bf.FIELDS],
    *[Output(bf.feedback_id(field_id), "children", allow_duplicate=True) for field_id in bf.FIELDS],
    Output({"type": bf.T_PRICE, "row": ALL}, "invalid", allow_duplicate=True),
    Output({"type": bf.T_SHARE, "row": ALL}, "invalid", allow_duplicate=True),
    Output({"type": bf.T_FEEDBACK, "row": ALL}, "children", allow_duplicate=True),
    Output(bf.MESSAGE, "children", allow_duplicate=True),
]


def _marks(errors: tuple[FieldError, ...] | None, rows: int, attempted: Any) -> tuple[Any, ...]:
    if attempted is not True or errors is None:
        kept = [no_update] * rows  # a wildcard output takes a list, one per target row
        return (*[no_update] * (2 * len(bf.FIELDS)), kept, kept, kept, no_update)
    cleared = None if not errors else no_update  # nothing left to correct: "see the fields marked" goes
    return (*bf.place_errors(errors, rows).marks(), cleared)


@CALLBACKS.callback(
    Output(bf.PREVIEW, "children"),
    Output(bf.PREVIEW_STORE, "data"),
    *[Output(bf.note_id(field_id), "children") for field_id in bf.NOTED_FIELDS],
    Output({"type": bf.T_NOTE, "row": ALL}, "children"),
    *MARKS,
    *FORM_INPUTS,
    Input(bf.SERIES, "data"),
    *BLURS,
    State(bf.ATTEMPTED, "data"),
    State(chart_replay.REPLAY, "data"),
    prevent_initial_call="initial_duplicate",
)
@require_role(*TRADERS)
def show_preview(*args: Any) -> tuple[Any, ...]:
    count = len(FORM_INPUTS)
    values, series_state = _values(args[:count]), args[count]
    blurs, attempted, replay = args[count + 1 : count + 1 + len(BLURS)], args[-2], args[-1]
    rows = len(values.target_prices or [])
    untouched = (*_notes(None, rows), *_marks(None, rows, attempted))
    entry = _market(series_state)
    if entry is None:
        return html.Div("Pick a series to plan a block on it.", className="text-body-secondary"), None, *untouched
    account_id = _trading_account(values, replay, entry)
    if isinstance(account_id, FieldError):
        return dbc.Alert(account_id.message, color="warning", class_name="py-1 small"), None, *untouched
    req = bf.to_request(values, entry.symbol, entry.exchange)
    if isinstance(req, list):
        shown = BlockPreview(None, None, None, None, (), None, tuple(req))
        panel = bf.preview_panel(_shown(shown, values, blurs, attempted), *split_symbol(entry.symbol))
        return panel, None, *_notes(None, rows), *_marks(shown.errors, rows, attempted)
    try:
        shown = preview_block(current_runtime(), current_view().id, account_id, req)
    except AccountAccessError:
        alert = dbc.Alert("Choose one of your accounts.", color="warning", class_name="py-1 small")
        return alert, None, *untouched
    panel = bf.preview_panel(_shown(shown, values, blurs, attempted), *split_symbol(entry.symbol))
    return panel, _preview_store(shown, entry), *_notes(shown, rows), *_marks(shown.errors, rows, attempted)


@CALLBACKS.callback(
    Output(bf.SIDE, "options"),
    Output(bf.SIDE, "value"),
    Input(bf.SERIES, "data"),
    Input(bf.ACCOUNT, "value"),
    Input(chart_replay.REPLAY, "data"),
    State(bf.SIDE, "value"),
)
@require_role(*TRADERS)
def offer_sides(
    series_state: dict | None, account: Any, replay: dict | None, side: str | None
) -> tuple[list[dict], Any]:
    """Long only where this account cannot short the chart's market (a spot market, a paper account
    without margin): the engine would refuse the short anyway, the form does not offer it."""
    entry, account_id = _market(series_state), parse_account_id(account)
    run = chart_replay.active_run(current_runtime(), current_view().id, replay) if replay else None
    account_id = run.account_id if run is not None else account_id
    try:
        short = (
            entry is not None
            and account_id is not None
            and can_short(current_runtime(), current_view().id, account_id, entry.symbol)
        )
    except AccountAccessError:
        short = False
    if short:
        return bf.SIDES, no_update
    return bf.SIDES[:1], bf.SIDES[0]["value"] if side != bf.SIDES[0]["value"] else no_update


@CALLBACKS.callback(Output(bf.DERIVATIVES, "style"), Input(bf.SERIES, "data"))
@require_role(*TRADERS)
def offer_leverage(series_state: dict | None) -> dict:
    """Leverage and margin mode on a perpetual's or a future's chart only (the engine refuses them on spot)."""
    entry = _market(series_state)
    return {} if entry is not None and is_contract(entry.symbol) else {"display": "none"}


def _rounded(y: Any, tick: str | None) -> float | None:
    try:
        price = to_decimal(y)
    except (ValueError, TypeError):
        return None
    return float(round_price(price, Decimal(tick) if tick else None)) if price > 0 else None


@CALLBACKS.callback(
    Output(bf.ENTRY, "value"),
    Output(bf.STOP, "value"),
    Output({"type": bf.T_PRICE, "row": ALL}, "value"),
    Input(bf.RELAYOUT, "data"),
    State("chart-shape-names", "data"),
    State(bf.PREVIEW_STORE, "data"),
    State({"type": bf.T_PRICE, "row": ALL}, "id"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def drag_to_form(relayout: dict | None, sent: dict | None, preview: dict | None, rows: list[dict]) -> tuple:
    """A proposed line dragged on the chart moves its field (rounded to the price tick)."""
    entry: Any = no_update
    stop: Any = no_update
    targets: list[Any] = [no_update] * len(rows or [])
    names = (sent or {}).get("names") or []
    for key, y in (relayout or {}).items():
        match = _SHAPE_Y.match(key)
        if not match or int(match.group(1)) >= len(names) or match.group(2) != "0":
            continue
        name = names[int(match.group(1))].removeprefix(chart_shapes.PREVIEW_PREFIX)
        price = _rounded(y, (preview or {}).get("tick"))
        if price is None or name == names[int(match.group(1))]:
            continue  # not a proposed line
        if name == "entry":
            entry = price
        elif name == "stop":
            stop = price
        elif name.startswith("target-") and int(name.removeprefix("target-")) < len(targets):
            targets[int(name.removeprefix("target-"))] = price
    return entry, stop, targets


@CALLBACKS.callback(
    *[Output(field_id, "invalid") for field_id in bf.FIELDS],
    *[Output(bf.feedback_id(field_id), "children") for field_id in bf.FIELDS],
    Output({"type": bf.T_PRICE, "row": ALL}, "invalid"),
    Output({"type": bf.T_SHARE, "row": ALL}, "invalid"),
    Output({"type": bf.T_FEEDBACK, "row": ALL}, "children"),
    Output(bf.MESSAGE, "children"),
    Output(bf.PREVIEW_STORE, "data", allow_duplicate=True),
    Output(bf.VERSION, "data"),
    # A placed block empties its prices and size (side, entry type, sizing and the account stay), so
    # a second click cannot place the same block again without the trader entering it again.
    Output(bf.ENTRY, "value", allow_duplicate=True),
    Output(bf.STOP, "value", allow_duplicate=True),
    Output({"type": bf.T_PRICE, "row": ALL}, "value", allow_duplicate=True),
    Output({"type": bf.T_SHARE, "row": ALL}, "value", allow_duplicate=True),
    Output(bf.SIZE, "value"),
    Output(bf.ATTEMPTED, "data"),
    # ...and forgets which fields were visited, so the fresh form's "Enter ..." messages wait again.
    Output(bf.ENTRY, "n_blur"),
    Output(bf.STOP, "n_blur"),
    Output(bf.SIZE, "n_blur"),
    Output({"type": bf.T_PRICE, "row": ALL}, "n_blur"),
    Output({"type": bf.T_SHARE, "row": ALL}, "n_blur"),
    Input(bf.SUBMIT, "n_clicks"),
    *FORM_STATE,
    State(bf.SERIES, "data"),
    State(bf.VERSION, "data"),
    State(chart_replay.REPLAY, "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def place_block(clicks: int | None, *args: Any) -> tuple:
    values, series_state, version, replay = _values(args[:-3]), args[-3], args[-2], args[-1]
    rows = len(values.target_prices or [])
    if not clicks:
        return (no_update,) * (2 * len(bf.FIELDS) + 17)
    entry = _market(series_state)
    errors: list[FieldError] = []
    block_id = None
    if entry is None:
        errors.append(FieldError("symbol", "Pick a series on the chart first."))
    elif isinstance(account_id := _trading_account(values, replay, entry), FieldError):
        errors.append(account_id)
    elif isinstance(req := bf.to_request(values, entry.symbol, entry.exchange), list):
        errors.extend(req)
    else:
        try:
            block_id = submit_block(current_runtime(), current_view().id, account_id, req)
        except BlockRejected as exc:
            errors.extend(exc.errors)
        except AccountAccessError:
            errors.append(FieldError("account", "Choose one of your accounts."))
    placed = bf.place_errors(errors, rows)
    if block_id is not None:
        assert entry is not None
        message = dbc.Alert(
            f"Block #{block_id} placed on {entry.symbol}.", color="success", class_name="py-1 small", id="bf-placed"
        )
        cleared = ("", "", [""] * rows, [""] * len(values.target_shares or []), "")
        return (
            *placed.marks(),
            message,
            None,
            (version or 0) + 1,
            *cleared,
            False,  # a fresh form: its empty fields wait to be visited again
            *(0, 0, 0, [0] * rows, [0] * len(values.target_shares or [])),
        )
    general = placed.general or ["The block was not placed: see the fields marked in red."]
    message = dbc.Alert([html.Div(m) for m in general], color="danger", class_name="py-1 small", id="bf-rejected")
    kept = (no_update, no_update, [no_update] * rows, [no_update] * len(values.target_shares or []), no_update)
    unvisited = (no_update, no_update, no_update, [no_update] * rows, [no_update] * len(values.target_shares or []))
    return (*placed.marks(), message, no_update, no_update, *kept, True, *unvisited)

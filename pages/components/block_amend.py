"""The /blocks page's "Amend" dialog: move the stop (every live trade's or one trade's), stop to
break-even, move targets, add or remove a target, resize what is not filled yet. Every field starts
empty with the block's current value as its placeholder: only what is typed changes. The values go
through engine.blocks.api.parse_amend and amend_block (the REST API's PATCH does the same), and a
refusal comes back as a message at each field, the dialog staying open with what was typed.

The block id is the selected row's, from the browser: amend_block checks it is the user's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from engine.blocks import api as blocks
from engine.blocks.api import BlockAccessError, BlockDetail, FieldError, TradeRecord
from engine.common.precision import format_number
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
from web.auth import TRADERS, current_runtime, current_view, require_role

OPEN, MODAL, BODY, BLOCK = "blocks-amend", "amend-modal", "amend-body", "amend-block"
APPLY, BREAKEVEN, BACK = "amend-apply", "amend-breakeven", "amend-back"
STOP, STOP_TRADE, ADD_PRICE, ADD_SHARE, REMOVE, SIZE = (
    "amend-stop",
    "amend-stop-trade",
    "amend-add-price",
    "amend-add-share",
    "amend-remove",
    "amend-size",
)
TARGET = "amend-target"
ALL_TRADES, NONE = "all", "none"  # the selects' "every trade" and "no removal"
MESSAGE = "blocks-message"
# Registered by pages/blocks.py, once per app (see pages/components/deferred.py).
CALLBACKS = Deferred()
# Where each engine field's message is shown (targets[i].price at its own row, see _field_of).
FIELD_OF = {
    "stop_price": STOP,
    "stop_target": STOP,
    "breakeven": BREAKEVEN,
    "add_target.price": ADD_PRICE,
    "add_target.share": ADD_SHARE,
    "remove_target": REMOVE,
    "size": SIZE,
}


def amend_modal() -> html.Div:
    """The dialog and the selected block's id (filled when it opens)."""
    return html.Div(
        [
            dcc.Store(id=BLOCK),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle("Amend block")),
                    dbc.ModalBody(html.Div(id=BODY)),
                    dbc.ModalFooter(
                        [
                            dbc.Button("Back", id=BACK, color="secondary", outline=True, n_clicks=0),
                            dbc.Button("Apply", id=APPLY, color="primary", n_clicks=0),
                        ]
                    ),
                ],
                id=MODAL,
                is_open=False,
                size="lg",
            ),
        ]
    )


def live_trades(detail: BlockDetail) -> list[TradeRecord]:
    """The block's trades an amend can change (also the chart's panel, pages/components/chart_blocks.py)."""
    return [t for t in detail.block.trades if t.status.value in ("pending", "open") and t.close_reason is None]


def unfilled(detail: BlockDetail) -> Decimal:
    """The base amount of the trades still waiting for their entry: what a resize changes."""
    return sum(
        (t.amount for t in live_trades(detail) if t.status.value == "pending" and t.entry_filled == 0), Decimal(0)
    )


def _input(field_id: Any, placeholder: str, value: Any, errors: dict[str, str], key: str) -> list[Any]:
    message = errors.get(key)
    return [
        dbc.Input(
            id=field_id,
            type="text",
            inputMode="decimal",
            placeholder=placeholder,
            value=value or "",
            invalid=message is not None,
            debounce=False,
        ),
        dbc.FormFeedback(message or "", type="invalid", id=f"{key}-feedback"),
    ]


def amend_body(detail: BlockDetail, typed: dict[str, Any], errors: dict[str, str]) -> list[Any]:
    """The dialog's fields for the block as it is now, with what was `typed` and the `errors` per field id."""
    block, live = detail.block, live_trades(detail)
    trades = [dbc.Label(f"Targets of block #{block.id} ({block.symbol}, {block.side.value})", className="mt-2")]
    for t in live:
        key = f"{TARGET}-{t.index}"
        row = _input(
            {"type": TARGET, "index": t.index},
            f"T{t.index + 1} now {format_number(t.target_price)}",
            typed.get(key),
            errors,
            key,
        )
        trades.append(html.Div(row, className="mb-1", id=f"{key}-row"))
    scope = [{"label": "for every live trade", "value": ALL_TRADES}] + [
        {"label": f"for T{t.index + 1} only", "value": str(t.index)} for t in live
    ]
    removable = [{"label": "keep every target", "value": NONE}] + [
        {"label": f"remove T{t.index + 1} at {format_number(t.target_price)}", "value": str(t.index)} for t in live
    ]
    left = unfilled(detail)
    stops = sorted({t.stop_price for t in live})
    general = errors.get("amend")
    return [
        dbc.Alert(general, color="danger", class_name="py-2", id="amend-error") if general else None,
        dbc.Label("Stop", html_for=STOP),
        dbc.Row(
            [
                dbc.Col(
                    _input(STOP, "now " + " / ".join(format_number(s) for s in stops), typed.get(STOP), errors, STOP)
                ),
                dbc.Col(dbc.Select(id=STOP_TRADE, options=scope, value=typed.get(STOP_TRADE) or ALL_TRADES), width=4),
                dbc.Col(
                    [
                        dbc.Button("Stop to break-even", id=BREAKEVEN, color="outline-primary", n_clicks=0),
                        html.Div(errors.get(BREAKEVEN, ""), id=f"{BREAKEVEN}-feedback", className="text-danger small"),
                    ],
                    width="auto",
                ),
            ],
            className="g-2",
        ),
        *trades,
        dbc.Label("Add a target (price, share of the unfilled size in %)", className="mt-2"),
        dbc.Row(
            [
                dbc.Col(_input(ADD_PRICE, "price", typed.get(ADD_PRICE), errors, ADD_PRICE)),
                dbc.Col(_input(ADD_SHARE, "share % (empty: equal)", typed.get(ADD_SHARE), errors, ADD_SHARE)),
            ],
            className="g-2",
        ),
        dbc.Label("Remove a target (an open position there closes at market)", className="mt-2", html_for=REMOVE),
        dbc.Select(id=REMOVE, options=removable, value=typed.get(REMOVE) or NONE, invalid=REMOVE in errors),
        dbc.FormFeedback(errors.get(REMOVE, ""), type="invalid", id=f"{REMOVE}-feedback"),
        dbc.Label("Size of what is not filled yet", className="mt-2", html_for=SIZE),
        *_input(
            SIZE,
            f"now {format_number(left)} {block.symbol.split('/')[0]}" if left else "all filled",
            typed.get(SIZE),
            errors,
            SIZE,
        ),
    ]


def _errors_by_field(errors: tuple[FieldError, ...] | list[FieldError]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for error in errors:
        key = FIELD_OF.get(error.field)
        if key is None and error.field.startswith("targets["):
            key = f"{TARGET}-{error.field[len('targets[') :].split(']')[0]}"
        key = key or "amend"
        shown[key] = f"{shown[key]} {error.message}" if key in shown else error.message
    return shown


def _selected(selected: list[dict] | None) -> int | None:
    try:
        return int((selected or [])[0]["block_id"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def _alert(text: str, color: str) -> dbc.Alert:
    return dbc.Alert(text, color=color, class_name="py-2", id="blocks-alert")


@CALLBACKS.callback(
    Output(MODAL, "is_open"),
    Output(BODY, "children"),
    Output(BLOCK, "data"),
    Output(MESSAGE, "children", allow_duplicate=True),
    Input(OPEN, "n_clicks"),
    State("blocks-grid", "selectedRows"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def open_amend(clicks: int | None, selected: list | None) -> tuple[Any, ...]:
    if not clicks:
        return no_update, no_update, no_update, no_update
    block_id = _selected(selected)
    if block_id is None:
        return False, no_update, None, _alert("Select a block first.", "info")
    try:
        detail = blocks.block_detail(current_runtime(), current_view().id, block_id)
    except BlockAccessError:
        return False, no_update, None, _alert(f"Block #{block_id} is not one of yours.", "danger")
    if not live_trades(detail):
        return False, no_update, None, _alert(f"Block #{block_id} has no live trade left to amend.", "info")
    return True, amend_body(detail, {}, {}), block_id, None


@CALLBACKS.callback(
    Output(MODAL, "is_open", allow_duplicate=True),
    Output(BODY, "children", allow_duplicate=True),
    Output(MESSAGE, "children", allow_duplicate=True),
    Input(APPLY, "n_clicks"),
    Input(BREAKEVEN, "n_clicks"),
    Input(BACK, "n_clicks"),
    State(BLOCK, "data"),
    State(STOP, "value"),
    State(STOP_TRADE, "value"),
    State({"type": TARGET, "index": ALL}, "value"),
    State({"type": TARGET, "index": ALL}, "id"),
    State(ADD_PRICE, "value"),
    State(ADD_SHARE, "value"),
    State(REMOVE, "value"),
    State(SIZE, "value"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def apply_amend(
    _apply: int | None,
    _breakeven: int | None,
    _back: int | None,
    block_id: Any,
    stop: Any,
    stop_trade: Any,
    target_values: list | None,
    target_ids: list | None,
    add_price: Any,
    add_share: Any,
    remove: Any,
    size: Any,
) -> tuple[Any, ...]:
    if not clicked():
        return no_update, no_update, no_update
    if ctx.triggered_id == BACK:
        return False, no_update, no_update
    if not isinstance(block_id, int):
        return False, no_update, _alert("Select a block first.", "info")
    breakeven = ctx.triggered_id == BREAKEVEN
    moves = [
        {"index": i.get("index"), "price": v}
        for i, v in zip(target_ids or [], target_values or [], strict=False)
        if isinstance(i, dict) and v not in (None, "")
    ]
    raw = {
        "stop_price": None if breakeven else stop,
        "stop_target": None if stop_trade == ALL_TRADES else stop_trade,
        "breakeven": breakeven,
        "targets": [] if breakeven else moves,
        "add_target_price": None if breakeven else add_price,
        "add_target_share": None if breakeven else add_share,
        "remove_target": None if breakeven or remove == NONE else remove,
        "size": None if breakeven else size,
    }
    typed = {STOP: stop, STOP_TRADE: stop_trade, ADD_PRICE: add_price, ADD_SHARE: add_share, REMOVE: remove, SIZE: size}
    typed |= {f"{TARGET}-{m['index']}": m["price"] for m in moves}
    runtime, user_id = current_runtime(), current_view().id
    try:
        detail = blocks.block_detail(runtime, user_id, block_id)
        change = blocks.parse_amend(raw)
        if isinstance(change, list):
            return True, amend_body(detail, typed, _errors_by_field(change)), no_update
        outcome = blocks.amend_block(runtime, user_id, block_id, change)
    except BlockAccessError:
        return False, no_update, _alert(f"Block #{block_id} is not one of yours.", "danger")
    except blocks.BlockRejected as exc:
        return True, amend_body(detail, typed, _errors_by_field(exc.errors)), no_update
    if outcome.last_error:
        return (
            False,
            no_update,
            _alert(f"Block #{block_id} amended; the exchange said: {outcome.last_error}", "warning"),
        )
    changed = f"{outcome.trades_changed} trade{'s' if outcome.trades_changed != 1 else ''}"
    return (
        False,
        no_update,
        _alert(f"Block #{block_id} amended ({changed}): its orders on the exchange follow.", "success"),
    )

"""Callbacks of managing a placed block from the chart (pages/components/chart_blocks.py): a drag of
a live block's stop or target line becomes an amend on release; the panel's break-even, remove,
add and resize buttons too. Every amend goes through engine.blocks.api.parse_amend and amend_block
for the signed-in user (the block id comes from the browser: the engine refuses another user's).

Whatever the answer, the AMENDED counter is bumped: the lines' callback
(chart_shapes_callbacks.draw_overlays) then sends the engine's lines again, so an accepted move is
drawn where the engine put it and a refused one snaps back; the answer is said in the panel.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dash
from dash import Input, Output, State, ctx, no_update

from engine.blocks import api as blocks
from engine.blocks.api import BlockAccessError, BlockRejected
from engine.market import api as market
from pages.components import block_form, chart_shapes_callbacks
from pages.components import chart_blocks as cb
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
from web.auth import TRADERS, current_runtime, current_view, require_role

# Registered by pages/chart.py, once per app (see pages/components/deferred.py).
CALLBACKS = Deferred()


def register_clientside() -> None:
    """The panel's copy of the shape names (called by pages/chart.py at import): an analyst's chart
    has no panel, so nothing is copied and no panel callback is asked for."""
    dash.clientside_callback(
        "function (names) { return names; }",
        Output(cb.NAMES, "data"),
        Input(chart_shapes_callbacks.NAMES, "data"),
        prevent_initial_call=True,
    )


def _tick(view: dict | None) -> Decimal | None:
    tick = (view or {}).get("tick")
    return Decimal(tick) if tick else None


def _amend(block_id: int, raw: dict[str, Any], tick: Decimal | None) -> Any:
    """Parse and apply an amend for the signed-in user: the answer to show, or the refusal's errors."""
    change = blocks.parse_amend(raw)
    if isinstance(change, list):
        return change
    try:
        outcome = blocks.amend_block(current_runtime(), current_view().id, block_id, change)
    except BlockRejected as exc:
        return list(exc.errors)
    return _done(block_id, cb.done_words(change, tick), outcome)


def _done(block_id: int, what: str, outcome: blocks.AmendOutcome) -> Any:
    if outcome.last_error:
        return cb.alert(f"#{block_id}: {what}; the exchange said: {outcome.last_error}", "warning")
    return cb.alert(f"#{block_id}: {what}. Its orders on the exchange follow.", "success")


@CALLBACKS.callback(
    Output(cb.MESSAGE, "children"),
    Output(cb.AMENDED, "data"),
    Output(cb.DRAGGED, "data"),
    Input(block_form.RELAYOUT, "data"),
    State(chart_shapes_callbacks.NAMES, "data"),
    State("chart-view", "data"),
    State(cb.AMENDED, "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def drag_block(relayout: dict | None, sent: dict | None, view: dict | None, amended: int | None) -> tuple[Any, ...]:
    """A placed block's stop or target line let go at a new price: amend the block there."""
    moved = cb.dragged(relayout, (sent or {}).get("names") or [])
    if moved is None:
        return no_update, no_update, no_update
    line, y = moved
    bump = (amended or 0) + 1  # the lines are sent again: where the engine has them
    price = cb.price_at(y, (view or {}).get("tick"))
    if price is None:
        return cb.alert(f"{line.label} stays: that is not a price.", "danger"), bump, line.block_id
    try:
        # A stop line stands for the trades at its price: which ones, the block's trades say.
        detail = (
            blocks.block_detail(current_runtime(), current_view().id, line.block_id) if line.role == "stop" else None
        )
        raw = cb.drag_amend(line, price, detail)
        if isinstance(raw, str):
            return cb.alert(f"{line.label} stays: {raw}", "danger"), bump, line.block_id
        answer = _amend(line.block_id, raw, _tick(view))
    except BlockAccessError:
        return cb.alert(f"Block #{line.block_id} is not one of yours.", "danger"), bump, None
    if isinstance(answer, list):
        return cb.alert(f"{line.label} stays: {cb.refusal(answer)}", "danger"), bump, line.block_id
    return answer, bump, line.block_id


@CALLBACKS.callback(
    Output(cb.PICK, "options"),
    Output(cb.PICK, "value"),
    Output(cb.REMOVE, "options"),
    Output(cb.SIZE, "placeholder"),
    Input(cb.NAMES, "data"),
    Input(cb.DRAGGED, "data"),
    Input(cb.PICK, "value"),
    State("chart-view", "data"),
)
@require_role(*TRADERS)
def show_blocks(sent: dict | None, dragged: Any, picked: Any, view: dict | None) -> tuple[Any, ...]:
    """The picker offers the live blocks drawn on the chart and picks the one dragged last (or the
    only one); the picked block's targets and unfilled size. Options and value are sent together:
    a dropdown drops a value its options do not hold yet."""
    runtime, user_id = current_runtime(), current_view().id
    drawn = cb.block_ids((sent or {}).get("names") or [])
    live = {b.id: b for b in blocks.list_blocks(runtime, user_id, live=True)} if drawn else {}
    tick = _tick(view)
    offered = [i for i in drawn if i in live]
    chosen = cb.picked_block(dragged if ctx.triggered_id == cb.DRAGGED else picked, offered)
    detail = blocks.block_detail(runtime, user_id, chosen) if chosen is not None else None
    amount_tick = None
    if detail is not None:
        amount_tick = market.market_ticks(runtime, detail.block.exchange, detail.block.symbol).amount
    options = [{"label": cb.choice_label(live[i], tick), "value": i} for i in offered]
    return options, chosen, cb.remove_options(detail, tick), cb.size_placeholder(detail, amount_tick)


def _raw(trigger: Any, remove: Any, add_price: Any, add_share: Any, size: Any) -> dict[str, Any] | None:
    """The amend a panel button asks (None: its field is empty, nothing to ask)."""
    if trigger == cb.BREAKEVEN:
        return {"breakeven": True}
    wanted = {
        cb.REMOVE_APPLY: {"remove_target": remove},
        cb.ADD_APPLY: {"add_target_price": add_price, "add_target_share": add_share},
        cb.SIZE_APPLY: {"size": size},
    }[trigger]
    first = next(iter(wanted.values()))
    return None if first is None or str(first).strip() == "" else wanted


@CALLBACKS.callback(
    Output(cb.MESSAGE, "children", allow_duplicate=True),
    Output(cb.AMENDED, "data", allow_duplicate=True),
    *[Output(field, "invalid") for field in cb.FIELDS],
    *[Output(f"{field}-feedback", "children") for field in cb.FIELDS],
    Output(cb.ADD_PRICE, "value"),
    Output(cb.ADD_SHARE, "value"),
    Output(cb.SIZE, "value"),
    Input(cb.BREAKEVEN, "n_clicks"),
    Input(cb.REMOVE_APPLY, "n_clicks"),
    Input(cb.ADD_APPLY, "n_clicks"),
    Input(cb.SIZE_APPLY, "n_clicks"),
    State(cb.PICK, "value"),
    State(cb.REMOVE, "value"),
    State(cb.ADD_PRICE, "value"),
    State(cb.ADD_SHARE, "value"),
    State(cb.SIZE, "value"),
    State(cb.AMENDED, "data"),
    State("chart-view", "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def apply_action(
    _breakeven: int | None,
    _remove: int | None,
    _add: int | None,
    _size: int | None,
    picked: Any,
    remove: Any,
    add_price: Any,
    add_share: Any,
    size: Any,
    amended: int | None,
    view: dict | None,
) -> tuple[Any, ...]:
    """A panel button: amend the picked block (break-even, remove, add a target, resize)."""
    unchanged = (no_update,) * (2 + 2 * len(cb.FIELDS) + 3)
    if not clicked():
        return unchanged
    cleared = ((False,) * len(cb.FIELDS), ("",) * len(cb.FIELDS))
    if not isinstance(picked, int):
        return (cb.alert("Pick a block first.", "info"), no_update, *cleared[0], *cleared[1], *(no_update,) * 3)
    raw = _raw(ctx.triggered_id, remove, add_price, add_share, size)
    fields: dict[str, str] = {}
    if raw is None:
        fields = {cb.EMPTY[ctx.triggered_id]: "Enter a value first."}
        outcome: Any = []
    else:
        try:
            outcome = _amend(picked, raw, _tick(view))
        except BlockAccessError:
            return (cb.alert(f"Block #{picked} is not one of yours.", "danger"), no_update, *cleared[0], *cleared[1],
                    *(no_update,) * 3)  # fmt: skip
    bump = (amended or 0) + 1
    if isinstance(outcome, list):
        found, rest = cb.split_errors(outcome)
        fields |= found
        message = rest or "Not changed: see the field marked in red."
        invalid = [field in fields for field in cb.FIELDS]
        feedback = [fields.get(field, "") for field in cb.FIELDS]
        return (cb.alert(f"#{picked}: {message}", "danger"), bump, *invalid, *feedback, *(no_update,) * 3)
    return (outcome, bump, *cleared[0], *cleared[1], "", "", "")

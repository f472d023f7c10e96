"""Managing a placed block from the chart: what a drag of a live block's stop or target line asks
the engine (an amend, engine.blocks.api.amend_block), and the "Manage block" panel under the chart
(pick a block of the market shown; stop to break-even, remove a target, add one, resize what is not
filled yet). Pure helpers and layout here; the callbacks are in chart_blocks_callbacks.py.

A block line's shape name says what it is (pages/components/chart_shapes.py): tb-block-7-stop-34500
(the stop of the trades of block 7 at that price) and tb-block-7-target-0 (the target of trade 0).
The engine checks everything (ownership, tick, sides, sizes): a refusal comes back as its messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from engine.blocks.api import BlockAmend, BlockDetail, BlockSummary, FieldError
from engine.common.precision import format_number, round_price, to_decimal
from pages.components import block_amend, chart_shapes

AMENDED = "chart-block-amended"  # a counter bumped by every amend asked from the chart (redraws the lines)
NAMES = "cb-names"  # the panel's copy of the chart's shape names (only a trader's chart has the panel)
PICK, MESSAGE, DRAGGED = "cb-block", "cb-message", "cb-dragged"  # DRAGGED: the block whose line moved last
BREAKEVEN, REMOVE, REMOVE_APPLY = "cb-breakeven", "cb-remove", "cb-remove-apply"
ADD_PRICE, ADD_SHARE, ADD_APPLY = "cb-add-price", "cb-add-share", "cb-add-apply"
SIZE, SIZE_APPLY = "cb-size", "cb-size-apply"
# Where the engine's message of a field is shown; the others go to the panel's message.
FIELD_OF = {"add_target.price": ADD_PRICE, "add_target.share": ADD_SHARE, "size": SIZE, "remove_target": REMOVE}
FIELDS = (ADD_PRICE, ADD_SHARE, SIZE, REMOVE)
EMPTY = {REMOVE_APPLY: REMOVE, ADD_APPLY: ADD_PRICE, SIZE_APPLY: SIZE}  # the field a button needs filled
_SHAPE_Y = re.compile(r"^shapes\[(\d+)\]\.y([01])$")
_LINE = re.compile(r"^(\d+)-(stop|target)-(.+)$")


@dataclass(frozen=True)
class BlockLine:
    """A movable line of a placed block: its stop at `price` or the target of trade `index`."""

    block_id: int
    role: str  # "stop" or "target"
    index: int | None = None
    price: Decimal | None = None

    @property
    def label(self) -> str:
        part = "stop" if self.role == "stop" else f"T{(self.index or 0) + 1}"
        return f"#{self.block_id} {part}"


def block_line(name: str) -> BlockLine | None:
    """The block line a shape name stands for; None for entries, proposals and drawings."""
    if not name.startswith(chart_shapes.BLOCK_PREFIX):
        return None
    match = _LINE.match(name.removeprefix(chart_shapes.BLOCK_PREFIX))
    if match is None:
        return None
    block_id, role, rest = int(match.group(1)), match.group(2), match.group(3)
    try:
        if role == "stop":
            return BlockLine(block_id, "stop", price=to_decimal(rest))
        return BlockLine(block_id, role, int(rest))
    except (ValueError, ArithmeticError):
        return None


def dragged(relayout: Mapping[str, Any] | None, names: Sequence[str]) -> tuple[BlockLine, Any] | None:
    """The block line a relayout moved and its new y (the first one: a drag moves one shape)."""
    for key, y in (relayout or {}).items():
        match = _SHAPE_Y.match(key)
        if match is None or int(match.group(1)) >= len(names):
            continue
        line = block_line(names[int(match.group(1))])
        if line is not None:
            return line, (relayout or {}).get(f"shapes[{match.group(1)}].y0", y)
    return None


def price_at(y: Any, tick: str | None) -> Decimal | None:
    """A dragged line's y on the market's tick (a drag cannot hit one exactly); None if not a price."""
    try:
        price = to_decimal(y)
    except (ValueError, TypeError, ArithmeticError):
        return None
    if not price.is_finite() or price <= 0:
        return None
    return round_price(price, Decimal(tick) if tick else None)


def drag_amend(line: BlockLine, price: Decimal, detail: BlockDetail | None) -> dict[str, Any] | str:
    """The raw amend (engine.blocks.api.parse_amend's keys) a drag of `line` to `price` asks, or why
    the chart cannot ask it (a stop shared by some but not all live trades: /blocks moves those).
    A stop needs its block's `detail` (which trades hold it); a target does not."""
    if line.role == "target":
        return {"targets": [{"index": line.index, "price": str(price)}]}
    live = block_amend.live_trades(detail) if detail is not None else []
    held = [t.index for t in live if t.stop_price == line.price]
    if not held:
        return f"The stop of #{line.block_id} has moved meanwhile: look again."
    if len(held) == len(live):
        return {"stop_price": str(price)}
    if len(held) == 1:
        return {"stop_price": str(price), "stop_target": held[0]}
    trades = ", ".join(f"T{i + 1}" for i in held)
    return f"This stop is {trades}'s only: move it from Blocks (Amend…), one trade at a time."


def done_words(change: BlockAmend, tick: Decimal | None) -> str:
    """What an accepted amend did, in a few words: "stop moved to 34,000.00"."""
    parts = []
    if change.breakeven:
        parts.append("stop moved to break-even")
    if change.stop_price is not None:
        parts.append(f"stop moved to {format_number(change.stop_price, tick)}")
    parts.extend(f"T{i + 1} moved to {format_number(p, tick)}" for i, p in change.targets)
    if change.remove_target is not None:
        parts.append(f"T{change.remove_target + 1} removed")
    if change.add_target is not None:
        parts.append(f"target added at {format_number(change.add_target.price, tick)}")
    if change.size is not None:
        parts.append(f"unfilled size set to {format_number(change.size)}")
    return ", ".join(parts) or "nothing changed"


def refusal(errors: Sequence[FieldError]) -> str:
    return " ".join(dict.fromkeys(e.message for e in errors))


def split_errors(errors: Sequence[FieldError]) -> tuple[dict[str, str], str]:
    """(message per panel field id, what belongs to no field) of a refused amend."""
    fields: dict[str, str] = {}
    rest: list[FieldError] = []
    for error in errors:
        key = FIELD_OF.get(error.field)
        if key is None:
            rest.append(error)
        else:
            fields[key] = f"{fields[key]} {error.message}" if key in fields else error.message
    return fields, refusal(rest)


def choice_label(block: BlockSummary, tick: Decimal | None) -> str:
    """ "#7 long · entry 35,000.00 · active" for the block picker."""
    entry = "market" if block.entry_price is None else format_number(block.entry_price, tick)
    return f"#{block.id} {block.side.value} · entry {entry} · {block.status.value}"


def picked_block(wanted: Any, offered: Sequence[int]) -> int | None:
    """The block the panel manages: the one wanted if it is offered, else the only one offered."""
    if isinstance(wanted, int) and wanted in offered:
        return wanted
    return offered[0] if len(offered) == 1 else None


def block_ids(names: Sequence[str]) -> list[int]:
    """The blocks whose lines the chart shows, in their order."""
    found = (block_line(name) for name in names)
    return list(dict.fromkeys(line.block_id for line in found if line is not None))


def remove_options(detail: BlockDetail | None, tick: Decimal | None) -> list[dict[str, str]]:
    if detail is None:
        return []
    return [
        {"label": f"T{t.index + 1} at {format_number(t.target_price, tick)}", "value": str(t.index)}
        for t in block_amend.live_trades(detail)
    ]


def size_placeholder(detail: BlockDetail | None, amount_tick: Decimal | None) -> str:
    if detail is None:
        return "unfilled size"
    unfilled = block_amend.unfilled(detail)
    base = detail.block.symbol.split("/")[0]
    return f"now {format_number(unfilled, amount_tick)} {base}" if unfilled else "all filled"


def alert(text: str, color: str) -> dbc.Alert:
    return dbc.Alert(text, color=color, class_name="py-1 px-2 mb-2 small", id="cb-alert")


def stores() -> list[Any]:
    """In every chart's layout (the lines' callback listens to it, analysts' too)."""
    return [dcc.Store(id=AMENDED, data=0)]


def _field(field_id: str, placeholder: str, width: str) -> html.Div:
    return html.Div(
        [
            dbc.Input(id=field_id, type="text", inputMode="decimal", placeholder=placeholder, size="sm"),
            dbc.FormFeedback(id=f"{field_id}-feedback", type="invalid"),
        ],
        style={"width": width},
    )


def panel(trader: bool) -> list[Any]:
    """The "Manage block" card under a trader's chart (nothing for analysts: they place no block)."""
    if not trader:
        return []
    small = {"size": "sm", "n_clicks": 0}
    controls = [
        dcc.Dropdown(id=PICK, placeholder="Pick a placed block", clearable=False, style={"width": "19em"}),
        dbc.Button("Stop to break-even", id=BREAKEVEN, color="primary", outline=True, **small),
        html.Div(
            [
                dbc.Select(id=REMOVE, options=[], placeholder="target", size="sm", style={"width": "11em"}),
                dbc.FormFeedback(id=f"{REMOVE}-feedback", type="invalid"),
            ]
        ),
        dbc.Button("Remove target", id=REMOVE_APPLY, color="danger", outline=True, **small),
        _field(ADD_PRICE, "new target price", "9.5em"),
        _field(ADD_SHARE, "share %", "5.5em"),
        dbc.Button("Add target", id=ADD_APPLY, color="success", outline=True, **small),
        _field(SIZE, "unfilled size", "9.5em"),
        dbc.Button("Resize", id=SIZE_APPLY, color="secondary", outline=True, **small),
    ]
    hint = "Drag a placed block's stop (red) or target (green) line to move it; the exchange's orders follow."
    return [
        html.Div(
            [
                dcc.Store(id=NAMES),
                dcc.Store(id=DRAGGED),
                html.Div(id=MESSAGE),
                html.Div(controls, className="d-flex flex-wrap align-items-start gap-2"),
                html.Div(hint, className="small text-body-secondary mt-1"),
            ],
            id="chart-blocks",
            className="border rounded p-2 mt-2",
        )
    ]

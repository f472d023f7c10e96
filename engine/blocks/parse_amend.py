"""The parser for amends that enter from outside (the /blocks dialog, the REST API, the chart later):
raw values -> a BlockAmend, or one FieldError per wrong field, by the same number rules as a new
block's (engine.blocks.parse: exact decimals, a lone decimal comma read, ambiguous ones refused).

Keys (all optional; an empty value leaves that part alone):
- "stop_price": the new stop; "stop_target": the index (0-based) of the one trade whose stop moves
  (empty: every live trade); "breakeven": true moves the stop(s) to break-even instead;
- "targets": a list of {"index": i, "price": p} moves;
- "add_target_price", "add_target_share" (percent of the unfilled size; empty: an equal split);
- "remove_target": an index; "size": the new base amount of what is not filled yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks.amend_plan import BlockAmend, NewTarget
from engine.blocks.bounds import MAX_SHARE_PERCENT
from engine.blocks.fields import Errors, amount, empty, flag
from engine.blocks.plan import MAX_TARGETS, FieldError

FIELDS = (
    "stop_price",
    "stop_target",
    "breakeven",
    "targets",
    "add_target_price",
    "add_target_share",
    "remove_target",
    "size",
)
MAX_INDEX = 4 * MAX_TARGETS  # trade indexes grow as targets are added; far beyond any real block


def _index(errors: Errors, field: str, value: Any, label: str) -> int | None:
    if empty(value):
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INDEX:
        errors.add(field, f"{label} must be a target number from 0 to {MAX_INDEX}.")
        return None
    return value


def _moves(errors: Errors, raw: Any) -> tuple[tuple[int, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or len(raw) > MAX_INDEX or not all(isinstance(m, Mapping) for m in raw):
        errors.add("targets", 'Target moves come as a list of {"index": ..., "price": ...}.')
        return ()
    moves = []
    for move in raw:
        index = _index(errors, "targets", move.get("index"), "A moved target's index")
        if index is None:
            continue
        price = amount(errors, f"targets[{index}].price", move.get("price"), f"Target {index + 1} price")
        if price is None and f"targets[{index}].price" not in {e.field for e in errors}:
            errors.add(f"targets[{index}].price", f"Enter target {index + 1}'s new price.")
        if price is not None:
            moves.append((index, price))
    if len({i for i, _p in moves}) != len(moves):
        errors.add("targets", "Each target is moved once per amend.")
    return tuple(moves)


def parse_amend(raw: Mapping[str, Any]) -> BlockAmend | list[FieldError]:
    """A BlockAmend from raw values (keys: FIELDS), or every field's problem (one message each)."""
    errors = Errors()
    stop = amount(errors, "stop_price", raw.get("stop_price"), "Stop price")
    stop_trade = _index(errors, "stop_target", raw.get("stop_target"), "The stop's target")
    breakeven = flag(errors, "breakeven", raw.get("breakeven"), "Break-even")
    moves = _moves(errors, raw.get("targets"))
    add_price = amount(errors, "add_target.price", raw.get("add_target_price"), "The new target's price")
    add_share = amount(errors, "add_target.share", raw.get("add_target_share"), "The new target's share")
    if add_share is not None and add_share >= MAX_SHARE_PERCENT:
        errors.add("add_target.share", "The new target's share must be below 100%.")
    if add_share is not None and add_price is None:
        errors.add("add_target.price", "Enter the new target's price.")
    remove = _index(errors, "remove_target", raw.get("remove_target"), "The removed target")
    size = amount(errors, "size", raw.get("size"), "Size")
    if errors:
        return list(errors)
    added = NewTarget(add_price, None if add_share is None else add_share.scaleb(-2)) if add_price else None
    return BlockAmend(
        stop_price=stop,
        stop_trade=stop_trade,
        breakeven=breakeven,
        targets=moves,
        add_target=added,
        remove_target=remove,
        size=size,
    )

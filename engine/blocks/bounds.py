"""The one table of what a trade block's values may be, and the checks that apply it.

Used twice on purpose: by the parser (engine.blocks.parse) on whatever enters, and again by the
engine (engine.blocks.plan, engine.blocks.commands) on every BlockRequest, however it was built,
so that an out-of-range value is a FieldError and never an exception deep in Decimal arithmetic
or a database refusing what another database stored.

The bounds are the same on SQLite and PostgreSQL: money columns are Money(36, 18) (db/types.py),
so a value has at most 18 decimals and, with room for the products the engine stores (risk =
amount x price distance), at most 1e15; durations are stored in seconds in an Integer column
(signed 32 bits), and ten years of minutes fits it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from db.enums import EntryType, MarginMode, Side, SizeMode
from db.types import SCALE

MAX_VALUE = Decimal("1e15")  # prices, sizes, amounts and the money the engine derives (cost, risk)
MIN_VALUE = SCALE  # 1e-18: the smallest positive value a Money column keeps
DECIMALS = 18
MAX_MINUTES = 525_600 * 10  # ten years; x 60 seconds stays far below 2**31 - 1
MAX_SYMBOL_LENGTH = 64  # String(64) columns
MAX_NUMBER_TEXT = 64  # characters of a number written as text (longer is not a price)
MAX_SHARE_PERCENT = Decimal(100)
MAX_LEVERAGE = 1000  # above every venue's highest; the market's own limit is checked by the planner

__all__ = [
    "DECIMALS",
    "MAX_LEVERAGE",
    "MAX_MINUTES",
    "MAX_NUMBER_TEXT",
    "MAX_SHARE_PERCENT",
    "MAX_SYMBOL_LENGTH",
    "MAX_VALUE",
    "MIN_VALUE",
    "amount_problem",
    "leverage_problem",
    "range_problem",
    "request_problems",
    "seconds_problem",
    "symbol_problem",
]


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f")


def range_problem(value: Any, label: str) -> str | None:
    """Why a money value (price, size) is out of the storable range, or None. NaN, infinities, zero and
    negatives pass here: the planner names those itself ("Stop price must be a positive number")."""
    if isinstance(value, bool) or not isinstance(value, Decimal):
        return f"{label} must be a number."
    if not value.is_finite() or value <= 0:
        return None
    if value > MAX_VALUE:
        return f"{label} must be at most {_fmt(MAX_VALUE)}."
    if _decimals(value) > DECIMALS:
        return f"{label} may have at most {DECIMALS} decimals."
    return None


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def amount_problem(value: Any, label: str) -> str | None:
    """Why a value is not a positive money value within the range, or None when it is one."""
    if isinstance(value, Decimal) and not value.is_finite():
        return f"{label} must be a finite number."
    if isinstance(value, Decimal) and value <= 0:
        return f"{label} must be more than 0."
    return range_problem(value, label)


def seconds_problem(value: Any, label: str) -> str | None:
    """Why a duration in seconds (entry timeout, maximum duration) cannot be stored, or None. Zero and
    negatives pass here: the planner names those ("must be at least 1 second")."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{label} must be a whole number of minutes."
    if value > MAX_MINUTES * 60:
        return f"{label} must be at most {MAX_MINUTES} minutes (leave it empty for none)."
    return None


def leverage_problem(value: Any) -> str | None:
    """None for no leverage or a whole number from 1 to MAX_LEVERAGE; else why not."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LEVERAGE:
        return f"Leverage must be a whole number from 1 to {MAX_LEVERAGE} (or empty to keep the venue's)."
    return None


def symbol_problem(symbol: Any) -> str | None:
    """Why a symbol is not even text a market could have, or None (the markets table says if it exists)."""
    if not isinstance(symbol, str) or not symbol.strip():
        return "Pick a market symbol."
    if len(symbol) > MAX_SYMBOL_LENGTH:
        return f"A symbol has at most {MAX_SYMBOL_LENGTH} characters."
    if any(unicodedata.category(ch)[0] in ("C", "Z") and ch != " " for ch in symbol) or symbol != symbol.strip():
        return "A symbol may not contain control characters or surrounding spaces."
    return None


def _optional_range(errors: list[tuple[str, str]], name: str, value: Any, label: str) -> None:
    """Missing values are the planner's to name ("Enter the stop price."); present ones must be in range."""
    if value is None:
        return
    problem = range_problem(value, label)
    if problem is not None:
        errors.append((name, problem))


def _targets(errors: list[tuple[str, str]], targets: Sequence[Any]) -> None:
    for i, target in enumerate(targets):
        _optional_range(errors, f"targets[{i}].price", target.price, f"Target {i + 1} price")
        share, name = target.share, f"targets[{i}].share"
        if share is None:
            continue
        if isinstance(share, bool) or not isinstance(share, Decimal):
            errors.append((name, f"Target {i + 1} share must be a number."))
        elif share.is_finite() and share > 1:
            errors.append((name, f"Target {i + 1} share must be at most {_fmt(MAX_SHARE_PERCENT)}%."))
        elif share.is_finite() and _decimals(share) > DECIMALS + 2:  # a fraction: percent / 100
            errors.append((name, f"Target {i + 1} share may have at most {DECIMALS} decimals in percent."))


def request_problems(req: Any) -> list[tuple[str, str]]:
    """(field, message) for every value of a BlockRequest outside the table above; [] when all fit.

    Typed as Any so that a request built by hand with wrong types (a str side) is refused too."""
    errors: list[tuple[str, str]] = []
    if (problem := symbol_problem(req.symbol)) is not None:
        errors.append(("symbol", problem))
    for name, value, kind in (
        ("side", req.side, Side),
        ("entry_type", req.entry_type, EntryType),
        ("size_mode", req.size_mode, SizeMode),
    ):
        if not isinstance(value, kind):
            errors.append((name, f"Choose one of: {', '.join(k.value for k in kind)}."))
    _optional_range(errors, "entry_price", req.entry_price, "Entry price")
    if req.reference_price is not None and (problem := amount_problem(req.reference_price, "The current price")):
        errors.append(("entry_price", problem))  # from a feed, not the form, but a block is sized at it
    _optional_range(errors, "stop_price", req.stop_price, "Stop price")
    _optional_range(errors, "size_value", req.size_value, "Size")
    _targets(errors, req.targets)
    if not isinstance(req.breakeven_after_first_target, bool):
        errors.append(("breakeven", "Break-even after the first target is on or off."))
    for name, value, label in (
        ("entry_timeout_s", req.entry_timeout_s, "Entry timeout"),
        ("max_duration_s", req.max_duration_s, "Maximum duration"),
    ):
        if (problem := seconds_problem(value, label)) is not None:
            errors.append((name, problem))
    if (problem := leverage_problem(req.leverage)) is not None:
        errors.append(("leverage", problem))
    if req.margin_mode is not None and not isinstance(req.margin_mode, MarginMode):
        errors.append(("margin_mode", f"Choose one of: {', '.join(m.value for m in MarginMode)}."))
    return errors

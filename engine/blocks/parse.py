"""The one parser for trade blocks that enter from outside (the form's callbacks today; an API and
webhooks later): raw values as they arrive (str, int, float, None, or whatever a crafted request
puts there) -> a BlockRequest, or one FieldError per field that is wrong. Nothing is guessed:

- choices by their exact value only ("long", never "LONG", "", None or a default);
- numbers are finite decimals written plainly (no NaN, infinities, bools, lists, "1_000"), within
  engine.blocks.bounds (positive, at most 1e15, at most 18 decimals). A decimal comma is read only
  where it cannot mean anything else ("0,05" is 0.05); "1,000" (a thousands separator or 1.000?),
  "1,000.5" and "1.000,5" are refused with a message at the field, never read by dropping the comma;
- minutes are whole numbers from 1 to ten years (stored as seconds);
- target prices and shares come as two lists of the same length; shares are percents (25 = 25%);
- the symbol is text without control characters, of a bounded length.

Empty values (None, "") stay None, for the planner to name ("Enter the stop price."). The planner
checks the same bounds again, so a BlockRequest built by hand cannot get past them either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from db.enums import EntryType, Side, SizeMode
from engine.blocks.bounds import (
    MAX_MINUTES,
    MAX_NUMBER_TEXT,
    MAX_SHARE_PERCENT,
    amount_problem,
    symbol_problem,
)
from engine.blocks.plan import MAX_TARGETS, BlockRequest, FieldError, TargetSpec

# A decimal as people write one: digits, one optional point, an optional exponent. No "_", no "NaN".
# ASCII digits only: Decimal and int would read "٣" as 3.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
# A decimal comma: one comma, digits after it, no point, no exponent ("0,05", ",5").
_COMMA_NUMBER = re.compile(r"[+-]?[0-9]*,[0-9]+")
# ...that a thousands separator could have written too: 1 to 3 digits (no leading 0), then 3 digits.
_THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2},[0-9]{3}")
_ACCOUNT = re.compile(r"[0-9]{1,18}")
E = TypeVar("E", bound=StrEnum)

__all__ = ["FIELDS", "parse_account_id", "parse_block"]

# The keys parse_block reads; every other key is ignored.
FIELDS = (
    "symbol",
    "exchange",
    "side",
    "entry_type",
    "entry_price",
    "stop_price",
    "target_prices",
    "target_shares",
    "size_mode",
    "size_value",
    "breakeven",
    "entry_timeout_min",
    "max_duration_min",
)


class _Errors(list[FieldError]):
    def add(self, field: str, message: str) -> None:
        self.append(FieldError(field, message))


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _choice(errors: _Errors, field: str, value: Any, kind: type[E], label: str) -> E | None:
    if isinstance(value, str):
        for member in kind:
            if value == member.value:
                return member
    errors.add(field, f"{label} must be one of: {', '.join(m.value for m in kind)}.")
    return None


def _read_number(value: Any, label: str) -> tuple[Decimal | None, str | None]:
    """(the exact number in `value`, None), or (None, why it is not one, naming `label`)."""
    if isinstance(value, bool):
        return None, f"{label} must be a number."
    if isinstance(value, int):
        return Decimal(value), None
    if isinstance(value, float):
        # str() of a float is its shortest round-tripping form: 0.1 -> "0.1".
        finite = value == value and abs(value) != float("inf")
        return (Decimal(str(value)), None) if finite else (None, f"{label} must be a number.")
    if isinstance(value, Decimal):
        return (value, None) if value.is_finite() else (None, f"{label} must be a number.")
    if not isinstance(value, str) or len(value) > MAX_NUMBER_TEXT:
        return None, f"{label} must be a number."
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return Decimal(text), None
    if "," not in text:
        return None, f"{label} must be a number."
    if _THOUSANDS.fullmatch(text):
        whole, decimals = text.split(",")
        return None, (
            f'{label} "{text}" could mean {whole}{decimals} or {whole}.{decimals}: '
            "write it with a point for decimals and no thousands separator."
        )
    if _COMMA_NUMBER.fullmatch(text):
        return Decimal(text.replace(",", ".")), None  # the only reading of a lone decimal comma
    return None, f'{label} "{text}" is not a number: write it without thousands separators, with a point for decimals.'


def _amount(errors: _Errors, field: str, value: Any, label: str) -> Decimal | None:
    """A positive money value in range, None when empty; an error (and None) otherwise."""
    if _empty(value):
        return None
    number, problem = _read_number(value, label)
    if number is not None:
        problem = amount_problem(number, label)
    if problem is not None:
        errors.add(field, problem)
        return None
    return number


def _seconds(errors: _Errors, field: str, value: Any, label: str) -> int | None:
    """Whole minutes from 1 to MAX_MINUTES, as seconds; None when empty."""
    if _empty(value):
        return None
    number, problem = _read_number(value, label)
    if number is None and isinstance(value, str) and "," in value:
        errors.add(field, problem)  # the comma's own message says what to write instead
        return None
    if number is None or number != number.to_integral_value() or not 1 <= number <= MAX_MINUTES:
        errors.add(field, f"{label} must be a whole number of minutes from 1 to {MAX_MINUTES} (or empty for none).")
        return None
    return int(number) * 60


def _list(value: Any) -> list[Any] | None:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else None


def _targets(errors: _Errors, prices_raw: Any, shares_raw: Any) -> tuple[TargetSpec, ...]:
    prices, shares = _list(prices_raw), _list(shares_raw)
    if prices is None or shares is None:
        errors.add("targets", "Targets come as a list of prices and a list of shares.")
        return ()
    if len(prices) != len(shares):
        errors.add("targets", f"{len(prices)} target prices but {len(shares)} shares: give one share per target.")
        return ()
    if len(prices) > MAX_TARGETS:
        errors.add("targets", f"At most {MAX_TARGETS} profit targets; this block has {len(prices)}.")
        return ()
    specs = []
    for i, (price_raw, share_raw) in enumerate(zip(prices, shares, strict=True)):
        price = _amount(errors, f"targets[{i}].price", price_raw, f"Target {i + 1} price")
        share = _amount(errors, f"targets[{i}].share", share_raw, f"Target {i + 1} share")
        if share is not None and share > MAX_SHARE_PERCENT:
            errors.add(f"targets[{i}].share", f"Target {i + 1} share must be at most 100%.")
            share = None
        specs.append(TargetSpec(price, None if share is None else share.scaleb(-2)))
    return tuple(specs)


def _flag(errors: _Errors, field: str, value: Any, label: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    errors.add(field, f"{label} is on or off.")
    return False


def parse_block(raw: Mapping[str, Any]) -> BlockRequest | list[FieldError]:
    """A BlockRequest from raw values (keys: FIELDS), or every field's problem (one message each)."""
    errors = _Errors()
    symbol = raw.get("symbol")
    if (problem := symbol_problem(symbol)) is not None:
        errors.add("symbol", problem)
    exchange = raw.get("exchange")
    if exchange is not None and (problem := symbol_problem(exchange)) is not None:
        errors.add("exchange", problem.replace("Symbol", "Exchange").replace("symbol", "exchange"))
    side = _choice(errors, "side", raw.get("side"), Side, "Side")
    entry_type = _choice(errors, "entry_type", raw.get("entry_type"), EntryType, "Entry type")
    entry_price = _amount(errors, "entry_price", raw.get("entry_price"), "Entry price")
    stop_price = _amount(errors, "stop_price", raw.get("stop_price"), "Stop price")
    targets = _targets(errors, raw.get("target_prices"), raw.get("target_shares"))
    size_mode = _choice(errors, "size_mode", raw.get("size_mode"), SizeMode, "Size mode")
    size_value = _amount(errors, "size_value", raw.get("size_value"), "Size")
    breakeven = _flag(errors, "breakeven", raw.get("breakeven"), "Break-even after the first target")
    timeout = _seconds(errors, "entry_timeout_s", raw.get("entry_timeout_min"), "Entry timeout")
    duration = _seconds(errors, "max_duration_s", raw.get("max_duration_min"), "Maximum duration")
    if errors:
        return list(errors)
    assert side is not None
    assert entry_type is not None
    assert size_mode is not None
    assert isinstance(symbol, str)
    return BlockRequest(
        symbol=symbol,
        exchange=exchange,
        side=side,
        entry_type=entry_type,
        entry_price=entry_price,
        stop_price=stop_price,
        targets=targets,
        size_mode=size_mode,
        size_value=size_value,
        breakeven_after_first_target=breakeven,
        entry_timeout_s=timeout,
        max_duration_s=duration,
    )


def parse_account_id(value: Any) -> int | None:
    """An account id as a form or a request sends it (an int, or its digits as text); None otherwise
    (True is not account 1, nor 1.9)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value > 0 else None
    if isinstance(value, str) and _ACCOUNT.fullmatch(value):
        return int(value)
    return None

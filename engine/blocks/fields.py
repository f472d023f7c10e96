"""Readers of raw field values (str, int, float, None, or whatever a crafted request puts there)
into exact values, each problem collected as a FieldError at its field: the rules the block parser
(parse.py) and the amend parser (parse_amend.py) share, written once.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from engine.blocks.bounds import MAX_MINUTES, MAX_NUMBER_TEXT, amount_problem, leverage_problem
from engine.blocks.plan import FieldError

# A decimal as people write one: digits, one optional point, an optional exponent. No "_", no "NaN".
# ASCII digits only: Decimal and int would read "٣" as 3.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
# A decimal comma: one comma, digits after it, no point, no exponent ("0,05", ",5").
_COMMA_NUMBER = re.compile(r"[+-]?[0-9]*,[0-9]+")
# ...that a thousands separator could have written too: 1 to 3 digits (no leading 0), then 3 digits.
_THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2},[0-9]{3}")
E = TypeVar("E", bound=StrEnum)


class Errors(list[FieldError]):
    def add(self, field: str, message: str) -> None:
        self.append(FieldError(field, message))


def empty(value: Any) -> bool:
    return value is None or value == ""


def choice(errors: Errors, field: str, value: Any, kind: type[E], label: str) -> E | None:
    if isinstance(value, str):
        for member in kind:
            if value == member.value:
                return member
    errors.add(field, f"{label} must be one of: {', '.join(m.value for m in kind)}.")
    return None


def read_number(value: Any, label: str) -> tuple[Decimal | None, str | None]:
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


def amount(errors: Errors, field: str, value: Any, label: str) -> Decimal | None:
    """A positive money value in range, None when empty; an error (and None) otherwise."""
    if empty(value):
        return None
    number, problem = read_number(value, label)
    if number is not None:
        problem = amount_problem(number, label)
    if problem is not None:
        errors.add(field, problem)
        return None
    return number


def seconds(errors: Errors, field: str, value: Any, label: str) -> int | None:
    """Whole minutes from 1 to MAX_MINUTES, as seconds; None when empty."""
    if empty(value):
        return None
    number, problem = read_number(value, label)
    if number is None and isinstance(value, str) and "," in value:
        errors.add(field, problem)  # the comma's own message says what to write instead
        return None
    if number is None or number != number.to_integral_value() or not 1 <= number <= MAX_MINUTES:
        errors.add(field, f"{label} must be a whole number of minutes from 1 to {MAX_MINUTES} (or empty for none).")
        return None
    return int(number) * 60


def optional_choice(errors: Errors, field: str, value: Any, kind: type[E], label: str) -> E | None:
    """Like `choice`, with empty meaning "none chosen" (None)."""
    return None if empty(value) else choice(errors, field, value, kind, label)


def leverage(errors: Errors, field: str, value: Any) -> int | None:
    """A whole leverage (5, "5", "5x"); None when empty."""
    if empty(value):
        return None
    text = value.strip().removesuffix("x").removesuffix("X") if isinstance(value, str) else value
    number, _ = read_number(text, "Leverage")
    whole = int(number) if number is not None and number == number.to_integral_value() else None
    problem = leverage_problem(whole) if whole is not None else leverage_problem(0)
    if problem is not None:
        errors.add(field, problem)
        return None
    return whole


def as_list(value: Any) -> list[Any] | None:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else None


def flag(errors: Errors, field: str, value: Any, label: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    errors.add(field, f"{label} is on or off.")
    return False

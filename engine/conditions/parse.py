"""The one reader of conditions that come from outside (the form, the REST API): raw values ->
a ConditionSpec, or one FieldError per wrong field. Only the condition's own fields are read
here; the block it places is read by engine.blocks.api.parse_block (its errors are prefixed
"block."), and a `then` step is read by the same rules (its errors prefixed "then.").

Kinds: close_above / close_below (a closed candle of a watched series at a timeframe of its
pyramid), crosses (the last price reaching `price` from either side), at_time (`at`: an ISO 8601
time with its offset, or milliseconds since the epoch, UTC).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.blocks.api import MAX_VALUE, BlockRequest, FieldError, parse_account_id, parse_block

KINDS = ("close_above", "close_below", "crosses", "at_time")
PRICE_KINDS = ("close_above", "close_below", "crosses")
MAX_STEPS = 5  # a condition and at most four `then` steps after it
MAX_MS = 253_402_300_799_999  # 9999-12-31
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True)
class ConditionSpec:
    kind: str
    account_id: int
    block: dict[str, Any]  # the raw block fields, stored as they came (parse_block reads them again at fire time)
    request: BlockRequest
    series_id: int | None = None
    timeframe: str | None = None
    price: Decimal | None = None
    at_ms: int | None = None
    then: ConditionSpec | None = None


def _price(value: Any) -> Decimal | str:
    """A positive price written plainly, or why not."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        value = str(value)
    if not isinstance(value, str) or not _NUMBER.fullmatch(value.strip()):
        return "Enter the price as a positive number (a point for decimals, no separators)."
    number = Decimal(value.strip())
    if not 0 < number <= MAX_VALUE:
        return f"The price must be above 0 and at most {MAX_VALUE:,}."
    return number


def _moment(value: Any) -> int | str:
    """Milliseconds since the epoch (UTC) from an ISO time with offset or from milliseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MAX_MS else "The time is out of range."
    if not isinstance(value, str) or len(value) > 40:
        return "Enter the time as YYYY-MM-DDTHH:MM (UTC) or with its offset."
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return "Enter the time as YYYY-MM-DDTHH:MM (UTC) or with its offset."
    if moment.tzinfo is None:  # the form's datetime field says UTC
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _id(value: Any) -> int | None:
    found = parse_account_id(value)  # the same rule: a positive int, or its digits as text
    return found if found is not None and found < 2**31 else None


def parse_condition(raw: Mapping[str, Any], depth: int = 1) -> ConditionSpec | list[FieldError]:
    """A ConditionSpec from raw values (keys: kind, account_id, series_id, timeframe, price, at,
    block, then), or every field's problem."""
    errors: list[FieldError] = []
    kind = raw.get("kind")
    if kind not in KINDS:
        errors.append(FieldError("kind", f"The condition is one of: {', '.join(KINDS)}."))
    account_id = _id(raw.get("account_id"))
    if account_id is None:
        errors.append(FieldError("account", "Choose one of your accounts."))
    series_id = timeframe = price = at_ms = None
    if kind in PRICE_KINDS:
        series_id = _id(raw.get("series_id"))
        if series_id is None:
            errors.append(FieldError("series_id", "Choose a series of your watchlist."))
        read = _price(raw.get("price"))
        if isinstance(read, Decimal):
            price = read
        else:
            errors.append(FieldError("price", read))
    if kind in ("close_above", "close_below"):
        timeframe = raw.get("timeframe")
        if not isinstance(timeframe, str) or not timeframe:
            errors.append(FieldError("timeframe", "Choose the timeframe of the candle."))
            timeframe = None
    if kind == "at_time":
        when = _moment(raw.get("at"))
        at_ms = when if isinstance(when, int) else None
        if isinstance(when, str):
            errors.append(FieldError("at", when))
    block = raw.get("block")
    request: BlockRequest | None = None
    if not isinstance(block, Mapping):
        errors.append(FieldError("block", "The block to place is missing."))
    else:
        parsed = parse_block(block)
        if isinstance(parsed, list):
            errors.extend(FieldError(f"block.{e.field}", e.message) for e in parsed)
        else:
            request = parsed
    then = raw.get("then")
    step: ConditionSpec | None = None
    if then is not None:
        if not isinstance(then, Mapping):
            errors.append(FieldError("then", "The next step is a condition like this one."))
        elif depth >= MAX_STEPS:
            errors.append(FieldError("then", f"At most {MAX_STEPS} steps in a chain."))
        else:
            found = parse_condition(then, depth + 1)
            if isinstance(found, list):
                errors.extend(FieldError(f"then.{e.field}", e.message) for e in found)
            else:
                step = found
    if errors:
        return errors
    assert isinstance(kind, str)
    assert account_id is not None
    assert request is not None
    assert isinstance(block, Mapping)
    return ConditionSpec(kind, account_id, dict(block), request, series_id, timeframe, price, at_ms, step)

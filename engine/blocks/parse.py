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
- the symbol is text without control characters, of a bounded length;
- leverage is a whole number ("5" or "5x"), the margin mode one of MarginMode's values, both optional
  (derivatives only: the planner refuses them on spot).

Empty values (None, "") stay None, for the planner to name ("Enter the stop price."). The planner
checks the same bounds again, so a BlockRequest built by hand cannot get past them either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from db.enums import EntryType, MarginMode, Side, SizeMode
from engine.blocks.bounds import MAX_SHARE_PERCENT, symbol_problem
from engine.blocks.fields import Errors, amount, as_list, choice, flag, leverage, optional_choice, seconds
from engine.blocks.plan import MAX_TARGETS, BlockRequest, FieldError, TargetSpec

_ACCOUNT = re.compile(r"[0-9]{1,18}")

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
    "leverage",
    "margin_mode",
)


def _targets(errors: Errors, prices_raw: Any, shares_raw: Any) -> tuple[TargetSpec, ...]:
    prices, shares = as_list(prices_raw), as_list(shares_raw)
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
        price = amount(errors, f"targets[{i}].price", price_raw, f"Target {i + 1} price")
        share = amount(errors, f"targets[{i}].share", share_raw, f"Target {i + 1} share")
        if share is not None and share > MAX_SHARE_PERCENT:
            errors.add(f"targets[{i}].share", f"Target {i + 1} share must be at most 100%.")
            share = None
        specs.append(TargetSpec(price, None if share is None else share.scaleb(-2)))
    return tuple(specs)


def parse_block(raw: Mapping[str, Any]) -> BlockRequest | list[FieldError]:
    """A BlockRequest from raw values (keys: FIELDS), or every field's problem (one message each)."""
    errors = Errors()
    symbol = raw.get("symbol")
    if (problem := symbol_problem(symbol)) is not None:
        errors.add("symbol", problem)
    exchange = raw.get("exchange")
    if exchange is not None and (problem := symbol_problem(exchange)) is not None:
        errors.add("exchange", problem.replace("Symbol", "Exchange").replace("symbol", "exchange"))
    side = choice(errors, "side", raw.get("side"), Side, "Side")
    entry_type = choice(errors, "entry_type", raw.get("entry_type"), EntryType, "Entry type")
    entry_price = amount(errors, "entry_price", raw.get("entry_price"), "Entry price")
    stop_price = amount(errors, "stop_price", raw.get("stop_price"), "Stop price")
    targets = _targets(errors, raw.get("target_prices"), raw.get("target_shares"))
    size_mode = choice(errors, "size_mode", raw.get("size_mode"), SizeMode, "Size mode")
    size_value = amount(errors, "size_value", raw.get("size_value"), "Size")
    breakeven = flag(errors, "breakeven", raw.get("breakeven"), "Break-even after the first target")
    timeout = seconds(errors, "entry_timeout_s", raw.get("entry_timeout_min"), "Entry timeout")
    duration = seconds(errors, "max_duration_s", raw.get("max_duration_min"), "Maximum duration")
    times = leverage(errors, "leverage", raw.get("leverage"))
    margin_mode = optional_choice(errors, "margin_mode", raw.get("margin_mode"), MarginMode, "Margin mode")
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
        leverage=times,
        margin_mode=margin_mode,
    )


def parse_account_id(value: Any) -> int | None:
    """An account id as a form or a request sends it (an int, or its digits as text); None otherwise
    (True is not account 1, nor 1.9)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value > 0 else None
    if isinstance(value, str) and _ACCOUNT.fullmatch(value):
        return int(value)
    return None

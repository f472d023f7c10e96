"""The template a user saves for their webhook: how a TradingView alert becomes a trade block.

An alert brings a ticker, a close, maybe an action (buy/sell) and prices; the template says which
account trades, the side (fixed, or the alert's action), the entry type, where the entry, stop and
targets go - as prices the alert carries (`price`), as distances from the close (`distance`), or as
multiples of the ATR of the stored candles (`atr`) - and the size. `check_template` checks what the
user typed (one message per field, keyed by the template's field names); the block's own rules
(numbers, sizes, shares, timeouts) are engine.blocks' parse_block, run on a sample alert so the
same messages show at the template's fields. `block_fields` turns a template and an alert into the
raw fields parse_block reads: no block rule lives here.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.blocks.api import MAX_TARGETS, MAX_VALUE, parse_block
from engine.common.precision import round_price

SIDES = ("long", "short", "alert")
ENTRY_TYPES = ("market", "limit", "stop")
PRICE_MODES = ("price", "distance", "atr")
TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
# TradingView's published webhook senders (tradingview.com/support/solutions/43000529348).
TRADINGVIEW_IPS = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")
MAX_AGE_RANGE = (10, 3600)
RATE_RANGE = (1, 60)
ATR_PERIOD_RANGE = (2, 200)
MAX_ALLOWED_IPS = 32

# parse_block's field -> the template field its message belongs to.
_BLOCK_FIELD = {
    "entry_price": "entry",
    "stop_price": "stop",
    "target_prices": "targets",
    "target_shares": "shares",
    "size_mode": "size_mode",
    "size_value": "size_value",
    "entry_timeout_s": "entry_timeout_min",
    "max_duration_s": "max_duration_min",
    "side": "side",
    "entry_type": "entry_type",
    "breakeven": "breakeven",
}


@dataclass(frozen=True)
class Template:
    """A checked template. Numbers stay the text the user typed; parse_block reads them."""

    account_id: int
    side: str = "alert"
    entry_type: str = "market"
    price_mode: str = "distance"
    entry: str = ""
    stop: str = ""
    targets: tuple[str, ...] = ()
    shares: tuple[str, ...] = ()
    atr_timeframe: str = "1h"
    atr_period: int = 14
    size_mode: str = "risk_pct"
    size_value: str = "1"
    breakeven: bool = False
    entry_timeout_min: str = ""
    max_duration_min: str = ""
    max_age_s: int = 120
    rate_per_min: int = 6
    allowed_ips: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _whole(errors: dict[str, str], raw: Mapping[str, Any], name: str, default: int, bounds: tuple[int, int]) -> int:
    value = raw.get(name, default)
    text = _text(value)
    if text == "":
        return default
    if isinstance(value, bool) or not text.isdigit() or not bounds[0] <= int(text) <= bounds[1]:
        errors[name] = f"A whole number from {bounds[0]} to {bounds[1]}."
        return default
    return int(text)


def _choice(errors: dict[str, str], raw: Mapping[str, Any], name: str, options: tuple[str, ...], default: str) -> str:
    value = raw.get(name, default)
    if value not in options:
        errors[name] = f"One of: {', '.join(options)}."
        return default
    return str(value)


def positive(value: str) -> Decimal | None:
    """A distance or ATR multiple: a plain positive decimal within the blocks' bounds, else None."""
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and 0 < number <= MAX_VALUE else None


def _list(raw: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = raw.get(name)
    if isinstance(value, str):
        value = list(value.replace(";", ",").split(","))
    if not isinstance(value, list | tuple):
        return ()
    return tuple(_text(v) for v in value if _text(v) != "")


def _ips(errors: dict[str, str], raw: Mapping[str, Any]) -> tuple[str, ...]:
    words = _text(
        raw.get("allowed_ips") if not isinstance(raw.get("allowed_ips"), list) else " ".join(raw["allowed_ips"])
    )
    found: list[str] = []
    for word in words.replace(",", " ").split():
        if word.lower() == "tradingview":
            found.extend(TRADINGVIEW_IPS)
            continue
        try:
            found.append(str(ipaddress.ip_network(word, strict=False)))
        except ValueError:
            errors["allowed_ips"] = f'"{word[:50]}" is not an IP address or network (or the word "tradingview").'
            return ()
    unique = tuple(dict.fromkeys(found))
    if len(unique) > MAX_ALLOWED_IPS:
        errors["allowed_ips"] = f"At most {MAX_ALLOWED_IPS} addresses or networks."
        return ()
    return unique


def _offsets(errors: dict[str, str], t: Template) -> None:
    """Distances and ATR multiples must be positive numbers; prices come from the alert."""
    if t.price_mode == "price":
        return
    kind = "distance from the close" if t.price_mode == "distance" else "ATR multiple"
    named = [("stop", t.stop), *(("targets", v) for v in t.targets)]
    if t.entry_type != "market":
        named.append(("entry", t.entry))
    for name, value in named:
        if positive(value) is None and name not in errors:
            errors[name] = (
                f"Enter the {kind} as a positive number."
                if value == ""
                else f'"{value[:30]}" is not a positive number.'
            )


def check_template(raw: Mapping[str, Any]) -> Template | dict[str, str]:
    """The template, or {field: message} for every field that is wrong."""
    errors: dict[str, str] = {}
    account = _text(raw.get("account_id"))
    if not account.isdigit() or len(account) > 18:
        errors["account_id"] = "Pick the account the alerts trade."
    targets, shares = _list(raw, "targets"), _list(raw, "shares")
    if len(targets) > MAX_TARGETS:
        errors["targets"] = f"At most {MAX_TARGETS} targets."
    t = Template(
        account_id=int(account) if "account_id" not in errors else 0,
        side=_choice(errors, raw, "side", SIDES, "alert"),
        entry_type=_choice(errors, raw, "entry_type", ENTRY_TYPES, "market"),
        price_mode=_choice(errors, raw, "price_mode", PRICE_MODES, "distance"),
        entry=_text(raw.get("entry")),
        stop=_text(raw.get("stop")),
        targets=targets,
        shares=shares,
        atr_timeframe=_choice(errors, raw, "atr_timeframe", TIMEFRAMES, "1h"),
        atr_period=_whole(errors, raw, "atr_period", 14, ATR_PERIOD_RANGE),
        size_mode=_text(raw.get("size_mode")) or "risk_pct",
        size_value=_text(raw.get("size_value")),
        breakeven=raw.get("breakeven") is True,
        entry_timeout_min=_text(raw.get("entry_timeout_min")),
        max_duration_min=_text(raw.get("max_duration_min")),
        max_age_s=_whole(errors, raw, "max_age_s", 120, MAX_AGE_RANGE),
        rate_per_min=_whole(errors, raw, "rate_per_min", 6, RATE_RANGE),
        allowed_ips=_ips(errors, raw),
    )
    if shares and len(shares) != len(targets):
        errors["shares"] = "Give one share per target, or none (equal shares)."
    _offsets(errors, t)
    for name, message in _sample_errors(t).items():
        errors.setdefault(name, message)
    return errors or t


def _sample_errors(t: Template) -> dict[str, str]:
    """The block's own rules (parse_block) on a sample alert at 100 with an ATR of 1: sizes,
    shares, timeouts. Prices are the alert's (checked when it comes), offsets checked above."""
    count = max(len(t.targets), len(t.shares), 1)
    sample = {"close": "100", "entry": "100", "stop": "90", "targets": ["110"] * count}
    side = "long" if t.side == "alert" else t.side
    parsed = parse_block(block_fields(t, sample, side, "SAMPLE/USDT", "sample", Decimal(1), None))
    found: dict[str, str] = {}
    for error in parsed if isinstance(parsed, list) else []:
        if error.field.endswith(".share"):
            found.setdefault("shares", error.message)
        elif error.field in _BLOCK_FIELD and _BLOCK_FIELD[error.field] not in ("entry", "stop", "targets"):
            found.setdefault(_BLOCK_FIELD[error.field], error.message)
    if t.size_value == "":
        found.setdefault("size_value", "Enter the size.")
    return found


def load_template(text: str) -> Template | None:
    """A stored template (saved through check_template), None when there is none yet."""
    try:
        raw = json.loads(text or "{}")
    except ValueError:
        return None
    if not raw:
        return None
    checked = check_template(raw)
    return checked if isinstance(checked, Template) else None


def _signed(base: Decimal, distance: Decimal, up: bool) -> Decimal:
    return base + distance if up else base - distance


def _offset(t: Template, value: str, atr: Decimal | None) -> Decimal | None:
    number = positive(value)
    if number is None:
        return None
    if t.price_mode == "atr":
        return None if atr is None else number * atr
    return number


def block_fields(
    t: Template,
    alert: Mapping[str, Any],
    side: str,
    symbol: str,
    exchange: str,
    atr: Decimal | None,
    tick: Decimal | None,
) -> dict[str, Any]:
    """The raw fields parse_block reads, for an alert that already named its side and symbol.
    A long's stop is below its entry and its targets above (a short's the other way); a limit
    entry waits below the close for a long (above for a short), a stop entry above (below)."""
    long = side == "long"
    close = alert.get("close")
    if t.price_mode == "price":
        entry, stop = alert.get("entry", close), alert.get("stop")
        raw_targets = alert.get("targets", alert.get("target"))
        targets = list(raw_targets) if isinstance(raw_targets, list) else [raw_targets]
        targets = targets[: max(len(t.shares), 1)] if t.shares else targets
    else:
        base = positive(_text(close))
        entry_at = base
        if base is not None and t.entry_type != "market":
            gap = _offset(t, t.entry, atr)
            entry_at = None if gap is None else _signed(base, gap, long == (t.entry_type == "stop"))
        ref = entry_at if entry_at is not None else base
        stop_gap = _offset(t, t.stop, atr)
        stop = None if ref is None or stop_gap is None else _round(_signed(ref, stop_gap, not long), tick)
        targets = []
        for value in t.targets:
            gap = _offset(t, value, atr)
            targets.append(None if ref is None or gap is None else _round(_signed(ref, gap, long), tick))
        entry = None if entry_at is None else _round(entry_at, tick)
    shares: list[Any] = list(t.shares) if t.shares else [None] * len(targets)
    return {
        "symbol": symbol,
        "exchange": exchange,
        "side": side,
        "entry_type": t.entry_type,
        "entry_price": None if t.entry_type == "market" else entry,
        "stop_price": stop,
        "target_prices": targets,
        "target_shares": shares,
        "size_mode": t.size_mode,
        "size_value": t.size_value,
        "breakeven": t.breakeven,
        "entry_timeout_min": t.entry_timeout_min or None,
        "max_duration_min": t.max_duration_min or None,
    }


def _round(value: Decimal, tick: Decimal | None) -> str:
    """A computed price as text parse_block reads: at the market's tick (the plan rounds to it
    too), else at 8 decimals, never more than the blocks' bounds allow."""
    return str(round_price(value, tick) if tick else value.quantize(Decimal("1e-8")))

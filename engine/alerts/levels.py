"""The crossing rules of price alerts, pure: which way an alert goes (from the price when it is
set), whether a price seen or a candle's high or low has crossed its level, and the alert in words."""

from __future__ import annotations

from decimal import Decimal

from db.enums import AlertDirection
from engine.common.precision import format_number

_VERB = {
    AlertDirection.ABOVE: "crosses above",
    AlertDirection.BELOW: "crosses below",
    AlertDirection.CROSSES: "crosses",
}


def direction_for(level: Decimal, last: Decimal | None) -> AlertDirection | None:
    """A level above the last price waits for the price to rise to it, one below for it to fall;
    without a price yet, either way (from the first price seen). None: the price is at the level."""
    if last is None:
        return AlertDirection.CROSSES
    if level > last:
        return AlertDirection.ABOVE
    if level < last:
        return AlertDirection.BELOW
    return None


def already_past(direction: AlertDirection, level: Decimal, last: Decimal | None) -> bool:
    """Whether an alert of this direction would fire at once on the price now."""
    if last is None or direction is AlertDirection.CROSSES:
        return False
    return crossed(direction, level, None, last)


def crossed(direction: AlertDirection, level: Decimal, reference: Decimal | None, price: Decimal) -> bool:
    """Whether `price` has crossed `level`; a "crosses" alert goes from `reference` (the price when
    it was set or first seen: never met without one, unless the price is exactly at the level)."""
    if direction is AlertDirection.ABOVE:
        return price >= level
    if direction is AlertDirection.BELOW:
        return price <= level
    if price == level:
        return True
    return reference is not None and (reference < level <= price or reference > level >= price)


def reached(
    direction: AlertDirection, level: Decimal, reference: Decimal | None, high: Decimal, low: Decimal
) -> Decimal | None:
    """The extreme of candles ranging [low, high] that crossed `level` (the high for a level above,
    the low for one below), or None: a wick counts as TradingView's alerts count it. A "crosses"
    alert goes the way its reference says; without one it waits for a price."""
    if direction is AlertDirection.CROSSES:
        if reference is None:
            return None
        direction = AlertDirection.ABOVE if reference < level else AlertDirection.BELOW
        if reference == level:
            return level
    if direction is AlertDirection.ABOVE:
        return high if high >= level else None
    return low if low <= level else None


def describe(symbol: str, direction: AlertDirection, level: Decimal, tick: Decimal | None) -> str:
    """ "BTC/USDT crosses above 70,000.00"."""
    return f"{symbol} {_VERB[direction]} {format_number(level, tick)}"

"""Exact rounding of prices and amounts to a market's precision (tick sizes), in Decimal.

Every rounding that reaches an order goes through here, so the direction is always chosen on
purpose: amounts round DOWN (never buy or sell more than intended or owned), prices round to the
nearest tick unless a side needs a safe direction (a break-even stop for a long rounds UP).
A tick of None means the market publishes no precision: values pass through unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from contextlib import AbstractContextManager
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    InvalidOperation,
    localcontext,
)

# Wide enough that dividing or multiplying real prices and amounts by a tick is exact: the default
# context (28 digits) could round 1e10 / 1e-18 and make a "rounded down" value overshoot.
WIDE_PRECISION = 60


class RoundMode(enum.StrEnum):
    NEAREST = "nearest"  # half a tick rounds up, as exchanges do
    UP = "up"  # towards +infinity
    DOWN = "down"  # towards -infinity


_DECIMAL_ROUNDING = {RoundMode.NEAREST: ROUND_HALF_UP, RoundMode.UP: ROUND_CEILING, RoundMode.DOWN: ROUND_FLOOR}


def to_decimal(x: Decimal | int | float | str) -> Decimal:
    """An exact Decimal from a str, int, float (through its shortest repr) or Decimal.

    Raises ValueError for NaN, infinities, booleans and text that is not a number.
    """
    if isinstance(x, bool):
        raise ValueError(f"{x!r} is not a number")
    if isinstance(x, Decimal):
        value = x
    elif isinstance(x, int):
        value = Decimal(x)
    elif isinstance(x, float | str):
        # str() of a float is its shortest round-tripping form: 0.1 -> "0.1", not 0.1000000000000000055...
        try:
            value = Decimal(str(x).strip())
        except InvalidOperation:
            raise ValueError(f"{x!r} is not a number") from None
    else:
        raise TypeError(f"cannot make a Decimal from {type(x).__name__}")
    if not value.is_finite():
        raise ValueError(f"{x!r} is not a finite number")
    return value


def _check_tick(tick: Decimal) -> None:
    if not tick.is_finite() or tick <= 0:
        raise ValueError(f"tick size must be a positive number, got {tick}")


def quantize_to_tick(value: Decimal, tick: Decimal | None, rounding: str) -> Decimal:
    """`value` rounded to a whole multiple of `tick`, with a `decimal` rounding constant
    (ROUND_DOWN, ROUND_FLOOR, ROUND_CEILING, ROUND_HALF_UP, ...). Ticks need not be powers of ten
    (0.5, 25 work too).

    Raises ValueError when `value` is not finite or has more whole steps than WIDE_PRECISION digits
    (1e58 at a tick of 0.01): callers bound their inputs (engine.blocks.bounds), this is the backstop."""
    if tick is None:
        return value
    _check_tick(tick)
    if not value.is_finite():
        raise ValueError(f"cannot round {value} to a tick")
    ctx = Context(prec=WIDE_PRECISION)
    try:
        # Whole steps with exponent 0, so the result carries the tick's exponent: 20 at tick 0.001 is 20.000, not 2E+1.
        steps = ctx.divide(value, tick).quantize(Decimal(1), rounding=rounding, context=ctx)
    except InvalidOperation:
        raise ValueError(f"{value} has too many steps of {tick} to round exactly") from None
    return ctx.multiply(steps, tick)


def is_multiple_of_tick(value: Decimal, tick: Decimal | None) -> bool:
    """Whether `value` sits exactly on the tick grid (always true without a tick)."""
    if tick is None:
        return True
    _check_tick(tick)
    return Context(prec=WIDE_PRECISION).remainder(value, tick) == 0


def round_amount(amount: Decimal, tick: Decimal | None) -> Decimal:
    """Amount rounded DOWN (towards zero) to the amount tick: never more than intended or owned."""
    return quantize_to_tick(amount, tick, ROUND_DOWN)


def round_price(price: Decimal, tick: Decimal | None, mode: RoundMode = RoundMode.NEAREST) -> Decimal:
    """Price rounded to the price tick: to the nearest tick, or UP / DOWN when a side needs a safe direction."""
    return quantize_to_tick(price, tick, _DECIMAL_ROUNDING[RoundMode(mode)])


def divide(numerator: Decimal, denominator: Decimal, mode: RoundMode) -> Decimal:
    """numerator / denominator at wide precision, the last digit rounded in a chosen direction.

    Used where an inexact quotient must err on a known side: a size divided out of a risk budget
    rounds DOWN so that the rounded size never risks more than the budget.
    """
    if denominator == 0:
        raise ZeroDivisionError("division by zero")
    rounding = ROUND_HALF_UP if mode is RoundMode.NEAREST else _DECIMAL_ROUNDING[mode]
    return Context(prec=WIDE_PRECISION, rounding=rounding).divide(numerator, denominator)


def multiply(a: Decimal, b: Decimal) -> Decimal:
    """a * b, exact for any realistic money values (wide precision, no silent rounding)."""
    return Context(prec=WIDE_PRECISION).multiply(a, b)


def wide_context() -> AbstractContextManager[Context]:
    """A decimal context in which sums and differences of money values stay exact."""
    return localcontext(Context(prec=WIDE_PRECISION))


def split_amount(total: Decimal, count: int, shares: Sequence[Decimal] | None, tick: Decimal | None) -> list[Decimal]:
    """`total` split into `count` parts by `shares` (None = equal): every part but the last is
    rounded DOWN to the tick; the last takes the remainder, so the parts add up to `total` exactly."""
    if count < 1:
        raise ValueError("split into at least one part")
    if shares is not None and len(shares) != count:
        raise ValueError("one share per part")
    if shares is None:
        parts = [round_amount(divide(total, Decimal(count), RoundMode.DOWN), tick) for _ in range(count - 1)]
    else:
        parts = [round_amount(multiply(total, s), tick) for s in shares[:-1]]
    with wide_context():
        return [*parts, total - sum(parts, Decimal(0))]


CENTS = Decimal("0.01")


def format_number(value: Decimal, step: Decimal | None = None, mode: RoundMode = RoundMode.NEAREST) -> str:
    """`value` as people read it: thousands separators, no exponent, rounded to `step` (a market's
    tick, or CENTS for money) and shown with the step's decimals; without a step, exactly, without
    trailing zeros. The one number formatter of messages and previews (33,249,000,000,000, 8,999.01)."""
    # normalized: a tick read from PostgreSQL's NUMERIC carries its scale (0.010000000000000000)
    shown = value.normalize() if step is None else round_price(value, step.normalize(), mode)
    return f"{shown:,f}"


def format_money(value: Decimal, mode: RoundMode = RoundMode.NEAREST) -> str:
    """Quote money in cents with thousands separators: 8999.0182846664 -> 8,999.02."""
    return format_number(value, CENTS, mode)


# Currencies held as cash: their balances read in cents. Any other coin reads to the satoshi.
CASH_CURRENCIES = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI", "EUR", "GBP", "JPY", "CHF"})
COIN_STEP = Decimal("0.00000001")


def format_balance(value: Decimal, currency: str) -> str:
    """A balance as people read it, with its currency: cash in cents (8,033.14 USDT), a coin to
    eight decimals without trailing zeros (0.0123 BTC), so a small coin balance never reads 0.00."""
    if currency.upper() in CASH_CURRENCIES:
        return f"{format_money(value)} {currency}"
    shown = round_price(value, COIN_STEP, RoundMode.NEAREST).normalize()
    return f"{shown:,f} {currency}"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """ "1 trade", "2 trades", "1,200 trades" ("1 series", "3 series" with `many`): the one place
    counts meet their nouns."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"

"""Exact realized P&L of trades, in Decimal: profit after fees, R multiples, average fill prices,
and the break-even stop price. Pure functions.

Fees are in the quote currency (what ccxt reports for most linear markets); a venue that charges
the fee in the base coin must convert it to quote before calling these.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Context, Decimal, localcontext

from db.enums import Side
from engine.precision import WIDE_PRECISION, RoundMode, divide, round_price


def realized_pnl(side: Side, entry_price: Decimal, exit_price: Decimal, amount: Decimal, fees: Decimal) -> Decimal:
    """Quote money made: long (exit - entry) x amount - fees; short (entry - exit) x amount - fees."""
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    with localcontext(Context(prec=WIDE_PRECISION)):
        move = exit_price - entry_price if Side(side) is Side.LONG else entry_price - exit_price
        return move * amount - fees


def r_multiple(pnl: Decimal, risk: Decimal) -> Decimal | None:
    """P&L in units of the money that was at risk (1R = lost exactly the planned risk); None without a risk."""
    if risk <= 0:
        return None
    return divide(pnl, risk, RoundMode.NEAREST)


def average_price(fills: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Volume-weighted average price of (price, amount) fills. ValueError when nothing filled."""
    notional, volume = Decimal(0), Decimal(0)
    with localcontext(Context(prec=WIDE_PRECISION)):
        for price, amount in fills:
            if amount < 0:
                raise ValueError(f"fill amount must not be negative, got {amount}")
            notional += price * amount
            volume += amount
    if volume == 0:
        raise ValueError("no filled amount to average")
    return divide(notional, volume, RoundMode.NEAREST)


def breakeven_price(side: Side, avg_entry: Decimal, fee_rate: Decimal, tick: Decimal | None = None) -> Decimal:
    """The exit (stop) price at which the trade loses nothing after paying `fee_rate` on both the
    entry and the exit notional, rounded safely to `tick`: UP for a long, DOWN for a short.

    Long: (X - E) - f E - f X = 0, so X = E (1 + f) / (1 - f). Short: X = E (1 - f) / (1 + f).
    """
    if not 0 <= fee_rate < 1:
        raise ValueError(f"fee rate must be in [0, 1), got {fee_rate}")
    one = Decimal(1)
    with localcontext(Context(prec=WIDE_PRECISION)):
        if Side(side) is Side.LONG:
            exact = divide(avg_entry * (one + fee_rate), one - fee_rate, RoundMode.UP)
            return round_price(exact, tick, RoundMode.UP)
        exact = divide(avg_entry * (one - fee_rate), one + fee_rate, RoundMode.DOWN)
        return round_price(exact, tick, RoundMode.DOWN)

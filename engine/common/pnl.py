"""The P&L of an open position at a price, exact: one formula for the portfolio's positions and the
blocks table's open trades; and which funding payments are money of the P&L (the calendar's days
and a block's own P&L both ask)."""

from __future__ import annotations

from decimal import Decimal

from db.enums import Side
from engine.common.precision import wide_context
from engine.common.symbols import SymbolError, parse_symbol


def unrealized(side: Side, entry: Decimal, last: Decimal, amount: Decimal) -> Decimal:
    """What `amount` bought (long) or sold (short) at `entry` gains or loses at `last`, fees aside."""
    with wide_context():
        move = last - entry if side is Side.LONG else entry - last
        return move * amount


def funding_counted(symbol: str, currency: str) -> bool:
    """Whether funding paid in `currency` on `symbol` counts in the P&L: in the symbol's quote
    currency, what every other P&L figure is in. One in another currency (an inverse perpetual's
    coin) is stored but left out, unvalued, as a fee in a third currency is."""
    try:
        return parse_symbol(symbol).quote == currency
    except SymbolError:
        return False

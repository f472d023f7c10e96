"""The P&L of an open position at a price, exact: one formula for the portfolio's positions and the
blocks table's open trades."""

from __future__ import annotations

from decimal import Decimal

from db.enums import Side
from engine.common.precision import wide_context


def unrealized(side: Side, entry: Decimal, last: Decimal, amount: Decimal) -> Decimal:
    """What `amount` bought (long) or sold (short) at `entry` gains or loses at `last`, fees aside."""
    with wide_context():
        move = last - entry if side is Side.LONG else entry - last
        return move * amount

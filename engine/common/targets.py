"""When a price reaches a trade's target: the one rule, for the bracket rules (engine.blocks.rules,
which close the trade there) and the ticker watchers (engine.exchanges.push_tickers, which ask for
that sync the moment a pushed price reaches it)."""

from __future__ import annotations

from decimal import Decimal

from db.enums import Side


def target_reached(side: Side, last: Decimal, target: Decimal) -> bool:
    """A long's target is reached at or above it, a short's at or below it."""
    return last >= target if side is Side.LONG else last <= target

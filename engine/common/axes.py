"""How far a value axis shown to people spans: the equity curve and its drawdown, drawn by the
calendar's chart (pages) and the report's SVG (engine.reports), so a dip reads the same in both.

Autoscaling alone would stretch a 0.28 dip on 10,000 over the whole height and make it look like a
crash, so the equity axis spans at least EQUITY_MIN_SHARE of the equity. A drawdown panel shows
nothing but the falls, so it is scaled to the deepest one, with a smaller floor (DRAWDOWN_MIN_SHARE)
that keeps a few cents of noise from filling the panel.
"""

from __future__ import annotations

from decimal import Decimal

EQUITY_MIN_SHARE = Decimal("0.02")
DRAWDOWN_MIN_SHARE = Decimal("0.001")
MIN_SPAN = Decimal(1)  # and never less than one unit of money
_HEADROOM = Decimal("1.25")  # the deepest fall sits at 80 % of the drawdown panel's height


def equity_span(low: Decimal, high: Decimal, level: Decimal) -> Decimal:
    """The span of an equity axis over values from `low` to `high` around equity `level`."""
    return max(high - low, abs(level) * EQUITY_MIN_SHARE, MIN_SPAN)


def drawdown_floor(deepest: Decimal, level: Decimal) -> Decimal:
    """The bottom of a drawdown axis (its top is 0) whose deepest fall (<= 0) is `deepest`."""
    return min(deepest * _HEADROOM, -max(abs(level) * DRAWDOWN_MIN_SHARE, MIN_SPAN))

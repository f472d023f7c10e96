"""engine.common.axes: an equity axis keeps a small dip small; a drawdown axis is scaled to the
deepest fall, with a floor that keeps cents of noise from filling the panel."""

from __future__ import annotations

from decimal import Decimal

from engine.common.axes import drawdown_floor, equity_span


def test_an_equity_axis_spans_at_least_two_percent_of_the_equity() -> None:
    assert equity_span(Decimal("9999.72"), Decimal(10_000), Decimal(10_000)) == 200
    assert equity_span(Decimal(9_000), Decimal(10_500), Decimal(10_000)) == 1_500  # a real range is kept
    assert equity_span(Decimal(0), Decimal("0.2"), Decimal(0)) == 1  # never under one unit of money


def test_a_drawdown_axis_follows_the_deepest_fall() -> None:
    # The report's 8.20 on 10,464 is drawn to -10.46, not to -200 (2 % of the equity) where it was a flat line.
    assert drawdown_floor(Decimal("-8.20"), Decimal("10464.60")) == Decimal("-10.46460")
    assert drawdown_floor(Decimal(-500), Decimal(10_000)) == -625  # the deepest fall at 80 % of the height
    assert drawdown_floor(Decimal("-0.28"), Decimal(10_000)) == -10  # cents of noise stay small
    assert drawdown_floor(Decimal(0), Decimal(0)) == -1

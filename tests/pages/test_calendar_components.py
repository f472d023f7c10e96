"""The calendar pages' formatting rules: percentages and R that round to zero keep a significant
digit, counts agree with their nouns, and every grid and header uses them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.portfolio import calendar as cal
from engine.portfolio.bookings import DayTotal
from pages.components import calendar as calc

D = Decimal


def texts(component: object) -> list[str]:
    """Every string in a Dash component tree."""
    if isinstance(component, str):
        return [component]
    children = getattr(component, "children", None)
    if children is None:
        return []
    if isinstance(children, list | tuple):
        return [t for c in children for t in texts(c)]
    return texts(children)


@pytest.mark.parametrize(
    ("value", "mode", "shown"),
    [
        (D("-0.0028"), "percent", "-0.003%"),  # a -0.28 loss on 10 000: not "-0.00%"
        (D("0.0041"), "percent", "+0.004%"),
        (D("0.000000123"), "percent", "+0.0000001%"),
        (D("-0.004"), "r", "-0.004R"),
        (D("1.234"), "percent", "+1.23%"),  # ordinary values keep two places
        (D("0.005"), "percent", "+0.005%"),  # prints 0.00 at two places (half to even)
        (D("0.0051"), "percent", "+0.01%"),  # rounds to a non-zero figure already
        (D(0), "percent", "+0.00%"),  # zero is zero
    ],
)
def test_small_values_never_read_as_zero(value: Decimal, mode: str, shown: str) -> None:
    assert calc.fmt_value(value, mode) == shown


def test_small_ratios_in_percent_keep_a_significant_digit() -> None:
    assert calc.fmt_ratio(D("0.0000028"), pct=True) == "0.0003%"  # a 0.28 dip on 10 000 equity
    assert calc.fmt_ratio(D("0.25"), pct=True) == "25.0%"
    assert calc.fmt_ratio(0.5, pct=True) == "50.0%"


def test_counts_are_pluralized_in_cells_week_totals_and_headers() -> None:
    assert [calc.plural(n, "trade") for n in (0, 1, 2)] == ["0 trades", "1 trade", "2 trades"]
    totals = {date(2024, 6, 3): DayTotal(date(2024, 6, 3), D(5), D(0), 1, None)}
    month = cal.build_month(2024, 6, totals, {}, "money")
    week = next(w for w in month.weeks if w.trades)
    assert "1 trade" in texts(calc.month_grid(month, "money"))
    assert "1 trade" in texts(calc._week_total(week, "money"))
    header = " ".join(texts(calc.month_total(month, "money")))
    assert "1 trade ·" in header
    assert "1 win day" in header
    assert "0 loss days" in header
    assert "1 trades" not in " ".join(texts(calc.year_total([month], "money")))

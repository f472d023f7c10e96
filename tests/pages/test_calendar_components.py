"""The calendar pages' formatting rules: percentages and R that round to zero keep a significant
digit, counts agree with their nouns, and every grid and header uses them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from db.enums import Side
from engine.market.api import Ticks
from engine.portfolio import calendar as cal
from engine.portfolio.api import Booking, CurvePoint, DayTrade
from engine.portfolio.bookings import DayTotal
from engine.portfolio.stats import StatDay, TradeResult, summarize
from engine.portfolio.views import ExitFill
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


def point(day: date, equity: str, peak: str | None = None) -> CurvePoint:
    return CurvePoint(day, D(equity), D(equity) - D(peak or equity))


def test_an_empty_equity_curve_says_so_instead_of_drawing_a_bare_axis() -> None:
    fig = calc.equity_figure([], dark=False)
    assert fig.data == ()
    assert fig.layout.annotations[0].text == "No equity data for this period"
    assert fig.layout.yaxis.visible is False  # no "1, 1, 0, -1, -1" ticks
    assert fig.layout.xaxis.visible is False


def test_a_single_equity_point_gets_a_day_either_side_and_distinct_ticks() -> None:
    fig = calc.equity_figure([point(date(2024, 12, 5), "10000")], dark=False)
    assert tuple(fig.layout.xaxis.range) == ("2024-12-04", "2024-12-06")  # days, not milliseconds
    assert fig.layout.xaxis.dtick == 86_400_000
    assert fig.data[1].mode == "lines+markers"  # a point that shows
    low, high = fig.layout.yaxis.range
    assert low < 10000 < high
    assert high - low >= 200  # 2% of the equity: ticks of ",.0f" are distinct there
    assert fig.layout.yaxis.tickformat == ",.0f"


@pytest.mark.parametrize("equity", ["10000", "0.5"])
def test_a_tiny_dip_is_drawn_tiny(equity: str) -> None:
    base = D(equity)
    days = [date(2024, 6, d) for d in (3, 4, 5)]
    curve = [point(days[0], equity), point(days[1], str(base - D("0.28")), equity), point(days[2], equity)]
    low, high = calc.equity_figure(curve, dark=False).layout.yaxis.range
    # The shaded dip takes a small share of the height, not all of it as autorange would draw it.
    assert D("0.28") / (D(str(high)) - D(str(low))) < D("0.3")
    # Tick labels of the chosen format differ at plotly's ~5 ticks over the range.
    decimals = int(calc.equity_axes(curve)[2][2:-1])
    step = (high - low) / 5
    assert round(step, decimals) != 0


def test_the_statistics_panel_follows_the_unit_switch() -> None:
    trades = [TradeResult(1, "BTC/USDT", date(2024, 1, 1), D(30), D(1), pct=D("0.3"), r=D(3)),
              TradeResult(2, "BTC/USDT", date(2024, 1, 2), D(-10), D(1), pct=D("-0.1"), r=D(-1))]  # fmt: skip
    series = [StatDay(date(2024, 1, 1), D(30), D(10000), D("0.3"), D(3)),
              StatDay(date(2024, 1, 2), D(-10), D(10030), D("-0.0997"), D(-1))]  # fmt: skip
    shown = {}
    for unit in ("money", "percent", "r"):
        panel = calc.stats_panel(summarize(trades, series, D(2), D(10000), unit))
        shown[unit] = " | ".join(texts(panel))
    assert "+20.00" in shown["money"]
    assert "+3.00R" in shown["r"]  # largest win in R
    assert "+2.00R" in shown["r"]  # net in R
    assert "+30.00" not in shown["r"]
    assert "+0.30%" in shown["percent"]  # largest win in %
    assert "+20.00" not in shown["percent"]
    for unit in ("percent", "r"):
        assert "2.00" in shown[unit]  # fees are money in every unit


def test_a_days_trades_show_prices_and_amounts_in_the_markets_precision() -> None:
    booking = Booking(date(2024, 6, 3), 7, 3, "BTC/USDT", Side.LONG, Decimal("10.123456789"), Decimal("0.1"),
                      1, Decimal(20), Decimal("41234.5678912345"), Decimal(41300), Decimal("0.0123456"))  # fmt: skip
    exits = (ExitFill(0, Decimal("41300.0049"), Decimal("0.0123456"), Decimal("10.123456789")),)
    shown = " ".join(
        texts(calc.day_table(date(2024, 6, 3), [DayTrade(booking, exits, Ticks(Decimal("0.01"), Decimal("0.0001")))]))
    )
    assert "41,234.57" in shown  # the entry average at the price tick, not 41234.5678912345
    assert "0.0123 @ 41,300.00" in shown
    assert "10.12" in shown
    assert "10.123" not in shown

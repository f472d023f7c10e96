"""pages.components.admin_overview: money to the cent with its sign (never "-0.00"), volume per
currency, last seen in the admin's timezone, the period choice, and the chart's empty state."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from engine.portfolio.api import DeskOverview, TotalDay
from pages.components import admin_overview as ov

D = Decimal


def test_money_is_shown_to_the_cent_with_its_sign() -> None:
    assert ov.signed_money(D("8033.1367680664")) == "+8,033.14"
    assert ov.signed_money(D("-0.28")) == "-0.28"
    assert ov.signed_money(D("-0.004")) == "0.00"
    assert ov.signed_money(D("0.005")) == "+0.01"  # half up, as format_money rounds
    assert ov.volume_text([("BTC", D("0.1020")), ("USDT", D("12345.675"))]) == "0.10 BTC · 12,345.68 USDT"
    assert ov.volume_text([]) == "—"


def test_last_seen_is_in_the_admins_timezone_and_periods_end_today() -> None:
    seen = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    assert ov.seen_text(seen, "Europe/Berlin") == "2026-04-01 00:30"
    assert ov.seen_text(None, "UTC") == "never"
    today = date(2026, 3, 31)
    assert ov.period_range("7", today) == (date(2026, 3, 25), today)
    assert ov.period_range("bogus", today) == (date(2026, 3, 2), today)  # the default, 30 days


def test_the_chart_has_an_empty_state_and_cents_in_its_hover() -> None:
    days = (TotalDay(date(2026, 3, 1), D(0), D(0)), TotalDay(date(2026, 3, 2), D(0), D(0)))
    empty = ov.totals_figure(
        DeskOverview(date(2026, 3, 1), date(2026, 3, 2), (), days, {"day": 0, "week": 0}, 0, 0), False
    )
    assert empty.data == ()
    assert empty.layout.annotations[0].text == "No realized P&L in this period"
    days = (TotalDay(date(2026, 3, 1), D("-1.255"), D("-1.255")), TotalDay(date(2026, 3, 2), D("3.5"), D("2.245")))
    fig = ov.totals_figure(
        DeskOverview(date(2026, 3, 1), date(2026, 3, 2), (), days, {"day": 0, "week": 0}, 0, 0), True
    )
    bars, line = fig.data
    assert list(bars.customdata) == ["-1.26", "+3.50"]
    assert list(line.customdata) == ["-1.26", "+2.25"]
    assert fig.layout.xaxis.dtick == 86_400_000

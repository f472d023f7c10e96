"""The backtest page's pure builders: the form's fields read into a checked ask (each bad field a
message), the progress label, parse errors as a list, a run's grid row, its statistics (money in
cents), the equity and drawdown figure of one or two runs, and the side-by-side view."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from engine.replay.api import FillVariant, RowError, RunKind, RunReport, RunStatus, RunSummary, RunTrade
from pages.components import backtest as bc
from pages.components import backtest_report as br

DAY = 86_400_000
JAN_2 = 1_704_153_600_000  # 2024-01-02 00:00 UTC


def summary(run_id: int = 1, name: str = "Breakouts", net: str = "1234.5678") -> RunSummary:
    return RunSummary(
        id=run_id, kind=RunKind.BACKTEST, status=RunStatus.DONE, name=name, account_id=40 + run_id,
        exchange="demo", timeframe="1m", symbols=("BTC/USDT",), start_ms=JAN_2, end_ms=JAN_2 + 3 * DAY,
        cursor_ms=JAN_2 + 3 * DAY, variant=FillVariant(), blocks=2, trades_closed=2, net_pnl=Decimal(net),
        bars_done=4320, bars_total=4320, error=None, created_at=datetime(2024, 1, 5, tzinfo=UTC),
    )  # fmt: skip


def report(run_id: int = 1, name: str = "Breakouts") -> RunReport:
    trade = RunTrade(block_id=3, trade_id=9, symbol="BTC/USDT", side="long", opened_ms=JAN_2 + 3_600_000,
                     closed_ms=JAN_2 + 7_200_000, entry_price=Decimal("42000.5"), exit_price=Decimal("43000"),
                     amount=Decimal("0.01"), net_pnl=Decimal("9.995"), close_reason="target")  # fmt: skip
    equity = [(JAN_2, Decimal(10_000)), (JAN_2 + 7_200_000, Decimal("10009.995"))]
    drawdown = [(JAN_2, Decimal(0)), (JAN_2 + 7_200_000, Decimal("-1.25"))]
    return RunReport(summary=summary(run_id, name), trades=[trade], equity=equity, drawdown=drawdown,
                     starting_equity=Decimal(10_000), win_rate=Decimal("66.6667"), profit_factor=None,
                     max_drawdown_pct=Decimal("-1.25"))  # fmt: skip


def test_the_form_reads_a_checked_ask_with_the_variant() -> None:
    ask, errors = bc.read_ask("demo", "15m", "2024-01-02", "2024-01-03", "  Mine ", False, "2,5")
    assert errors == {}
    assert ask is not None
    assert (ask.start_ms, ask.end_ms) == (JAN_2, JAN_2 + 2 * DAY)  # the last day is included
    assert ask.name == "Mine"
    assert ask.variant() == FillVariant(limit_requires_trade_through=False, slippage_bps=Decimal("2.5"))
    assert bc.ask_from_params(ask.as_params()) == ask
    whole, _ = bc.read_ask("demo", "1m", None, None, "", True, "")
    assert whole is not None
    assert (whole.start_ms, whole.end_ms, whole.name, whole.slippage_bps) == (None, None, None, "0")


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        (("demo", "1m", None, None, None, True, "-1"), "slippage", "from 0 to 1000"),
        (("demo", "1m", None, None, None, True, "lots"), "slippage", "basis points"),
        (("demo", "1m", "2024-01-05", "2024-01-02", None, True, "0"), "period", "ends before it starts"),
        (("demo", "1m", "yesterday", None, None, True, "0"), "period", "not dates"),
        ((None, "1m", None, None, None, True, "0"), "exchange", "stored history"),
        (("demo", "7m", None, None, None, True, "0"), "timeframe", "Choose a timeframe"),
    ],
)
def test_each_bad_field_says_why_and_no_ask_is_made(fields: tuple, field: str, says: str) -> None:
    ask, errors = bc.read_ask(*fields)
    assert ask is None
    assert says in errors[field]


def test_an_upload_is_decoded_or_refused_with_a_message() -> None:
    data = b"time,symbol\n"
    assert bc.decode_upload("data:text/csv;base64," + base64.b64encode(data).decode(), "b.csv") == (data, "b.csv")
    with pytest.raises(ValueError, match="Choose a blocks file"):
        bc.decode_upload(None, None)
    with pytest.raises(ValueError, match="damaged"):
        bc.decode_upload("data:text/csv;base64,@@@", "b.csv")


def test_progress_reads_bars_done_of_all() -> None:
    assert bc.progress_label(12_345, 525_600) == (2, "12,345 / 525,600 bars")
    assert bc.progress_label(0, 0) == (0, "0 / 0 bars")


def test_row_errors_are_a_list_by_line() -> None:
    alert = bc.row_errors([RowError(4, "stop", "must be below the entry"), RowError(7, "time", "not a time")])
    text = str(alert.children)
    assert "line 4 stop: must be below the entry" in text
    assert "line 7 time: not a time" in text
    assert "no run was made" in text


def test_a_runs_row_shows_money_in_cents_and_its_period() -> None:
    row = bc.run_row(summary())
    assert row["net_pnl"] == "1,234.57"
    assert row["period"] == "2024-01-02 – 2024-01-04"
    assert (row["kind"], row["status"], row["trades"], row["bars"]) == ("backtest", "done", 2, "4,320 / 4,320")


def test_statistics_are_formatted_and_none_reads_as_a_dash() -> None:
    stats = dict(br.statistics(report()))
    assert stats["Win rate"] == "66.67 %"
    assert stats["Profit factor"] == "–"
    assert stats["Net P&L"] == "1,234.57"
    assert stats["Max drawdown"] == "-1.25 %"
    assert br.trade_row(report().trades[0])["net_pnl"] == "10.00"


def test_one_run_is_a_report_and_two_are_compared_on_one_chart() -> None:
    one = br.equity_figure([report()], dark=False)
    assert [t.name for t in one.data] == ["Breakouts", "Breakouts drawdown"]
    assert list(one.data[0].y) == [10_000.0, 10_009.995]
    dark = br.equity_figure([report()], True)
    assert one.layout.template.layout.paper_bgcolor != dark.layout.template.layout.paper_bgcolor
    two = br.equity_figure([report(1, "Touch"), report(2, "Trade-through")], dark=True)
    assert [t.name for t in two.data if "drawdown" not in t.name] == ["Touch", "Trade-through"]
    view = br.compare_view(report(1, "Touch"), report(2, "Trade-through"), dark=False)
    text = str(view)
    assert "Touch" in text
    assert "Trade-through" in text
    assert "/calendar?account=41" in text
    assert "/calendar?account=42" in text
    single = str(br.report_view(report(), dark=False))
    assert "/calendar?account=41" in single
    assert "bt-trades" in single

"""The journal's trade list on the real database: only the user's trades, open and closed, newest
first, every filter, paging with a count, P&L in money / % / R as the calendar computes them, the
unrealized P&L of open trades at the engine's last price, and the cumulative profit curve."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from db.enums import CloseReason, Side, TradeStatus
from db.models import Trade
from engine.journal.api import TradeFilter, cumulative_profit, save_journal, trade_page
from engine.portfolio import views as pv
from engine.runtime import Runtime
from tests.helpers.portfolio import add_account, add_close, add_trade, ms
from tests.helpers.trading import add_user

D = Decimal


@pytest.fixture
def desk(runtime: Runtime) -> dict[str, int]:
    """Alice: three closed trades (a win, a loss on ETH short, a win) and one open; Bob: one trade."""
    alice, bob = add_user(runtime.sessions, "alice"), add_user(runtime.sessions, "bob")
    acc, bob_acc = add_account(runtime.sessions, alice), add_account(runtime.sessions, bob)
    ids = {"alice": alice, "bob": bob}
    ids["win"] = add_trade(runtime.sessions, alice, acc, ms("2024-05-01 10:00"), [(ms("2024-05-01 14:00"), "110")])
    ids["loss"] = add_trade(
        runtime.sessions, alice, acc, ms("2024-05-02 10:00"), [(ms("2024-05-03 09:30"), "104")],
        symbol="ETH/USDT", side=Side.SHORT, risk="8", exit_fee="0.5",
    )  # fmt: skip
    ids["late"] = add_trade(runtime.sessions, alice, acc, ms("2024-05-05 08:00"), [(ms("2024-05-06 08:00"), "103")])
    ids["open"] = add_trade(runtime.sessions, alice, acc, ms("2024-05-07 08:00"), [])
    ids["bob_trade"] = add_trade(
        runtime.sessions, bob, bob_acc, ms("2024-05-04 08:00"), [(ms("2024-05-04 09:00"), "90")]
    )
    add_close(runtime.sessions, alice, acc, date(2024, 4, 30), "1000")
    return ids


def block_of(runtime: Runtime, trade_id: int) -> int:
    with runtime.sessions() as s:
        trade = s.get(Trade, trade_id)
        assert trade is not None
        return trade.block_id


def ids(page: object) -> list[int]:
    return [r.trade_id for r in page.rows]  # type: ignore[attr-defined]


def test_a_user_sees_only_their_trades_open_and_closed_newest_first(runtime: Runtime, desk: dict) -> None:
    page = trade_page(runtime, desk["alice"], "UTC", TradeFilter())
    assert ids(page) == [desk["open"], desk["late"], desk["loss"], desk["win"]]
    assert page.total == 4
    assert page.pages == 1
    assert ids(trade_page(runtime, desk["bob"], "UTC", TradeFilter())) == [desk["bob_trade"]]
    assert page.symbols == ["BTC/USDT", "ETH/USDT"]


def test_pending_and_canceled_trades_never_entered_are_not_listed(runtime: Runtime, desk: dict) -> None:
    with runtime.sessions.begin() as s:
        s.execute(update(Trade).where(Trade.id == desk["open"]).values(status=TradeStatus.PENDING))
    assert desk["open"] not in ids(trade_page(runtime, desk["alice"], "UTC", TradeFilter()))


def test_figures_in_money_percent_and_r_follow_the_calendar(runtime: Runtime, desk: dict) -> None:
    rows = {r.trade_id: r for r in trade_page(runtime, desk["alice"], "UTC", TradeFilter()).rows}
    win, loss = rows[desk["win"]], rows[desk["loss"]]
    assert win.pnl == D(10)
    assert win.r == D(1)
    assert win.pct == D(1)  # 10 of the 1,000 at the start of 1 May
    assert win.exit_price == D(110)
    assert win.entry_price == D(100)
    assert win.duration == timedelta(hours=4)
    assert win.close_reason is CloseReason.TARGET
    assert loss.side is Side.SHORT
    assert loss.pnl == D("-4.5")
    assert loss.r == D("-4.5") / D(8)
    assert loss.fees == D("0.5")
    # The same % as the calendar's trade results for that period.
    period = pv.load_period(runtime, desk["alice"], "UTC", date(2024, 5, 1), date(2024, 5, 6))
    results = {t.trade_id: t for t in pv.trade_results(period.bookings, period.equity)}
    assert loss.pct == results[desk["loss"]].pct
    assert win.pct == results[desk["win"]].pct


def test_open_trades_carry_unrealized_pnl_at_the_last_price(runtime: Runtime, desk: dict) -> None:
    row = next(r for r in trade_page(runtime, desk["alice"], "UTC", TradeFilter("open")).rows)
    assert row.status is TradeStatus.OPEN
    assert row.unrealized_pnl is None
    assert row.pct is None
    runtime.trading.last_prices[("demo", "BTC/USDT")] = D("97.5")
    try:
        row = trade_page(runtime, desk["alice"], "UTC", TradeFilter("open")).rows[0]
    finally:
        runtime.trading.last_prices.clear()
    assert row.unrealized_pnl == D("-2.5")
    assert row.duration is None


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (TradeFilter("open"), ["open"]),
        (TradeFilter("closed"), ["late", "loss", "win"]),
        (TradeFilter(symbol="ETH/USDT"), ["loss"]),
        (TradeFilter(side=Side.SHORT), ["loss"]),
        (TradeFilter(outcome="win"), ["late", "win"]),
        (TradeFilter(outcome="loss"), ["loss"]),
        (TradeFilter(first=date(2024, 5, 3), last=date(2024, 5, 6)), ["late", "loss"]),
        (TradeFilter(last=date(2024, 5, 2)), ["win"]),
        (TradeFilter("closed", first=date(2024, 5, 6)), ["late"]),
    ],
)
def test_filters(runtime: Runtime, desk: dict, flt: TradeFilter, expected: list[str]) -> None:
    page = trade_page(runtime, desk["alice"], "UTC", flt)
    assert ids(page) == [desk[k] for k in expected]
    assert page.total == len(expected)


def test_date_filters_are_the_users_local_days(runtime: Runtime, desk: dict) -> None:
    # The win closed at 14:00 UTC on 1 May: 04:00 on 2 May in Kiritimati (UTC+14).
    may2 = TradeFilter(first=date(2024, 5, 2), last=date(2024, 5, 2))
    assert ids(trade_page(runtime, desk["alice"], "Pacific/Kiritimati", may2)) == [desk["win"]]
    assert (
        ids(trade_page(runtime, desk["alice"], "UTC", TradeFilter(first=date(2024, 5, 2), last=date(2024, 5, 2)))) == []
    )


def test_setup_and_tag_filters(runtime: Runtime, desk: dict) -> None:
    save_journal(runtime, desk["alice"], block_of(runtime, desk["win"]), "Breakout", "", "News, fomo")
    save_journal(runtime, desk["alice"], block_of(runtime, desk["late"]), "Pullback", "", "news")
    assert ids(trade_page(runtime, desk["alice"], "UTC", TradeFilter(setup="Breakout"))) == [desk["win"]]
    assert ids(trade_page(runtime, desk["alice"], "UTC", TradeFilter(tag="news"))) == [desk["late"], desk["win"]]
    assert ids(trade_page(runtime, desk["alice"], "UTC", TradeFilter(tag=" NEWS "))) == [desk["late"], desk["win"]]
    page = trade_page(runtime, desk["alice"], "UTC", TradeFilter(tag="fomo"))
    assert ids(page) == [desk["win"]]
    assert page.rows[0].tags == ("fomo", "news")
    assert page.rows[0].setup == "Breakout"
    assert page.setups == ["Breakout", "Pullback"]
    assert page.tags == ["fomo", "news"]
    # Bob's options never show Alice's setups or tags.
    bob = trade_page(runtime, desk["bob"], "UTC", TradeFilter())
    assert bob.setups == []
    assert bob.tags == []


def test_paging_with_a_count_and_a_last_page_clamped(runtime: Runtime, desk: dict) -> None:
    first = trade_page(runtime, desk["alice"], "UTC", TradeFilter(), page=0, per_page=3)
    second = trade_page(runtime, desk["alice"], "UTC", TradeFilter(), page=1, per_page=3)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (4, 2, 3, 1)
    assert ids(second) == [desk["win"]]
    beyond = trade_page(runtime, desk["alice"], "UTC", TradeFilter(), page=99, per_page=3)
    assert beyond.page == 1
    assert ids(beyond) == [desk["win"]]
    empty = trade_page(runtime, desk["alice"], "UTC", TradeFilter(symbol="DOGE/USDT"))
    assert empty.rows == []
    assert empty.total == 0
    assert empty.page == 0


def test_newest_first_breaks_ties_by_id(runtime: Runtime, desk: dict) -> None:
    same = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)
    with runtime.sessions.begin() as s:
        s.execute(update(Trade).where(Trade.id == desk["win"]).values(closed_at=same))
    closed = ids(trade_page(runtime, desk["alice"], "UTC", TradeFilter("closed")))
    assert closed[:2] == sorted([desk["win"], desk["late"]], reverse=True)


def test_cumulative_profit_of_the_filtered_closed_trades(runtime: Runtime, desk: dict) -> None:
    points = cumulative_profit(runtime, desk["alice"], "UTC", TradeFilter())
    assert [p.trade_id for p in points] == [desk["win"], desk["loss"], desk["late"]]
    assert [p.cumulative for p in points] == [D(10), D("5.5"), D("8.5")]
    assert points[0].at.tzinfo is not None
    assert [p.cumulative for p in cumulative_profit(runtime, desk["alice"], "UTC", TradeFilter(outcome="win"))] == [
        D(10),
        D(13),
    ]
    assert cumulative_profit(runtime, desk["alice"], "UTC", TradeFilter("open")) == []
    assert cumulative_profit(runtime, desk["bob"], "UTC", TradeFilter())[0].cumulative == D(-10)

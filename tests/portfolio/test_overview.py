"""engine.portfolio.overview on the real database: users active in the last day and week (enabled,
disabled), blocks per user (total, live, placed and closed in the period), traded volume exact in
Decimal per quote currency, realized P&L in each user's own trading days, the desk's daily totals
and their running sum, agreement with the P&L overview, and a query count that does not grow with
the number of users."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, update

from db.enums import BlockStatus
from db.models import Block, Trade, User
from engine.portfolio import api as portfolio
from engine.runtime import Runtime
from tests.helpers.portfolio import add_account, add_trade, ms
from tests.helpers.trading import add_user

D = Decimal
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)


def user(runtime: Runtime, name: str, tz: str = "UTC", **values: object) -> tuple[int, int]:
    uid = add_user(runtime.sessions, name)
    with runtime.sessions.begin() as s:
        s.execute(update(User).where(User.id == uid).values(timezone=tz, **values))
    return uid, add_account(runtime.sessions, uid)


def block_of(runtime: Runtime, trade_id: int, **values: object) -> None:
    with runtime.sessions.begin() as s:
        block_id = s.get_one(Trade, trade_id).block_id
        s.execute(update(Block).where(Block.id == block_id).values(**values))


def rows(overview: portfolio.DeskOverview) -> dict[str, portfolio.UserFigures]:
    return {u.username: u for u in overview.users}


def test_activity_counts_users_seen_in_the_last_day_and_week(runtime: Runtime) -> None:
    user(runtime, "hour", last_seen_at=NOW - timedelta(hours=1))
    user(runtime, "edge", last_seen_at=NOW - timedelta(hours=23, minutes=59))
    user(runtime, "twodays", last_seen_at=NOW - timedelta(days=2))
    user(runtime, "old", last_seen_at=NOW - timedelta(days=8))
    user(runtime, "never")
    user(runtime, "gone", is_active=False, last_seen_at=NOW - timedelta(days=3))
    view = portfolio.desk_overview(runtime, FIRST, LAST, NOW)
    assert view.active == {"day": 2, "week": 4}
    assert (view.enabled, view.disabled) == (5, 1)
    by_name = rows(view)
    assert list(by_name) == ["edge", "gone", "hour", "never", "old", "twodays"]  # by username
    assert by_name["hour"].last_seen_at == NOW - timedelta(hours=1)
    assert by_name["hour"].last_seen_at.utcoffset() == timedelta(0)  # type: ignore[union-attr]
    assert by_name["never"].last_seen_at is None
    assert by_name["gone"].is_active is False
    # Five days on, "twodays" was seen a week ago exactly: no longer "in the last week" ("gone" neither).
    later = NOW + timedelta(days=5)
    assert portfolio.desk_overview(runtime, FIRST, LAST, later).active == {"day": 0, "week": 2}
    just_before = later - timedelta(microseconds=1)
    assert portfolio.desk_overview(runtime, FIRST, LAST, just_before).active == {"day": 0, "week": 3}


def test_volume_is_the_exact_filled_notional_of_entries_and_exits_per_quote_currency(runtime: Runtime) -> None:
    uid, acc = user(runtime, "alice")
    # 3 x 0.1 in, 1.5 x 0.2 + 1.5 x 0.3 out: 0.3 + 0.3 + 0.45 = 1.05 exactly (floats: 1.0500000000000003).
    add_trade(runtime.sessions, uid, acc, ms("2026-03-02 10:00"),
              [(ms("2026-03-02 11:00"), "0.2"), (ms("2026-03-03 11:00"), "0.3")], entry="0.1", amount="3")  # fmt: skip
    add_trade(runtime.sessions, uid, acc, ms("2026-03-04 10:00"), [(ms("2026-03-04 11:00"), "0.1")],
              entry="0.2", amount="0.1")  # fmt: skip
    # Another quote currency: its own figure, never added to USDT.
    add_trade(runtime.sessions, uid, acc, ms("2026-03-05 10:00"), [(ms("2026-03-05 11:00"), "0.051")],
              symbol="ETH/BTC", entry="0.05", amount="2", risk="0.01")  # fmt: skip
    # A perpetual settles in USDT: its notional is USDT too.
    add_trade(runtime.sessions, uid, acc, ms("2026-03-06 10:00"), [(ms("2026-03-06 11:00"), "101")],
              symbol="BTC/USDT:USDT", entry="100", amount="0.01")  # fmt: skip
    # Fills outside the period count for nothing (entry in February, exit in April).
    add_trade(runtime.sessions, uid, acc, ms("2026-02-27 10:00"), [(ms("2026-04-01 00:00"), "5")])
    alice = rows(portfolio.desk_overview(runtime, FIRST, LAST, NOW))["alice"]
    usdt = D("1.05") + D("0.02") + D("0.01") + D("1") + D("1.01")
    assert alice.volume == (("BTC", D("0.1") + D("0.102")), ("USDT", usdt))
    assert [type(v) for _, v in alice.volume] == [Decimal, Decimal]
    assert alice.volume[1][1] == D("3.09")
    # P&L: 0.15 + 0.3 - 0.01 + 0.002 + 0.01 (the April exit is outside).
    assert alice.pnl == D("0.452")


def test_pnl_is_booked_on_each_users_own_trading_day_and_totals_run_over_the_period(runtime: Runtime) -> None:
    alice, a_acc = user(runtime, "alice", "UTC")
    bob, b_acc = user(runtime, "bob", "Asia/Tokyo")
    user(runtime, "carol")
    add_trade(runtime.sessions, alice, a_acc, ms("2026-03-10 09:00"), [(ms("2026-03-10 20:00"), "110")])
    # 20:00 UTC on the 10th is the 11th in Tokyo.
    add_trade(runtime.sessions, bob, b_acc, ms("2026-03-10 09:00"), [(ms("2026-03-10 20:00"), "95")])
    add_trade(runtime.sessions, bob, b_acc, ms("2026-03-20 01:00"), [(ms("2026-03-20 02:00"), "100.25")])
    # Bob's last exit is March 31 in UTC but April 1 in Tokyo: outside his March.
    add_trade(runtime.sessions, bob, b_acc, ms("2026-03-31 10:00"), [(ms("2026-03-31 16:00"), "200")])
    view = portfolio.desk_overview(runtime, FIRST, LAST, NOW)
    by_name = rows(view)
    assert (by_name["alice"].pnl, by_name["bob"].pnl, by_name["carol"].pnl) == (D(10), D("-4.75"), D(0))
    days = {t.day: t for t in view.totals}
    assert [t.day for t in view.totals] == [FIRST + timedelta(days=i) for i in range(31)]  # every day
    assert (days[date(2026, 3, 10)].pnl, days[date(2026, 3, 11)].pnl, days[date(2026, 3, 20)].pnl) == (
        D(10), D(-5), D("0.25"))  # fmt: skip
    assert days[date(2026, 3, 9)].cumulative == 0
    assert days[date(2026, 3, 10)].cumulative == D(10)
    assert days[date(2026, 3, 11)].cumulative == D(5)
    assert days[date(2026, 3, 31)].cumulative == D("5.25") == view.pnl
    # The P&L overview (the admin calendar's table) agrees, user by user.
    month = {r.username: r.month.pnl for r in portfolio.overview(runtime, 2026, 3)}
    assert month == {name: figures.pnl for name, figures in by_name.items()}


def test_blocks_per_user_total_live_and_placed_or_closed_in_the_period(runtime: Runtime) -> None:
    uid, acc = user(runtime, "alice")
    other, o_acc = user(runtime, "bob")
    march = datetime(2026, 3, 15, tzinfo=UTC)
    closed_in = add_trade(runtime.sessions, uid, acc, ms("2026-03-15 10:00"), [(ms("2026-03-15 11:00"), "101")])
    block_of(runtime, closed_in, created_at=march, closed_at=march + timedelta(hours=1))
    closed_before = add_trade(runtime.sessions, uid, acc, ms("2026-02-10 10:00"), [(ms("2026-02-10 11:00"), "99")])
    block_of(runtime, closed_before, created_at=march - timedelta(days=40), closed_at=march - timedelta(days=40))
    live = add_trade(runtime.sessions, uid, acc, ms("2026-03-20 10:00"), [])  # still open
    block_of(runtime, live, created_at=march + timedelta(days=5))
    canceled = add_trade(runtime.sessions, uid, acc, ms("2026-03-21 10:00"), [])
    block_of(runtime, canceled, created_at=march, status=BlockStatus.CANCELED, closed_at=march)
    pending = add_trade(runtime.sessions, other, o_acc, ms("2026-03-22 10:00"), [])
    block_of(runtime, pending, created_at=march, status=BlockStatus.PENDING)
    by_name = rows(portfolio.desk_overview(runtime, FIRST, LAST, NOW))
    a, b = by_name["alice"], by_name["bob"]
    assert (a.blocks, a.live_blocks, a.opened_blocks, a.closed_blocks) == (4, 1, 3, 1)
    assert (b.blocks, b.live_blocks, b.opened_blocks, b.closed_blocks) == (1, 1, 1, 0)


def test_an_empty_desk_has_zero_days_and_no_volume(runtime: Runtime) -> None:
    view = portfolio.desk_overview(runtime, FIRST, date(2026, 3, 7), NOW)
    assert view.users == ()
    assert [t.pnl for t in view.totals] == [0] * 7
    assert (view.pnl, view.volume, view.active) == (0, (), {"day": 0, "week": 0})


@pytest.mark.parametrize("count", [3, 30])
def test_the_queries_do_not_grow_with_the_number_of_users(runtime: Runtime, count: int) -> None:
    for i in range(count):
        uid, acc = user(runtime, f"u{i:02d}", "Europe/Berlin" if i % 2 else "UTC")
        add_trade(runtime.sessions, uid, acc, ms("2026-03-10 09:00"), [(ms("2026-03-10 20:00"), "101")])
    statements: list[str] = []

    def count_statement(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(runtime.db, "before_cursor_execute", count_statement)
    try:
        view = portfolio.desk_overview(runtime, FIRST, LAST, NOW)
    finally:
        event.remove(runtime.db, "before_cursor_execute", count_statement)
    assert view.pnl == count
    # One users query, one of their replay accounts (left out), then three per timezone (two zones
    # here), whatever the number of users.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2 + 3 * 2

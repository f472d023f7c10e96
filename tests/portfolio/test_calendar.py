"""The P&L calendar's accounting on the real database: trading days in the user's timezone across
DST changes, P&L booked on each exit fill's day, exact sums, % of the equity at the start of the day,
R multiples, the colour scale, grids and the admins' overview; and end to end, paper trades made
through the engine showing up in the calendar, with balances and equity snapshots."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from db.enums import Side
from db.models import AccountBalance, EquitySnapshot, Fill, Market, User
from engine.blocks.commands import submit_block
from engine.portfolio import calendar as cal
from engine.portfolio import exports
from engine.portfolio import views as pv
from engine.portfolio.balances import open_positions, snapshot_equity, sync_balances
from engine.portfolio.bookings import day_boundaries, day_of, day_start_ms, offset_segments
from engine.runtime import Runtime
from tests.helpers.portfolio import add_account, add_close, add_trade, ms
from tests.helpers.trading import PathFeed, add_user, request, setup

D = Decimal


def hours(first: date, last: date, tz: str) -> list[float]:
    b = day_boundaries(first, last, tz)
    return [(y - x) / 3_600_000 for x, y in itertools.pairwise(b)]


@pytest.mark.parametrize(
    ("tz", "day", "length"),
    [
        ("Europe/Berlin", date(2024, 3, 31), 23.0),  # spring forward 02:00 -> 03:00
        ("Europe/Berlin", date(2024, 10, 27), 25.0),  # fall back 03:00 -> 02:00
        ("America/New_York", date(2024, 3, 10), 23.0),
        ("America/New_York", date(2024, 11, 3), 25.0),
        ("UTC", date(2024, 3, 31), 24.0),
        ("Asia/Kolkata", date(2024, 3, 31), 24.0),  # +05:30, no DST
    ],
)
def test_trading_days_are_local_days_of_23_24_or_25_hours(tz: str, day: date, length: float) -> None:
    assert hours(day - timedelta(days=1), day + timedelta(days=1), tz) == [24.0, length, 24.0]
    start = day_start_ms(day, tz)
    assert day_of(start, tz) == day
    assert day_of(start - 1, tz) == day - timedelta(days=1)


def test_offset_segments_find_the_change_to_the_millisecond() -> None:
    start, end = day_start_ms(date(2024, 3, 30), "Europe/Berlin"), day_start_ms(date(2024, 4, 2), "Europe/Berlin")
    assert offset_segments(start, end, "Europe/Berlin") == ((start, 3_600_000), (ms("2024-03-31 01:00"), 7_200_000))


def user(runtime: Runtime, name: str = "alice", tz: str = "UTC") -> tuple[int, int]:
    uid = add_user(runtime.sessions, name)
    with runtime.sessions.begin() as s:
        s.execute(update(User).where(User.id == uid).values(timezone=tz))
    return uid, add_account(runtime.sessions, uid)


# Exits around Berlin's spring-forward night and the next midnight (UTC times; local in comments).
BERLIN_EXITS = [
    ("2024-03-30 22:30", "101"),  # 23:30 CET, Mar 30
    ("2024-03-30 23:30", "102"),  # 00:30 CET, Mar 31
    ("2024-03-31 21:59", "103"),  # 23:59 CEST, Mar 31 (the 23-hour day)
    ("2024-03-31 22:00", "104"),  # 00:00 CEST, Apr 1
]


def test_sql_buckets_fills_by_local_day_across_spring_forward(runtime: Runtime) -> None:
    uid, acc = user(runtime, tz="Europe/Berlin")
    for when, price in BERLIN_EXITS:
        add_trade(runtime.sessions, uid, acc, ms("2024-03-29 12:00"), [(ms(when), price)])
    period = pv.load_period(runtime, uid, "Europe/Berlin", date(2024, 3, 29), date(2024, 4, 2))
    got = {d: (t.pnl, t.trades) for d, t in period.totals.items() if t.trades}
    assert got == {date(2024, 3, 30): (D(1), 1), date(2024, 3, 31): (D(5), 2), date(2024, 4, 1): (D(4), 1)}
    # The SQL agrees with Python's zoneinfo for every fill.
    assert [day_of(ms(w), "Europe/Berlin") for w, _ in BERLIN_EXITS] == [
        date(2024, 3, 30),
        date(2024, 3, 31),
        date(2024, 3, 31),
        date(2024, 4, 1),
    ]


def test_new_york_fall_back_day_keeps_its_25th_hour(runtime: Runtime) -> None:
    uid, acc = user(runtime, tz="America/New_York")
    exits = [("2024-11-03 04:30", "101"), ("2024-11-04 04:30", "102"), ("2024-11-04 05:00", "103")]
    for when, price in exits:  # 00:30 EDT Nov 3; 23:30 EST Nov 3; 00:00 EST Nov 4
        add_trade(runtime.sessions, uid, acc, ms("2024-11-01 12:00"), [(ms(when), price)])
    period = pv.load_period(runtime, uid, "America/New_York", date(2024, 11, 2), date(2024, 11, 5))
    assert {d: t.pnl for d, t in period.totals.items() if t.trades} == {
        date(2024, 11, 3): D(3),
        date(2024, 11, 4): D(3),
    }
    # The same fills for a UTC user fall on other days.
    with runtime.sessions.begin() as s:
        s.execute(update(User).where(User.id == uid).values(timezone="UTC"))
    utc = pv.load_period(runtime, uid, "UTC", date(2024, 11, 2), date(2024, 11, 5))
    assert {d: t.pnl for d, t in utc.totals.items() if t.trades} == {date(2024, 11, 3): D(1), date(2024, 11, 4): D(5)}


def test_a_block_books_on_each_exit_day_with_fees(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    # Entry Sunday, half out at 110 on Monday, half at 95 on Wednesday; fees 0.2 entry, 0.1 per exit.
    add_trade(runtime.sessions, uid, acc, ms("2024-06-02 09:00"),
              [(ms("2024-06-03 10:00"), "110"), (ms("2024-06-05 15:00"), "95")],
              amount="2", entry_fee="0.2", exit_fee="0.1", risk="20")  # fmt: skip
    month = pv.month_view(runtime, uid, "UTC", 2024, 6)
    days = {c.day: c for c in month.days()}
    # Monday: 10 x 1 - 0.1 - 0.1 (half the entry fee) = 9.8; Wednesday: -5 x 1 - 0.1 - 0.1 = -5.2
    assert (days[date(2024, 6, 3)].pnl, days[date(2024, 6, 3)].trades) == (D("9.8"), 1)
    assert (days[date(2024, 6, 5)].pnl, days[date(2024, 6, 5)].trades) == (D("-5.2"), 1)
    # Fees go with the P&L they were charged to: each exit day its 0.1 and half the entry fee.
    assert (days[date(2024, 6, 2)].pnl, days[date(2024, 6, 2)].trades, days[date(2024, 6, 2)].fees) == (0, 0, 0)
    assert days[date(2024, 6, 3)].fees == days[date(2024, 6, 5)].fees == D("0.2")
    assert days[date(2024, 6, 3)].r == D("0.49")  # 9.8 / 20
    assert (month.pnl, month.win_days, month.loss_days, month.trades) == (D("4.6"), 1, 1, 2)
    assert month.fees == D("0.4")


def test_sums_are_exact_decimals_on_both_databases(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    for price in ("100.1", "100.2", "100.000000000000000001"):
        add_trade(runtime.sessions, uid, acc, ms("2024-06-03 09:00"), [(ms("2024-06-03 10:00"), price)])
    period = pv.load_period(runtime, uid, "UTC", date(2024, 6, 3), date(2024, 6, 3))
    assert period.totals[date(2024, 6, 3)].pnl == D("0.300000000000000001")  # not 0.30000000000000004


def test_percent_is_against_the_equity_at_the_start_of_the_day(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    add_close(runtime.sessions, uid, acc, date(2024, 6, 2), "1000")  # Sunday's close
    add_trade(runtime.sessions, uid, acc, ms("2024-06-03 09:00"), [(ms("2024-06-03 10:00"), "150")])  # +50 Mon
    add_trade(runtime.sessions, uid, acc, ms("2024-06-05 09:00"), [(ms("2024-06-05 10:00"), "79")])  # -21 Wed
    month = pv.month_view(runtime, uid, "UTC", 2024, 6)
    days = {c.day: c for c in month.days()}
    assert days[date(2024, 6, 3)].start_equity == D(1000)
    assert days[date(2024, 6, 3)].pct == D(5)
    # No snapshot on Monday or Tuesday: Sunday's close plus what was booked since.
    assert days[date(2024, 6, 5)].start_equity == D(1050)
    assert days[date(2024, 6, 5)].pct == D(-2)
    # Before the first snapshot: backed out of it.
    assert days[date(2024, 6, 1)].start_equity == D(1000)
    assert month.pct == pytest.approx(D("2.9"))  # 1.05 x 0.98 - 1


def test_without_snapshots_there_is_no_percentage(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    add_trade(runtime.sessions, uid, acc, ms("2024-06-03 09:00"), [(ms("2024-06-03 10:00"), "150")])
    cell = next(c for c in pv.month_view(runtime, uid, "UTC", 2024, 6).days() if c.trades)
    assert (cell.pnl, cell.pct) == (D(50), None)


def test_colour_scale_is_symmetric_centred_on_zero_and_robust() -> None:
    assert cal.intensity(D(5), D(10)) == 0.5
    assert cal.intensity(D(-5), D(10)) == -0.5
    assert cal.colour(0.5).split(",")[-1] == cal.colour(-0.5).split(",")[-1]  # same alpha
    assert cal.colour(0.5).startswith("rgba(25, 135, 84")
    assert cal.colour(-0.5).startswith("rgba(220, 53, 69")
    assert cal.colour(0.0) is None  # neutral
    assert cal.intensity(D(50), D(10)) == 1.0  # capped
    # One outlier among ten days does not wash out the others: the 90th percentile sets the scale.
    values = [D(v) for v in (1, 2, 3, 4, 5, 6, 7, 8, 9, 1000)]
    assert cal.robust_scale(values) == D(9)
    assert cal.robust_scale([D(3), D(-7)]) == D(7)  # few days: the largest
    assert cal.robust_scale([]) == D(0)


def test_month_grid_runs_monday_to_sunday_with_weekly_totals(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    add_trade(runtime.sessions, uid, acc, ms("2024-02-01 09:00"), [(ms("2024-02-01 10:00"), "110")])
    add_trade(runtime.sessions, uid, acc, ms("2024-02-29 09:00"), [(ms("2024-02-29 10:00"), "95")])
    month = pv.month_view(runtime, uid, "UTC", 2024, 2)
    assert month.weeks[0].cells[0].day == date(2024, 1, 29)  # a Monday
    assert month.weeks[-1].cells[-1].day == date(2024, 3, 3)  # a Sunday
    assert all(len(w.cells) == 7 for w in month.weeks)
    assert [w.pnl for w in month.weeks] == [D(10), 0, 0, 0, D(-5)]
    cells = {c.day: c for c in month.days()}
    assert cells[date(2024, 2, 1)].intensity == 1.0
    assert cells[date(2024, 2, 29)].intensity == -0.5
    assert cells[date(2024, 2, 2)].intensity == 0.0
    assert month.title == "February 2024"


def test_year_view_week_view_and_r_mode(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    add_trade(runtime.sessions, uid, acc, ms("2024-03-04 09:00"), [(ms("2024-03-04 10:00"), "110")], risk="5")
    add_trade(runtime.sessions, uid, acc, ms("2024-07-10 09:00"), [(ms("2024-07-10 10:00"), "90")], risk="5")
    months, period = pv.year_view(runtime, uid, "UTC", 2024, mode="r")
    assert [m.pnl for m in months if m.trades] == [D(10), D(-10)]
    assert [m.r for m in months if m.trades] == [D(2), D(-2)]
    week = pv.week_view(runtime, uid, "UTC", date(2024, 3, 4))
    assert (week.pnl, week.trades, week.cells[0].day) == (D(10), 1, date(2024, 3, 4))
    result = pv.period_stats(period, date(2024, 1, 1), date(2024, 12, 31))
    assert (result.trades, result.net_pnl, result.win_rate) == (2, D(0), D("0.5"))
    in_r = pv.period_stats(period, date(2024, 1, 1), date(2024, 12, 31), unit="r")  # the page's R switch
    assert (in_r.unit, in_r.largest_win, in_r.largest_loss, in_r.trades) == ("r", D(2), D(-2), 2)
    assert exports.csv_text(exports.trades_table(period)).splitlines()[1].startswith("2024-03-04,")
    assert "2024-07-10,-10.00" in exports.csv_text(exports.daily_table(period))


def test_overview_has_every_user_in_their_own_timezone(runtime: Runtime) -> None:
    alice, a_acc = user(runtime, "alice", "UTC")
    bob, b_acc = user(runtime, "bob", "Asia/Tokyo")
    user(runtime, "carol")
    add_trade(runtime.sessions, alice, a_acc, ms("2024-05-31 20:00"), [(ms("2024-05-31 20:00"), "110")])
    add_trade(runtime.sessions, bob, b_acc, ms("2024-05-31 20:00"), [(ms("2024-05-31 20:00"), "90")])  # Jun 1 JST
    rows = {r.username: r for r in pv.overview(runtime, 2024, 6)}
    assert set(rows) == {"alice", "bob", "carol"}
    assert (rows["alice"].month.pnl, rows["bob"].month.pnl, rows["carol"].month.pnl) == (0, D(-10), 0)
    assert rows["bob"].worst_day == D(-10)


def test_day_trades_list_the_days_exits(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    tid = add_trade(runtime.sessions, uid, acc, ms("2024-06-02 09:00"),
                    [(ms("2024-06-03 10:00"), "110"), (ms("2024-06-05 15:00"), "95")], amount="2")  # fmt: skip
    rows = pv.day_trades(runtime, uid, "UTC", date(2024, 6, 3))
    assert [(r.booking.trade_id, r.booking.pnl, len(r.exits)) for r in rows] == [(tid, D(10), 1)]
    assert rows[0].exits[0].price == D(110)
    assert rows[0].ticks == (None, None)  # no stored market: shown exactly
    with runtime.sessions.begin() as s:
        s.add(Market(exchange="demo", symbol="BTC/USDT", base="BTC", quote="USDT", type="spot", active=True,
                     price_tick=D("0.1"), amount_tick=D("0.001")))  # fmt: skip
    assert pv.day_trades(runtime, uid, "UTC", date(2024, 6, 3))[0].ticks == (D("0.1"), D("0.001"))
    other, _ = user(runtime, "mallory")
    assert pv.day_trades(runtime, other, "UTC", date(2024, 6, 3)) == []


# --- end to end through the engine ---


def test_paper_trades_made_through_the_engine_show_in_the_calendar(runtime: Runtime) -> None:
    from engine.blocks.sync import sync_tick

    feed = PathFeed("101", now=ms("2024-06-01 00:00"))  # a Saturday
    feed.flat("101", 2)
    uid, account = setup(runtime, feed)
    block_id = submit_block(runtime, uid, account, request(size="1", targets=("105", "110")))
    feed.bar("101", "101", "99.5", "100.5")  # Saturday: the entries (limit 100) fill
    sync_tick(runtime)
    feed.now = ms("2024-06-03 10:00")  # Monday: target 1
    feed.bar("100.5", "105.5", "100.5", "105.2")
    sync_tick(runtime)
    feed.now = ms("2024-06-05 10:00")  # Wednesday: the stop takes the rest
    feed.bar("99", "99.5", "94", "96")
    sync_tick(runtime)

    with runtime.sessions() as s:
        fills = [
            (f.ts, f.realized_pnl) for f in s.scalars(select(Fill).order_by(Fill.ts)) if f.realized_pnl is not None
        ]
    assert len(fills) == 2
    month = pv.month_view(runtime, uid, "UTC", 2024, 6)
    days = {c.day: c for c in month.days() if c.trades}
    assert set(days) == {date(2024, 6, 3), date(2024, 6, 5)}
    assert days[date(2024, 6, 3)].pnl == fills[0][1] > 0
    assert days[date(2024, 6, 5)].pnl == fills[1][1] < 0
    assert month.pnl == fills[0][1] + fills[1][1]
    assert [r.booking.block_id for r in pv.day_trades(runtime, uid, "UTC", date(2024, 6, 3))] == [block_id]

    # Balances from the paper venue, and a snapshot that values the day (USDT only: all sold).
    report = sync_balances(runtime)
    assert (report.updated, report.errors) == (1, [])
    with runtime.sessions() as s:
        usdt = s.scalar(select(AccountBalance).where(AccountBalance.currency == "USDT"))
    assert usdt is not None
    assert usdt.total == D(10000) + month.pnl
    snapshot_equity(runtime, datetime(2024, 6, 5, 23, 0, tzinfo=UTC))
    snapshot_equity(runtime, datetime(2024, 6, 5, 23, 50, tzinfo=UTC))  # rewrites the day's row
    with runtime.sessions() as s:
        snaps = list(s.scalars(select(EquitySnapshot)))
    assert [(x.day, x.equity, x.quote) for x in snaps] == [(date(2024, 6, 5), usdt.total, "USDT")]
    assert open_positions(runtime, uid) == []


def test_open_positions_show_unrealized_pnl_and_snapshots_value_the_coin(runtime: Runtime) -> None:
    from engine.blocks.sync import sync_tick

    feed = PathFeed("101", now=ms("2024-06-01 00:00"))
    feed.flat("101", 2)
    uid, account = setup(runtime, feed)
    submit_block(runtime, uid, account, request(size="1", targets=("120",)))
    feed.bar("101", "101", "99.5", "100.5")
    sync_tick(runtime)
    feed.flat("103")
    positions = open_positions(runtime, uid)
    assert [(p.side, p.amount, p.entry_average, p.last_price) for p in positions] == [(Side.LONG, D(1), D(100), D(103))]
    assert positions[0].unrealized_pnl == D(3)
    with runtime.sessions() as s:
        market = s.scalar(select(Market).where(Market.symbol == positions[0].symbol))
    assert market is not None
    assert positions[0].ticks == (market.price_tick, market.amount_tick)  # shown in the market's precision
    sync_balances(runtime)
    snapshot_equity(runtime, datetime(2024, 6, 1, 12, 0, tzinfo=UTC))
    with runtime.sessions() as s:
        snap = s.scalar(select(EquitySnapshot))
    assert snap is not None
    assert snap.positions_value == D(103)  # 1 SOL at 103
    assert snap.unrealized_pnl == D(3)
    assert snap.equity == snap.cash + D(103)


def test_sync_balances_reports_an_unreachable_account_and_syncs_the_others(runtime: Runtime) -> None:
    from db.enums import AccountKind
    from db.models import ExchangeAccount

    feed = PathFeed("101", now=ms("2024-06-01 00:00"))
    uid, _paper = setup(runtime, feed)
    with runtime.sessions.begin() as s:  # live trading off: the venue refuses to be built
        s.add(ExchangeAccount(user_id=uid, name="live", kind=AccountKind.LIVE, exchange="binance"))
    report = sync_balances(runtime)
    assert (report.accounts, report.updated) == (2, 1)
    assert len(report.errors) == 1
    assert "live trading is switched off" in report.errors[0]
    with runtime.sessions() as s:
        assert [(b.currency, b.total) for b in s.scalars(select(AccountBalance))] == [("USDT", D(10000))]
    snapshot_equity(runtime, datetime(2024, 6, 1, 12, 0, tzinfo=UTC))  # the live one: never synced, no row
    with runtime.sessions() as s:
        assert [x.equity for x in s.scalars(select(EquitySnapshot))] == [D(10000)]


def test_fees_are_valued_in_quote_like_the_engine_values_them(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    add_trade(runtime.sessions, uid, acc, ms("2024-06-03 09:00"), [(ms("2024-06-03 10:00"), "110")])
    with runtime.sessions.begin() as s:
        entry, exit_ = list(s.scalars(select(Fill).order_by(Fill.ts)))
        entry.fee, entry.fee_currency = D("0.5"), "BNB"  # a third currency: left out, as fee_parts does
        exit_.fee, exit_.fee_currency = D("0.001"), "BTC"  # the base coin: x the fill's price 110
    with runtime.sessions.begin() as s:
        s.add(Fill(order_id=exit_.order_id, trade_id=exit_.trade_id, exchange_trade_id="q", role=exit_.role,
                   price=D(110), amount=D(0), fee=D("0.25"), fee_currency="USDT", realized_pnl=D(0),
                   ts=ms("2024-06-03 11:00")))  # fmt: skip
    day = pv.load_period(runtime, uid, "UTC", date(2024, 6, 3), date(2024, 6, 3)).totals[date(2024, 6, 3)]
    assert day.fees == D("0.36")  # 0.001 x 110 + 0.25


def test_exports_agree_with_the_calendar_and_are_rounded_like_the_screen(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    add_close(runtime.sessions, uid, acc, date(2024, 6, 2), "3000")
    closed = add_trade(runtime.sessions, uid, acc, ms("2024-06-03 09:00"), [(ms("2024-06-03 10:00"), "101")],
                       risk="3", exit_fee="0.001")  # fmt: skip
    still_open = add_trade(runtime.sessions, uid, acc, ms("2024-06-04 09:00"), [])  # entered, no exit yet
    _, text = pv.export(runtime, uid, "UTC", "month", date(2024, 6, 1), "trades", today=date(2024, 6, 10))
    rows = text.splitlines()[1:]
    # Only what the calendar counts as closed: the open trade is not a row with P&L 0.
    assert [r.split(",")[1] for r in rows] == [str(closed)]
    assert str(still_open) not in {r.split(",")[1] for r in rows}
    assert rows[0].split(",")[-3:] == ["1.00", "0.00", "0.33"]  # P&L 0.999 to cents, fees, R 0.999 / 3
    _, daily = pv.export(runtime, uid, "UTC", "month", date(2024, 6, 1), "daily", today=date(2024, 6, 10))
    lines = daily.splitlines()
    assert lines[-1].startswith("2024-06-10,")  # no day after the user's today
    monday = next(line for line in lines if line.startswith("2024-06-03,")).split(",")
    # 0.999 / 3000 x 100 = 0.0333% (not 60 digits), R 0.33, equity in cents.
    assert monday == ["2024-06-03", "1.00", "0.0333", "0.33", "1", "0.00", "3000.00"]


def test_a_months_fees_are_those_of_the_trades_it_closed(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    # Entered 30 June (fee 1.96), exited in two halves in July (fees 0.5 each).
    add_trade(runtime.sessions, uid, acc, ms("2024-06-30 09:00"),
              [(ms("2024-07-02 10:00"), "110"), (ms("2024-07-03 10:00"), "110")],
              amount="2", entry_fee="1.96", exit_fee="0.5")  # fmt: skip
    june = pv.calendar_page(runtime, uid, "UTC", "month", date(2024, 6, 1), "money")
    assert june.month is not None
    # No trade closed in June: no fees there (not "fees 1.96 with 0 trades and +0.00").
    assert (june.month.trades, june.month.pnl, june.month.fees, june.stats.fees) == (0, 0, 0, 0)
    july = pv.calendar_page(runtime, uid, "UTC", "month", date(2024, 7, 1), "money")
    assert july.month is not None
    days = {c.day: c for c in july.month.days() if c.trades}
    # Each exit: its own 0.5 and half the entry fee; the P&L is after exactly those fees.
    assert [c.fees for c in days.values()] == [D("1.48"), D("1.48")]
    assert [c.pnl for c in days.values()] == [D("10") - D("1.48")] * 2
    assert july.month.fees == july.stats.fees == D("2.96")
    assert july.month.pnl == july.stats.net_pnl == D(20) - july.month.fees


def test_the_equity_curve_starts_with_the_accounts_history(runtime: Runtime) -> None:
    uid, acc = user(runtime)
    # Opened in December: its first snapshot is 5 Dec, a trade on the 10th.
    add_close(runtime.sessions, uid, acc, date(2024, 12, 5), "5000")
    add_trade(runtime.sessions, uid, acc, ms("2024-12-10 09:00"), [(ms("2024-12-10 10:00"), "110")])
    year = pv.calendar_page(runtime, uid, "UTC", "year", date(2024, 1, 1), "money", today=date(2024, 12, 31))
    assert year.curve[0].day == date(2024, 12, 5)  # no flat line from January
    assert (year.curve[0].equity, year.curve[-1].equity) == (D(5000), D(5010))
    # A later month of the same account starts on its first day: the account was older.
    add_close(runtime.sessions, uid, acc, date(2024, 12, 31), "5010")
    jan = pv.calendar_page(runtime, uid, "UTC", "month", date(2025, 1, 1), "money", today=date(2025, 1, 31))
    assert jan.curve[0].day == date(2025, 1, 1)
    assert jan.curve[0].equity == D(5010)


def test_without_snapshots_or_trades_there_is_no_equity_curve(runtime: Runtime) -> None:
    uid, _ = user(runtime)
    page = pv.calendar_page(runtime, uid, "UTC", "month", date(2024, 6, 1), "money", today=date(2024, 6, 30))
    assert page.curve == []

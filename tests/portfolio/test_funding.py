"""Perpetual funding fetched from a venue and booked (engine.portfolio.funding): once however often
it is fetched (two fetches at once included), attributed to the block open on the symbol at the
payment's instant (split between two by their open amounts, to the cent; none open: no block, still
in the account's day), on the user's local day; the calendar's day totals, statistics and day detail
(its Funding column) count it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from db.models import Block, FundingPayment, Trade, User
from engine.blocks import api as blocks
from engine.exchanges.api import FundingPayment as Payment
from engine.exchanges.api import VenueCapabilities, install_venue
from engine.portfolio import views as pv
from engine.portfolio.funding import OVERLAP_MS, book_funding, split
from engine.portfolio.funding_days import day_funding
from engine.runtime import Runtime
from pages.components import calendar as calc
from tests.helpers.portfolio import add_account, add_trade, ms
from tests.helpers.trading import add_user
from tests.pages.test_calendar_components import texts

D = Decimal
PERP = "BTC/USDT:USDT"


class FundingDouble:
    """A venue with perpetuals as the engine sees it: its capabilities and its funding history."""

    def __init__(self, payments: Sequence[Payment], barrier: threading.Barrier | None = None) -> None:
        self.payments = list(payments)
        self.asked: list[int | None] = []
        self.barrier = barrier  # both of two concurrent fetches answer only once both have asked

    @property
    def capabilities(self) -> VenueCapabilities:
        return VenueCapabilities(supports_leverage=True)

    def fetch_funding_history(self, symbol: str | None = None, since: int | None = None) -> list[Payment]:
        self.asked.append(since)
        if self.barrier is not None:
            self.barrier.wait(timeout=10)
        return [p for p in self.payments if (since is None or p.ts >= since) and symbol in (None, p.symbol)]


def pay(ident: str, when: str, amount: str, symbol: str = PERP) -> Payment:
    return Payment(ident, symbol, D(amount), "USDT", ms(when))


def desk(runtime: Runtime, tz: str = "UTC") -> tuple[int, int]:
    uid = add_user(runtime.sessions, "alice")
    with runtime.sessions.begin() as s:
        s.execute(update(User).where(User.id == uid).values(timezone=tz))
    return uid, add_account(runtime.sessions, uid)


def stored(runtime: Runtime) -> list[tuple[str, int, int | None, Decimal]]:
    with runtime.sessions() as s:
        rows = s.execute(
            select(
                FundingPayment.payment_id, FundingPayment.part, FundingPayment.block_id, FundingPayment.amount
            ).order_by(FundingPayment.payment_id, FundingPayment.part)
        ).all()
    return [tuple(r) for r in rows]


def block_of(runtime: Runtime, trade_id: int) -> int:
    with runtime.sessions() as s:
        block_id = s.scalar(select(Trade.block_id).where(Trade.id == trade_id))
    assert block_id is not None
    return block_id


def test_payments_are_booked_once_however_often_fetched(runtime: Runtime) -> None:
    uid, acc = desk(runtime)
    block = block_of(runtime, add_trade(runtime.sessions, uid, acc, ms("2024-06-01 10:00"), [], symbol=PERP))
    venue = FundingDouble([pay("f1", "2024-06-01 16:00", "-1.25"), pay("f2", "2024-06-02 00:00", "0.5")])
    install_venue(runtime, acc, venue)
    first = book_funding(runtime)
    again = book_funding(runtime)
    assert (first.booked, again.booked, first.errors) == (2, 0, [])
    assert stored(runtime) == [("f1", 0, block, D("-1.25")), ("f2", 0, block, D("0.5"))]
    # From the first entry fill at first, then from the newest payment less the overlap.
    assert venue.asked == [ms("2024-06-01 10:00") - OVERLAP_MS, ms("2024-06-02 00:00") - OVERLAP_MS]
    venue.payments.append(pay("f3", "2024-06-02 08:00", "-0.1"))
    assert book_funding(runtime).booked == 1
    assert [r[0] for r in stored(runtime)] == ["f1", "f2", "f3"]


def test_two_fetches_at_once_book_each_payment_once(runtime: Runtime) -> None:
    uid, acc = desk(runtime)
    add_trade(runtime.sessions, uid, acc, ms("2024-06-01 10:00"), [], symbol=PERP)
    venue = FundingDouble([pay("f1", "2024-06-01 16:00", "-1"), pay("f2", "2024-06-02 00:00", "-2")])
    venue.barrier = threading.Barrier(2)  # both have read "nothing stored" before either writes
    install_venue(runtime, acc, venue)
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(book_funding(runtime))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(venue.asked) == 2  # both fetched before either booked
    assert len(reports) == 2  # neither raised
    assert [r.errors for r in reports] == [[], []]
    assert sorted(r.booked for r in reports) == [0, 2]  # the loser's insert did nothing
    assert [r[0] for r in stored(runtime)] == ["f1", "f2"]
    book_funding(runtime)  # whichever lost the race, the next run has nothing left to book
    assert [r[0] for r in stored(runtime)] == ["f1", "f2"]


def test_a_payment_goes_to_the_block_open_at_its_time_or_to_none(runtime: Runtime) -> None:
    uid, acc = desk(runtime)
    early = add_trade(runtime.sessions, uid, acc, ms("2024-06-01 01:00"), [(ms("2024-06-01 07:00"), "101")],
                      symbol=PERP)  # fmt: skip
    late = add_trade(runtime.sessions, uid, acc, ms("2024-06-01 09:00"), [(ms("2024-06-01 17:00"), "99")], symbol=PERP)
    spot = add_trade(runtime.sessions, uid, acc, ms("2024-06-01 00:00"), [], symbol="BTC/USDT")
    install_venue(
        runtime,
        acc,
        FundingDouble(
            [
                pay("p00", "2024-06-01 00:00", "-1"),  # before any entry: no block
                pay("p08", "2024-06-01 08:00", "-2"),  # the first block is flat since 07:00, the second not in yet
                pay("p16", "2024-06-01 16:00", "-3"),  # the second block holds
            ]
        ),
    )
    assert book_funding(runtime).booked == 3
    assert stored(runtime) == [
        ("p00", 0, None, D(-1)),
        ("p08", 0, None, D(-2)),
        ("p16", 0, block_of(runtime, late), D(-3)),
    ]
    assert block_of(runtime, early) != block_of(runtime, late) != block_of(runtime, spot)  # three blocks


def test_two_open_blocks_share_a_payment_by_open_amount_to_the_cent(runtime: Runtime) -> None:
    uid, acc = desk(runtime)
    small = block_of(runtime, add_trade(runtime.sessions, uid, acc, ms("2024-06-01 01:00"), [], symbol=PERP))
    large = block_of(runtime, add_trade(runtime.sessions, uid, acc, ms("2024-06-01 02:00"), [], symbol=PERP,
                                        amount="2"))  # fmt: skip
    install_venue(runtime, acc, FundingDouble([pay("f", "2024-06-01 08:00", "-1.00")]))
    book_funding(runtime)
    # 1/3 of -1.00 cut toward zero to the cent; the remainder to the larger: the parts add up exactly.
    assert stored(runtime) == [("f", 0, small, D("-0.33")), ("f", 1, large, D("-0.67"))]


@pytest.mark.parametrize(
    ("amount", "currency", "held", "shares"),
    [
        # A tie: the lowest id takes the remainder; the other's share is cut toward zero.
        (D("0.05"), "USDT", {1: D(1), 2: D(1)}, [(1, D("0.03")), (2, D("0.02"))]),
        (D("-0.05"), "USDT", {1: D(1), 2: D(1)}, [(1, D("-0.03")), (2, D("-0.02"))]),
        # A coin is cut to 0.00000001, not to a cent.
        (D("0.000000031"), "BTC", {1: D(1), 2: D(2)}, [(1, D("0.00000001")), (2, D("0.000000021"))]),
        # A share that rounds to nothing is no share (no row of 0.00, nor -0.00).
        (D("-0.004"), "USDT", {1: D(1), 2: D(3)}, [(2, D("-0.004"))]),
        (D("-7"), "USDT", {}, [(None, D("-7"))]),
    ],
)
def test_split_gives_the_remainder_to_the_largest(
    amount: Decimal, currency: str, held: dict[int, Decimal], shares: list[tuple[int | None, Decimal]]
) -> None:
    got = split(amount, currency, held)
    assert got == shares
    assert sum(share for _, share in got) == amount


def test_funding_is_booked_on_the_users_local_day_and_counted_in_the_calendar(runtime: Runtime) -> None:
    uid, acc = desk(runtime, "Europe/Berlin")
    trade = add_trade(runtime.sessions, uid, acc, ms("2024-06-01 10:00"), [(ms("2024-06-03 12:00"), "110")],
                      symbol=PERP)  # fmt: skip
    install_venue(
        runtime,
        acc,
        FundingDouble(
            [
                pay("a", "2024-06-01 16:00", "-1.50"),  # 18:00 in Berlin, June 1
                pay("b", "2024-06-01 22:00", "-0.25"),  # 00:00 CEST: June 2, a day without any exit
                pay("c", "2024-06-03 08:00", "0.75"),  # the exit's day
            ]
        ),
    )
    book_funding(runtime)
    period = pv.load_period(runtime, uid, "Europe/Berlin", date(2024, 6, 1), date(2024, 6, 30))
    got = {d: (t.pnl, t.funding, t.trades) for d, t in period.totals.items() if t.pnl}
    assert got == {
        date(2024, 6, 1): (D("-1.50"), D("-1.50"), 0),
        date(2024, 6, 2): (D("-0.25"), D("-0.25"), 0),
        date(2024, 6, 3): (D("10.75"), D("0.75"), 1),  # the exit's +10 and the day's funding
    }
    stats = pv.period_stats(period, date(2024, 6, 1), date(2024, 6, 30))
    assert (stats.net_pnl, stats.funding, stats.trades) == (D("9.00"), D("-1.00"), 1)
    assert stats.by_symbol == {PERP: D("9.00")}
    page = pv.calendar_page(runtime, uid, "Europe/Berlin", "month", date(2024, 6, 1), "money")
    assert page.month is not None
    assert page.month.pnl == D("9.00")
    assert page.stats.net_pnl == D("9.00")
    with runtime.sessions() as s:
        assert set(s.scalars(select(FundingPayment.block_id))) == {block_of(runtime, trade)}


def test_the_day_detail_shows_each_blocks_funding_in_its_own_column(runtime: Runtime) -> None:
    uid, acc = desk(runtime)
    closed = add_trade(runtime.sessions, uid, acc, ms("2024-06-01 01:00"), [(ms("2024-06-01 12:00"), "105")],
                       symbol=PERP)  # fmt: skip
    held = add_trade(runtime.sessions, uid, acc, ms("2024-06-01 02:00"), [], symbol=PERP, amount="3")
    install_venue(
        runtime,
        acc,
        FundingDouble(
            [
                pay("f08", "2024-06-01 08:00", "-0.004"),  # split 1:3, both open: 0.00 and -0.004 (to the cent)
                pay("f16", "2024-06-01 16:00", "-0.123456"),  # only the second still open
            ]
        ),
    )
    book_funding(runtime)
    day = date(2024, 6, 1)
    funding = day_funding(runtime, uid, "UTC", day)
    held_block = block_of(runtime, held)
    assert [(f.block_id, f.amount) for f in funding] == [(held_block, D("-0.127456"))]  # the other's 0.00: none
    table = calc.day_table(day, pv.day_trades(runtime, uid, "UTC", day), funding)
    shown = texts(table)
    assert "Funding" in shown
    assert "-0.13" in shown  # in cents like every money column, never the raw -0.127456
    assert not any("1274" in t for t in shown)
    rows = table.children[1].children[1].children
    by_id = {row.id: texts(row) for row in rows}
    assert by_id[f"day-funding-{held_block}"][-1] == "-0.13"  # open all day, no exit: a row of its own
    assert by_id[f"day-trade-{closed}"][-1] == ""  # the closed trade's block had no funding


def test_a_day_with_funding_but_no_block_lists_the_account_payment(runtime: Runtime) -> None:
    uid, acc = desk(runtime)
    add_trade(runtime.sessions, uid, acc, ms("2024-06-02 01:00"), [], symbol=PERP)
    install_venue(runtime, acc, FundingDouble([pay("f", "2024-06-02 00:00", "2.5")]))
    # The first fetch starts an overlap before the first entry, so the payment just before it is booked.
    book_funding(runtime)
    funding = day_funding(runtime, uid, "UTC", date(2024, 6, 2))
    assert [(f.block_id, f.amount) for f in funding] == [(None, D("2.5"))]
    shown = texts(calc.day_table(date(2024, 6, 2), [], funding))
    assert "+2.50" in shown
    assert "No trades closed (in part or whole) this day." not in shown


def test_an_account_without_perpetuals_or_derivative_blocks_is_not_asked(runtime: Runtime) -> None:
    uid, acc = desk(runtime)
    add_trade(runtime.sessions, uid, acc, ms("2024-06-01 01:00"), [], symbol="BTC/USDT")
    venue = FundingDouble([pay("f", "2024-06-01 08:00", "-1")])
    install_venue(runtime, acc, venue)
    assert book_funding(runtime).accounts == 0
    assert venue.asked == []
    assert stored(runtime) == []


def test_a_closed_block_is_asked_about_once_after_its_close(runtime: Runtime) -> None:
    uid, acc = desk(runtime)
    trade = add_trade(runtime.sessions, uid, acc, ms("2024-06-01 01:00"), [(ms("2024-06-01 09:00"), "101")],
                      symbol=PERP)  # fmt: skip
    with runtime.sessions.begin() as s:
        s.execute(update(Block).where(Block.id == block_of(runtime, trade)).values(
            closed_at=datetime(2024, 6, 1, 9, tzinfo=UTC)))  # fmt: skip
    venue = FundingDouble([pay("f", "2024-06-01 08:00", "-1")])
    install_venue(runtime, acc, venue)
    now = ms("2024-06-01 09:05")
    assert book_funding(runtime, now).booked == 1
    assert book_funding(runtime, now + 300_000).accounts == 0  # closed before the last fetch: not asked again
    assert len(venue.asked) == 1


def test_a_blocks_pnl_counts_its_funding_and_not_a_coins(runtime: Runtime) -> None:
    uid, acc = desk(runtime)
    trade = add_trade(runtime.sessions, uid, acc, ms("2024-06-01 01:00"), [(ms("2024-06-01 12:00"), "105")],
                      symbol=PERP)  # fmt: skip
    install_venue(
        runtime,
        acc,
        FundingDouble(
            [
                pay("f", "2024-06-01 08:00", "-0.40"),
                Payment("c", PERP, D("-0.001"), "BTC", ms("2024-06-01 08:00")),  # not the quote: stored, not counted
            ]
        ),
    )
    book_funding(runtime)
    (block,) = blocks.list_blocks(runtime, uid)
    assert block.id == block_of(runtime, trade)
    assert (block.funding, block.pnl) == (D("-0.40"), D("4.60"))  # +5 from the trade
    assert len(stored(runtime)) == 2
    period = pv.load_period(runtime, uid, "UTC", date(2024, 6, 1), date(2024, 6, 1))
    assert period.totals[date(2024, 6, 1)].pnl == block.pnl  # the calendar's day says the same


def test_a_perpetual_traded_on_paper_margin_pays_funding_into_its_blocks_day(runtime: Runtime) -> None:
    from engine.blocks.commands import submit_block
    from engine.blocks.sync import sync_tick
    from engine.exchanges.paper_funding import FUNDING_RATE
    from tests.helpers.trading import PathFeed, request, setup

    feed = PathFeed("101", now=ms("2024-06-01 00:00"))
    feed.flat("101", 2)
    uid, account = setup(runtime, feed, balance="100000", margin=True)
    block_id = submit_block(runtime, uid, account, request(symbol=PERP, size="4", targets=("105", "110")))
    feed.bar("101", "101", "99.5", "100.5")  # the entries (limit 100) fill at 00:02, after the 00:00 funding
    sync_tick(runtime)
    feed.now = ms("2024-06-01 16:30")
    report = book_funding(runtime)
    assert (report.accounts, report.booked, report.errors) == (1, 2, [])
    paid = -4 * D(100) * FUNDING_RATE  # long 4 at 08:00 and 16:00, valued at the fill (no candle then)
    assert stored(runtime) == [
        (f"{PERP}@{ms('2024-06-01 08:00')}", 0, block_id, paid),
        (f"{PERP}@{ms('2024-06-01 16:00')}", 0, block_id, paid),
    ]
    assert book_funding(runtime).booked == 0
    day = pv.load_period(runtime, uid, "UTC", date(2024, 6, 1), date(2024, 6, 1)).totals[date(2024, 6, 1)]
    assert (day.pnl, day.funding, day.trades) == (2 * paid, 2 * paid, 0)


def test_groups_by_symbol_setup_and_tag_count_their_blocks_funding(runtime: Runtime) -> None:
    from engine.portfolio.groups import NO_SETUP, NO_TAG, group_stats

    uid, acc = desk(runtime)
    trade = add_trade(runtime.sessions, uid, acc, ms("2024-06-01 01:00"), [(ms("2024-06-01 12:00"), "102")],
                      symbol=PERP)  # fmt: skip
    with runtime.sessions.begin() as s:
        s.execute(update(Block).where(Block.id == block_of(runtime, trade)).values(setup="breakout"))
    install_venue(
        runtime,
        acc,
        FundingDouble([pay("in", "2024-06-01 08:00", "-0.50"), pay("out", "2024-06-01 16:00", "0.25")]),
    )
    book_funding(runtime)  # 08:00 to the block; 16:00 after its exit: to no block

    def figures(by: str) -> list[tuple[str, int, Decimal, Decimal]]:
        rows = group_stats(runtime, uid, date(2024, 6, 1), date(2024, 6, 1), "UTC", by)  # type: ignore[arg-type]
        return [(g.key, g.trades, g.pnl, g.funding) for g in rows]

    assert figures("symbol") == [(PERP, 1, D("1.75"), D("-0.25"))]  # +2 from the trade
    assert figures("setup") == [("breakout", 1, D("1.50"), D("-0.50")), (NO_SETUP, 0, D("0.25"), D("0.25"))]
    assert figures("tag") == [(NO_TAG, 1, D("1.75"), D("-0.25"))]


def test_the_block_done_notification_counts_the_funding_booked_to_the_block(runtime: Runtime) -> None:
    from db.models import NotificationOutbox
    from engine.blocks.commands import submit_block
    from engine.blocks.sync import sync_tick
    from engine.notify import api as notify
    from tests.helpers.trading import PathFeed, request, setup

    feed = PathFeed("101", now=ms("2024-06-01 00:00"))
    feed.flat("101", 2)
    uid, account = setup(runtime, feed, balance="100000", margin=True)
    notify.save_url(runtime, uid, "json://127.0.0.1:9/hook")  # a channel: events are booked (not sent here)
    submit_block(runtime, uid, account, request(symbol=PERP, size="4", targets=("105", "110")))
    feed.bar("101", "101", "99.5", "100.5")
    sync_tick(runtime)
    feed.now = ms("2024-06-01 16:30")
    assert book_funding(runtime).booked == 2
    feed.bar("104", "111", "104", "110")  # both targets reached
    for _ in range(3):
        sync_tick(runtime)
    (block,) = blocks.list_blocks(runtime, uid)
    assert (block.status, block.funding < 0) == ("closed", True)
    with runtime.sessions() as s:
        done = s.scalars(select(NotificationOutbox.body).where(NotificationOutbox.kind == "block_done")).one()
    assert done.endswith(f"realized P&L +{block.pnl:,.2f} USDT (funding paid: {-block.funding:,.2f} USDT).")

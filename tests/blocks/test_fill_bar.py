"""Stops and targets are live on their entry's fill bar (docs/fill-rules.md, rule 10), through the
real engine: a block submitted on a paper account, the price moved candle by candle, the sync run.

Paper fees are 0.1 % maker and taker, no slippage; every number below is worked out by hand. Each
case names what the engine did before rule 10, when the stop and targets were placed only after the
entry's fill and so saw the bars after it, never the fill bar."""

from __future__ import annotations

from sqlalchemy import select

from db.enums import CloseReason, EntryType, OrderRole, OrderStatus, Side, TradeStatus
from db.models import Order
from engine.blocks.api import submit_block
from engine.blocks.sequencing import contingent_on
from engine.blocks.sync import sync_tick
from engine.runtime import Runtime
from tests.helpers.trading import D, PathFeed, fills_of, orders_of, request, setup, trades_of

SWAP = "BTC/USDT:USDT"  # a margin paper account trades it with reduce-only orders: the target rests


def bar(runtime: Runtime, feed: PathFeed, o: str, h: str, low: str, c: str) -> None:
    feed.bar(o, h, low, c)
    report = sync_tick(runtime)
    assert not report.errors, report.errors


def outcome(runtime: Runtime, block_id: int) -> list[tuple[TradeStatus, CloseReason | None, D]]:
    return [(t.status, t.close_reason, t.realized_pnl) for t in trades_of(runtime.sessions, block_id)]


def exits(runtime: Runtime, block_id: int) -> list[tuple[OrderRole, D, D]]:
    """(role, price, amount) of every exit fill booked, in order."""
    return [(f.role, f.price, f.amount) for f in fills_of(runtime.sessions, block_id) if f.role is not OrderRole.ENTRY]


def statuses(runtime: Runtime, block_id: int, role: OrderRole) -> list[OrderStatus]:
    return [o.status for o in orders_of(runtime.sessions, block_id) if o.role is role]


# --- spot (STOP_RESTS): the stop rests, the target is watched on the last price ---


def test_spot_limit_entry_whose_fill_bar_reaches_the_stop(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(entry="100", stop="95", targets=("105",)))
    bar(runtime, feed, "101", "101", "94", "96")  # fills the entry at 100, then the low 94 goes through 95
    # Before: the stop was placed after this bar at 96 and rested. Now it is booked on the bar, at 95.
    assert exits(runtime, block_id) == [(OrderRole.SL, D("95"), D("1"))]
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-5.195"))]  # -5 - 0.1 - 0.095


def test_spot_a_fill_bar_closing_below_the_stop_books_the_stop_not_the_close(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(entry="100", stop="95", targets=("105",)))
    bar(runtime, feed, "101", "101", "93", "94")
    # Before: the price was past the stop, so the engine sold at market at the close, 94.
    assert exits(runtime, block_id) == [(OrderRole.SL, D("95"), D("1"))]
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-5.195"))]


def test_spot_stop_entry_filled_high_and_stopped_on_the_same_bar(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    req = request(entry="102", stop="95", targets=("110",), entry_type=EntryType.STOP)
    block_id = submit_block(runtime, user, account, req)
    bar(runtime, feed, "101", "103", "94", "94.5")  # the buy stop fills at 102; the rest of the bar falls to 94
    assert exits(runtime, block_id) == [(OrderRole.SL, D("95"), D("1"))]
    # (95 - 102) - 0.102 - 0.095
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-7.197"))]


def test_spot_market_entry_the_next_bar_reaches_the_stop(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    req = request(entry=None, stop="95", targets=("110",), entry_type=EntryType.MARKET)
    block_id = submit_block(runtime, user, account, req)  # filled at once at the last price, 101
    assert statuses(runtime, block_id, OrderRole.SL) == [OrderStatus.ACCEPTED]
    bar(runtime, feed, "101", "101", "94", "96")  # the first bar after the fill is its fill bar
    assert exits(runtime, block_id) == [(OrderRole.SL, D("95"), D("1"))]
    # (95 - 101) - 0.101 - 0.095
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-6.196"))]


def test_spot_a_fill_bar_reaching_stop_and_target_books_the_stop(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(entry="100", stop="95", targets=("105",)))
    bar(runtime, feed, "101", "106", "94", "105.5")
    # Before: the close at 105.5 was past the target and the engine sold there. Stop first now.
    assert exits(runtime, block_id) == [(OrderRole.SL, D("95"), D("1"))]
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-5.195"))]


def test_spot_a_fill_bar_reaching_only_the_target_sells_at_market(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(entry="100", stop="95", targets=("105",)))
    bar(runtime, feed, "101", "106", "99", "105.5")
    # A spot target is no order on the venue: the engine sells at market when it sees the price there.
    # The stop went first (it rested, nothing reached it) and was canceled for the exit.
    assert exits(runtime, block_id) == [(OrderRole.TP, D("105.5"), D("1"))]
    assert statuses(runtime, block_id, OrderRole.SL) == [OrderStatus.CANCELED]
    # 5.5 - 0.1 - 0.1055
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.TARGET, D("5.2945"))]


def test_spot_a_gap_through_the_stop_on_the_next_bar(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    req = request(entry="102", stop="95", targets=("110",), entry_type=EntryType.STOP)
    block_id = submit_block(runtime, user, account, req)
    bar(runtime, feed, "101", "103", "99", "102.5")  # filled at 102, the stop rests
    bar(runtime, feed, "93", "94", "92", "93.5")  # opens below the stop: filled at the open
    assert exits(runtime, block_id) == [(OrderRole.SL, D("93"), D("1"))]
    # (93 - 102) - 0.102 - 0.093
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-9.195"))]


# --- margin (REDUCE_ONLY): the stop and the target both rest ---


def test_margin_limit_entry_whose_fill_bar_reaches_the_target(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, margin=True)
    block_id = submit_block(
        runtime, user, account, request(entry="100", stop="95", targets=("105",), size="2", symbol=SWAP)
    )
    bar(runtime, feed, "101", "106", "99", "104")
    # Before: the target rested from the next bar on (the close 104 is below it). Now: at 105, maker.
    assert exits(runtime, block_id) == [(OrderRole.TP, D("105"), D("2"))]
    assert statuses(runtime, block_id, OrderRole.SL) == [OrderStatus.CANCELED]
    # 5 x 2 - 0.2 - 0.21
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.TARGET, D("9.59"))]


def test_margin_stop_entry_whose_fill_bar_reaches_both_books_the_stop(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, margin=True)
    req = request(entry="102", stop="95", targets=("105",), entry_type=EntryType.STOP, size="2", symbol=SWAP)
    block_id = submit_block(runtime, user, account, req)
    bar(runtime, feed, "101", "106", "94", "100")  # filled at 102; 105 and 95 after it: stop first
    assert exits(runtime, block_id) == [(OrderRole.SL, D("95"), D("2"))]
    assert statuses(runtime, block_id, OrderRole.TP) == [OrderStatus.EXPIRED]  # its position went with the stop
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-14.394"))]  # -7 x 2 - 0.204 - 0.19


def test_margin_two_trades_on_one_fill_bar_both_stops_first(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, margin=True)
    req = request(entry="100", stop="95", targets=("105", "106"), size="4", symbol=SWAP)
    block_id = submit_block(runtime, user, account, req)
    bar(runtime, feed, "101", "107", "94", "100")
    # The venue nets one position: both stops are sent before either target, so no target sells the
    # other trade's coins; both targets expire.
    assert exits(runtime, block_id) == [(OrderRole.SL, D("95"), D("2"))] * 2
    assert statuses(runtime, block_id, OrderRole.TP) == [OrderStatus.EXPIRED] * 2
    assert (
        outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-10.39"))] * 2
    )  # -5 x 2 - 0.2 - 0.19


def test_margin_market_entry_the_next_bar_reaches_both(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, margin=True)
    req = request(entry=None, stop="95", targets=("105",), entry_type=EntryType.MARKET, size="2", symbol=SWAP)
    block_id = submit_block(runtime, user, account, req)  # 2 at 101 at once; the stop and target rest
    bar(runtime, feed, "101", "106", "94", "100")
    assert exits(runtime, block_id) == [(OrderRole.SL, D("95"), D("2"))]
    assert statuses(runtime, block_id, OrderRole.TP) == [OrderStatus.EXPIRED]
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-12.392"))]  # -6 x 2 - 0.202 - 0.19


def test_margin_short_whose_fill_bar_reaches_the_target(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, margin=True)
    req = request(side=Side.SHORT, entry="102", stop="105", targets=("98",), size="2", symbol=SWAP)
    block_id = submit_block(runtime, user, account, req)
    bar(runtime, feed, "101", "102.5", "97.5", "98.5")  # sold at 102; the low 97.5 goes through 98
    assert exits(runtime, block_id) == [(OrderRole.TP, D("98"), D("2"))]
    # (102 - 98) x 2 - 0.204 - 0.196
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.TARGET, D("7.6"))]


def test_margin_a_gap_through_the_target_on_the_next_bar(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, margin=True)
    block_id = submit_block(
        runtime, user, account, request(entry="100", stop="95", targets=("105",), size="2", symbol=SWAP)
    )
    bar(runtime, feed, "101", "101", "99.5", "100.5")  # filled at 100; neither the stop nor the target
    bar(runtime, feed, "106", "107", "105.5", "106.5")  # opens above the target: filled at the open
    assert exits(runtime, block_id) == [(OrderRole.TP, D("106"), D("2"))]
    # 6 x 2 - 0.2 - 0.212
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.TARGET, D("11.588"))]


def test_margin_a_gap_through_the_stop_on_the_next_bar(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, margin=True)
    block_id = submit_block(
        runtime, user, account, request(entry="100", stop="95", targets=("105",), size="2", symbol=SWAP)
    )
    bar(runtime, feed, "101", "101", "99.5", "100.5")
    bar(runtime, feed, "93", "94", "92", "93.5")
    assert exits(runtime, block_id) == [(OrderRole.SL, D("93"), D("2"))]
    assert statuses(runtime, block_id, OrderRole.TP) == [OrderStatus.CANCELED]
    # (93 - 100) x 2 - 0.2 - 0.186
    assert outcome(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-14.386"))]


def test_only_a_trades_first_stop_and_target_are_contingent_on_its_entry(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    req = request(entry="100", stop="95", targets=("105", "110"), breakeven_after_first_target=True)
    block_id = submit_block(runtime, user, account, req)
    bar(runtime, feed, "101", "101", "99.5", "100.5")  # both entries fill at 100; the stops rest
    bar(runtime, feed, "100.5", "105.5", "100.5", "105.2")  # target 1 at market; trade 2's stop to break-even
    with runtime.sessions() as s:
        named = {
            o.client_order_id: contingent_on(s, o) for o in s.scalars(select(Order).where(Order.block_id == block_id))
        }
    assert named == {
        f"tb{block_id}-0-entry-1": None,
        f"tb{block_id}-1-entry-1": None,
        f"tb{block_id}-0-sl-1": f"tb{block_id}-0-entry-1",
        f"tb{block_id}-1-sl-1": f"tb{block_id}-1-entry-1",
        f"tb{block_id}-0-tp-1": None,  # a market exit: no resting child
        f"tb{block_id}-1-sl-2": None,  # the break-even stop did not exist at the fill: never matched back there
    }
    assert [(o.stop_price, o.status) for o in orders_of(runtime.sessions, block_id) if o.role is OrderRole.SL][-1] == (
        D("100.21"),
        OrderStatus.ACCEPTED,  # the rest of the fill bar went down to 99.5, below it: still resting
    )

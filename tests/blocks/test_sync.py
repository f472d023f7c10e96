"""Scenarios on scripted price paths through the paper exchange (and an in-memory venue whose fills
the test controls, for partial fills and outages), driven by engine.blocks.sync on both databases.

Paper fees are 0.1 % maker and taker; every P&L below is worked out by hand in the comments."""

from __future__ import annotations

from db.enums import BlockStatus, CloseReason, OrderRole, OrderStatus, Side, TradeStatus
from db.session import make_session_factory
from engine.blocks.commands import cancel_block, submit_block
from engine.blocks.sync import recover, sync_tick
from engine.exchanges.paper import PaperExchange
from engine.exchanges.venues import install_venue
from engine.runtime import Runtime
from tests.helpers.trading import (
    D,
    ManualVenue,
    PathFeed,
    block_of,
    fills_of,
    orders_of,
    request,
    setup,
    trades_of,
    venue_orders,
)


def step(runtime: Runtime, feed: PathFeed, o: str, h: str, low: str, c: str) -> None:
    feed.bar(o, h, low, c)
    report = sync_tick(runtime)
    assert not report.errors, report.errors


def pnl_and_reasons(runtime: Runtime, block_id: int) -> list[tuple[TradeStatus, CloseReason | None, D]]:
    return [(t.status, t.close_reason, t.realized_pnl) for t in trades_of(runtime.sessions, block_id)]


def live_stops(runtime: Runtime, block_id: int) -> list[tuple[D, D | None]]:
    return [
        (o.amount, o.stop_price)
        for o in orders_of(runtime.sessions, block_id)
        if o.role is OrderRole.SL and o.status is OrderStatus.ACCEPTED
    ]


def test_targets_in_order_with_the_stop_moved_to_breakeven(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    req = request(size="1.5", targets=("105", "110", "115"), breakeven_after_first_target=True)
    block_id = submit_block(runtime, user, account, req)
    step(runtime, feed, "101", "101", "99.5", "100.5")  # entries (limit 100) fill at 100, fee 0.05 each
    assert live_stops(runtime, block_id) == [(D("0.5"), D("95"))] * 3
    step(runtime, feed, "100.5", "105.5", "100.5", "105.2")  # target 1 reached: sold at market 105.2
    # 100 x 1.001 / 0.999 = 100.2002 -> 100.21 (rounded up to the tick)
    assert live_stops(runtime, block_id) == [(D("0.5"), D("100.21"))] * 2
    step(runtime, feed, "105.2", "110.6", "105", "110.4")  # target 2 at 110.4
    step(runtime, feed, "110.4", "110.4", "100", "100.1")  # back down: the break-even stop fills at 100.21
    assert pnl_and_reasons(runtime, block_id) == [
        (TradeStatus.CLOSED, CloseReason.TARGET, D("2.4974")),  # 5.2 x 0.5 - 0.05 - 0.0526
        (TradeStatus.CLOSED, CloseReason.TARGET, D("5.0948")),  # 10.4 x 0.5 - 0.05 - 0.0552
        (TradeStatus.CLOSED, CloseReason.BREAKEVEN, D("0.004895")),  # 0.21 x 0.5 - 0.05 - 0.050105
    ]
    block = block_of(runtime.sessions, block_id)
    assert (block.status, block.last_error) == (BlockStatus.CLOSED, None)
    fills = fills_of(runtime.sessions, block_id)
    assert len(fills) == 6
    assert sum(f.realized_pnl for f in fills if f.realized_pnl is not None) == D("7.597095")
    assert not [o for o in venue_orders(runtime.sessions).values() if o.status == "open"]


def test_stop_hit(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request())
    step(runtime, feed, "101", "101", "99.5", "100.5")
    step(runtime, feed, "99", "99.5", "94", "96")  # the stop 95 is touched: fills at 95
    # (95 - 100) x 0.5 - 0.05 - 0.0475
    assert pnl_and_reasons(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-2.5975"))] * 2
    assert block_of(runtime.sessions, block_id).status is BlockStatus.CLOSED


def test_a_gap_through_the_stop_fills_at_the_open(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request())
    step(runtime, feed, "101", "101", "99.5", "100.5")
    step(runtime, feed, "93", "94", "92", "93.5")  # opens below the stop: fills at 93
    # (93 - 100) x 0.5 - 0.05 - 0.0465
    assert pnl_and_reasons(runtime, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-3.5965"))] * 2
    assert {o.average for o in orders_of(runtime.sessions, block_id) if o.role is OrderRole.SL} == {D("93")}


def test_short_on_a_margin_paper_account(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, margin=True)
    req = request(side=Side.SHORT, entry="102", stop="105", targets=("98", "95"))
    block_id = submit_block(runtime, user, account, req)
    step(runtime, feed, "101", "102.5", "100.5", "102.2")  # sold at 102, fee 0.051 each
    assert live_stops(runtime, block_id) == [(D("0.5"), D("105"))] * 2
    assert {o.side for o in orders_of(runtime.sessions, block_id) if o.role is OrderRole.SL} == {"buy"}
    step(runtime, feed, "102.2", "102.2", "97.5", "97.8")  # target 1: bought back at 97.8
    step(runtime, feed, "106", "107", "105.5", "106.5")  # gap up through the stop: bought at 106
    assert pnl_and_reasons(runtime, block_id) == [
        (TradeStatus.CLOSED, CloseReason.TARGET, D("2.0001")),  # 4.2 x 0.5 - 0.051 - 0.0489
        (TradeStatus.CLOSED, CloseReason.STOP, D("-2.104")),  # -4 x 0.5 - 0.051 - 0.053
    ]


def test_partial_entry_fills_are_protected_and_resized(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    venue = ManualVenue()
    install_venue(runtime, account, venue)
    block_id = submit_block(runtime, user, account, request(targets=("110",)))
    cid = f"tb{block_id}-0-entry-1"
    venue.fill(cid, D("0.4"), D("100"))
    sync_tick(runtime)
    assert [(o.amount, o.stop_price) for o in venue.live("sl")] == [(D("0.4"), D("95"))]
    (trade,) = trades_of(runtime.sessions, block_id)
    assert (trade.status, trade.entry_filled) == (TradeStatus.OPEN, D("0.4"))
    venue.fill(cid, D("0.6"), D("99"))
    sync_tick(runtime)  # the 0.4 stop is canceled and a 1.0 stop placed, in one tick
    assert [(o.client_order_id, o.amount) for o in venue.live("sl")] == [(f"tb{block_id}-0-sl-2", D("1"))]
    (trade,) = trades_of(runtime.sessions, block_id)
    assert (trade.entry_filled, trade.entry_average) == (D("1"), D("99.4"))
    venue.fill(f"tb{block_id}-0-sl-2", D("1"), D("95"))
    sync_tick(runtime)
    (trade,) = trades_of(runtime.sessions, block_id)
    assert (trade.status, trade.close_reason, trade.realized_pnl) == (TradeStatus.CLOSED, CloseReason.STOP, D("-4.4"))


def test_a_partly_filled_entry_that_times_out_keeps_its_filled_part(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    venue = ManualVenue()
    install_venue(runtime, account, venue)
    block_id = submit_block(runtime, user, account, request(targets=("110",), entry_timeout_s=120))
    venue.fill(f"tb{block_id}-0-entry-1", D("0.3"), D("100"))
    sync_tick(runtime)
    feed.flat("101", 2)
    sync_tick(runtime)
    (entry, *_rest) = orders_of(runtime.sessions, block_id)
    (trade,) = trades_of(runtime.sessions, block_id)
    assert (entry.status, trade.status, trade.entry_filled) == (OrderStatus.CANCELED, TradeStatus.OPEN, D("0.3"))
    assert [o.amount for o in venue.live("sl")] == [D("0.3")]


def test_an_unfilled_entry_times_out_and_the_block_is_canceled(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(entry="90", stop="85", entry_timeout_s=60))
    feed.flat("101")
    sync_tick(runtime)
    block = block_of(runtime.sessions, block_id)
    assert block.status is BlockStatus.CANCELED
    assert {o.status for o in venue_orders(runtime.sessions).values()} == {"canceled"}


def test_max_duration_closes_the_position_at_market(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(targets=("110",), max_duration_s=180))
    step(runtime, feed, "101", "101", "99.5", "100.5")
    feed.flat("102", 2)
    sync_tick(runtime)
    assert trades_of(runtime.sessions, block_id)[0].status is TradeStatus.OPEN
    feed.flat("102", 2)
    sync_tick(runtime)
    (trade,) = trades_of(runtime.sessions, block_id)
    # (102 - 100) x 1 - 0.1 - 0.102
    assert (trade.status, trade.close_reason, trade.realized_pnl) == (TradeStatus.CLOSED, CloseReason.TIME, D("1.798"))


def test_cancel_mid_flight_closes_what_is_left(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request())
    step(runtime, feed, "101", "101", "99.5", "100.5")
    step(runtime, feed, "100.5", "105.5", "100.5", "105.2")
    feed.flat("103")
    cancel_block(runtime, user, block_id, close_positions=True)
    assert pnl_and_reasons(runtime, block_id) == [
        (TradeStatus.CLOSED, CloseReason.TARGET, D("2.4974")),
        (TradeStatus.CLOSED, CloseReason.CANCEL, D("1.3985")),  # 3 x 0.5 - 0.05 - 0.0515
    ]
    assert block_of(runtime.sessions, block_id).status is BlockStatus.CLOSED


def test_restart_mid_flight_continues_on_the_same_database(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request())
    step(runtime, feed, "101", "101", "99.5", "100.5")
    fresh = Runtime(runtime.settings, runtime.db, make_session_factory(runtime.db), {"demo": feed})
    assert not recover(fresh).errors
    feed.bar("99", "99.5", "94", "96")
    sync_tick(fresh)
    assert pnl_and_reasons(fresh, block_id) == [(TradeStatus.CLOSED, CloseReason.STOP, D("-2.5975"))] * 2
    assert len(venue_orders(runtime.sessions)) == 4  # two entries, two stops: nothing sent twice


def test_a_stop_canceled_behind_our_back_is_replaced(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(targets=("110",)))
    step(runtime, feed, "101", "101", "99.5", "100.5")
    paper = PaperExchange(runtime.sessions, venue_orders(runtime.sessions)[f"tb{block_id}-0-sl-1"].account_id, feed)
    paper.cancel_order(client_order_id=f"tb{block_id}-0-sl-1")
    sync_tick(runtime)
    statuses = {o.client_order_id: o.status for o in orders_of(runtime.sessions, block_id)}
    assert statuses[f"tb{block_id}-0-sl-1"] is OrderStatus.CANCELED
    assert statuses[f"tb{block_id}-0-sl-2"] is OrderStatus.ACCEPTED


def test_an_order_the_venue_forgot_is_marked_and_the_trade_reprotected(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    venue = ManualVenue()
    install_venue(runtime, account, venue)
    block_id = submit_block(runtime, user, account, request(targets=("110",)))
    venue.fill(f"tb{block_id}-0-entry-1", D("1"), D("100"))
    sync_tick(runtime)
    del venue.orders[f"tb{block_id}-0-sl-1"]
    sync_tick(runtime)
    sl1 = next(o for o in orders_of(runtime.sessions, block_id) if o.client_order_id.endswith("sl-1"))
    assert (sl1.status, sl1.last_error) == (OrderStatus.CANCELED, "the venue no longer knows this order")
    assert [o.client_order_id for o in venue.live("sl")] == [f"tb{block_id}-0-sl-2"]


def test_an_outage_is_retried_surfaced_and_never_doubles_an_order(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    venue = ManualVenue()
    install_venue(runtime, account, venue)
    block_id = submit_block(runtime, user, account, request(targets=("110",)), drive=False)
    venue.down = True
    reports = [sync_tick(runtime) for _ in range(6)]
    assert all(r.errors for r in reports)
    (entry,) = orders_of(runtime.sessions, block_id)
    assert entry.status is OrderStatus.SUBMITTED  # maybe sent: kept for the lookup by client id
    assert "venue down" in (block_of(runtime.sessions, block_id).last_error or "")
    venue.down = False
    sync_tick(runtime)
    (entry,) = orders_of(runtime.sessions, block_id)
    assert entry.status is OrderStatus.ACCEPTED
    assert list(venue.orders) == [f"tb{block_id}-0-entry-1"]


def test_a_refused_entry_is_rejected_with_its_reason_on_the_block(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, balance="150")
    block_id = submit_block(runtime, user, account, request(size="1.499", targets=("110",)))  # 149.9 + fee > 150
    (entry,) = orders_of(runtime.sessions, block_id)
    assert entry.status is OrderStatus.REJECTED
    block = block_of(runtime.sessions, block_id)
    assert block.status is BlockStatus.CANCELED
    assert "rejected" in (block.last_error or "")

"""Amending live blocks through engine.blocks.amend on the paper exchange (both databases): the stop,
targets, break-even, adding and removing targets, resizing what is unfilled; refusals write nothing."""

from __future__ import annotations

import pytest

from db.enums import CloseReason, EntryType, OrderRole, OrderStatus, Side, TradeStatus
from engine.blocks.amend import amend_block
from engine.blocks.amend_plan import BlockAmend, NewTarget
from engine.blocks.commands import BlockAccessError, submit_block
from engine.blocks.plan import BlockRejected
from engine.blocks.sync import sync_tick
from engine.exchanges.venues import install_venue
from engine.runtime import Runtime
from tests.helpers.trading import (
    D,
    ManualVenue,
    PathFeed,
    add_user,
    block_of,
    counts,
    orders_of,
    request,
    setup,
    trades_of,
    venue_orders,
)


def _open_block(runtime: Runtime, feed: PathFeed, **options: object) -> tuple[int, int]:
    """(user, block) of a market-entry long at 101: both trades open, stops at 95 resting."""
    user, account = setup(runtime, feed)
    req = request(entry=None, entry_type=EntryType.MARKET, **options)  # type: ignore[arg-type]
    return user, submit_block(runtime, user, account, req)


def _resting(runtime: Runtime, role: OrderRole) -> list[tuple[str, object, object]]:
    """(client id, amount, stop or limit price) of the orders of `role` resting on the venue."""
    rows = [o for o in venue_orders(runtime.sessions).values() if o.status == "open"]
    suffix = f"-{role.value}-"
    return sorted((o.client_order_id, o.amount, o.stop_price or o.price) for o in rows if suffix in o.client_order_id)


def test_moving_the_stop_replaces_every_stop_on_the_venue(runtime: Runtime, feed: PathFeed) -> None:
    user, block_id = _open_block(runtime, feed)
    outcome = amend_block(runtime, user, block_id, BlockAmend(stop_price=D("97.5")))
    assert outcome.trades_changed == 2
    assert outcome.last_error is None
    assert _resting(runtime, OrderRole.SL) == [
        (f"tb{block_id}-0-sl-2", D("0.500"), D("97.5")),
        (f"tb{block_id}-1-sl-2", D("0.500"), D("97.5")),
    ]
    old = [o for o in orders_of(runtime.sessions, block_id) if o.client_order_id.endswith("-sl-1")]
    assert {o.status for o in old} == {OrderStatus.CANCELED}
    assert block_of(runtime.sessions, block_id).stop_price == D("97.5")
    # the moved stop is the block's stop: a fill there closes the trades by the stop
    feed.bar("101", "101", "97", "97")
    sync_tick(runtime)
    assert [(t.status, t.close_reason) for t in trades_of(runtime.sessions, block_id)] == [
        (TradeStatus.CLOSED, CloseReason.STOP)
    ] * 2


def test_one_trade_stop_and_break_even(runtime: Runtime, feed: PathFeed) -> None:
    user, block_id = _open_block(runtime, feed)
    amend_block(runtime, user, block_id, BlockAmend(stop_price=D("96"), stop_trade=1))
    assert [(cid[-4:], price) for cid, _a, price in _resting(runtime, OrderRole.SL)] == [
        ("sl-1", D("95")),
        ("sl-2", D("96")),
    ]
    feed.flat("103")
    sync_tick(runtime)
    amend_block(runtime, user, block_id, BlockAmend(breakeven=True))
    # the entry average 101, exactly on the tick: both stops there
    assert {price for _c, _a, price in _resting(runtime, OrderRole.SL)} == {D("101")}
    assert [t.stop_price for t in trades_of(runtime.sessions, block_id)] == [D("101"), D("101")]


def test_moving_a_target_and_removing_one(runtime: Runtime, feed: PathFeed) -> None:
    user, block_id = _open_block(runtime, feed, targets=("105", "110", "115"))
    amend_block(runtime, user, block_id, BlockAmend(targets=((0, D("104")),)))
    assert trades_of(runtime.sessions, block_id)[0].target_price == D("104")
    feed.bar("101", "104", "101", "104")  # the moved target is reached
    sync_tick(runtime)
    amend_block(runtime, user, block_id, BlockAmend(remove_target=2))
    trades = trades_of(runtime.sessions, block_id)
    assert [(t.status, t.close_reason) for t in trades] == [
        (TradeStatus.CLOSED, CloseReason.TARGET),
        (TradeStatus.OPEN, None),
        (TradeStatus.CLOSED, CloseReason.CANCEL),  # removed: closed at market
    ]
    assert len(_resting(runtime, OrderRole.SL)) == 1


def test_resize_and_add_target_replace_the_unfilled_entries(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(entry="99"))  # limit entries rest at 99
    amend_block(runtime, user, block_id, BlockAmend(size=D("2")))
    assert _resting(runtime, OrderRole.ENTRY) == [
        (f"tb{block_id}-0-entry-2", D("1.000"), D("99")),
        (f"tb{block_id}-1-entry-2", D("1.000"), D("99")),
    ]
    amend_block(runtime, user, block_id, BlockAmend(add_target=NewTarget(D("115"))))
    entries = _resting(runtime, OrderRole.ENTRY)
    assert [(cid.split("-", 1)[1], amount) for cid, amount, _p in entries] == [
        ("0-entry-3", D("0.666")),
        ("1-entry-3", D("0.666")),
        ("2-entry-1", D("0.668")),
    ]
    assert [t.target_price for t in trades_of(runtime.sessions, block_id)] == [D("105"), D("110"), D("115")]
    feed.bar("100", "100", "98.5", "99")  # every entry fills, every trade gets its stop
    sync_tick(runtime)
    assert [a for _c, a, _p in _resting(runtime, OrderRole.SL)] == [D("0.666"), D("0.666"), D("0.668")]


REFUSALS = {
    "stop above the price of an open long": (BlockAmend(stop_price=D("102")), "stop_price"),
    "off-tick stop": (BlockAmend(stop_price=D("96.123")), "stop_price"),
    "target below the entry": (BlockAmend(targets=((0, D("100")),)), "targets[0].price"),
    "targets out of order": (BlockAmend(targets=((1, D("104")),)), "targets[1].price"),
    "no such target": (BlockAmend(targets=((5, D("120")),)), "targets[5].price"),
    "resize of filled entries": (BlockAmend(size=D("3")), "size"),
    "a good removal with a bad stop": (BlockAmend(remove_target=0, stop_price=D("102")), "stop_price"),
    "nothing": (BlockAmend(), "amend"),
    "below the market's lowest price": (BlockAmend(stop_price=D("0.001")), "stop_price"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refused_amend_changes_nothing(runtime: Runtime, feed: PathFeed, case: str) -> None:
    user, block_id = _open_block(runtime, feed)
    before = (counts(runtime.sessions), [(t.stop_price, t.target_price) for t in trades_of(runtime.sessions, block_id)])
    change, field = REFUSALS[case]
    with pytest.raises(BlockRejected) as caught:
        amend_block(runtime, user, block_id, change)
    assert field in {e.field for e in caught.value.errors}, caught.value.errors
    after = (counts(runtime.sessions), [(t.stop_price, t.target_price) for t in trades_of(runtime.sessions, block_id)])
    assert after == before


def test_an_off_tick_price_is_refused_with_the_two_nearest(runtime: Runtime, feed: PathFeed) -> None:
    user, block_id = _open_block(runtime, feed)
    with pytest.raises(BlockRejected) as caught:
        amend_block(runtime, user, block_id, BlockAmend(stop_price=D("96.123")))
    (error,) = caught.value.errors
    assert "use 96.12 or 96.13" in error.message


def test_another_users_block_cannot_be_amended(runtime: Runtime, feed: PathFeed) -> None:
    _user, block_id = _open_block(runtime, feed)
    mallory = add_user(runtime.sessions, "mallory")
    before = counts(runtime.sessions)
    with pytest.raises(BlockAccessError):
        amend_block(runtime, mallory, block_id, BlockAmend(stop_price=D("96")))
    assert counts(runtime.sessions) == before


def test_the_last_live_target_cannot_be_removed(runtime: Runtime, feed: PathFeed) -> None:
    user, block_id = _open_block(runtime, feed, targets=("105",))
    with pytest.raises(BlockRejected) as caught:
        amend_block(runtime, user, block_id, BlockAmend(remove_target=0))
    assert [e.field for e in caught.value.errors] == ["remove_target"]
    assert trades_of(runtime.sessions, block_id)[0].close_reason is None


def test_an_entry_that_fills_before_its_cancel_lands_shrinks_its_replacement(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    venue = ManualVenue()
    install_venue(runtime, account, venue)
    block_id = submit_block(runtime, user, account, request(targets=("110",)))  # 1 at 100, resting
    amend_block(runtime, user, block_id, BlockAmend(size=D("2")), drive=False)
    venue.fill(f"tb{block_id}-0-entry-1", D("0.3"), D("100"))  # the old entry fills in part meanwhile
    assert [o.client_order_id for o in venue.live("entry")] == [f"tb{block_id}-0-entry-1"]  # nothing sent yet
    sync_tick(runtime)
    (entry,) = venue.live("entry")
    assert (entry.client_order_id, entry.amount) == (f"tb{block_id}-0-entry-2", D("1.7"))  # 2 less the 0.3 held
    assert [(o.amount, o.stop_price) for o in venue.live("sl")] == [(D("0.3"), D("95"))]  # what is held is protected


def test_a_shorts_break_even_rounds_down_to_the_tick(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, margin=True)
    req = request(entry=None, entry_type=EntryType.MARKET, side=Side.SHORT, stop="105", targets=("95",))
    venue = ManualVenue(price="100.005")
    install_venue(runtime, account, venue)
    block_id = submit_block(runtime, user, account, req)
    assert trades_of(runtime.sessions, block_id)[0].entry_average == D("100.005")
    feed.flat("99")
    amend_block(runtime, user, block_id, BlockAmend(breakeven=True))
    assert [o.stop_price for o in venue.live("sl")] == [D("100")]  # 100.005 down to the 0.01 tick

"""Submitting and canceling blocks through engine.blocks.commands on the paper exchange (both databases)."""

from __future__ import annotations

import re

import pytest

from db.enums import (
    BlockStatus,
    CloseReason,
    EntryType,
    OrderRole,
    OrderStatus,
    OrderType,
    ProtectionMode,
    Side,
    TradeStatus,
)
from engine.blocks.commands import (
    BlockAccessError,
    can_short,
    cancel_block,
    preview_block,
    submit_block,
)
from engine.blocks.plan import BlockRejected
from engine.blocks.queries import owned_block
from engine.blocks.sync import sync_tick
from engine.runtime import Runtime
from engine.users.accounts import AccountAccessError, get_account, open_paper_account, user_accounts
from tests.helpers.trading import (
    D,
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


def test_submit_writes_the_block_its_trades_and_one_entry_intent_each(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(targets=("105", "110", "115")), drive=False)
    block = block_of(runtime.sessions, block_id)
    assert (block.status, block.protection_mode, block.total_amount) == (
        BlockStatus.PENDING,
        ProtectionMode.STOP_RESTS,
        D("1.000"),
    )
    trades = trades_of(runtime.sessions, block_id)
    assert [t.amount for t in trades] == [D("0.333"), D("0.333"), D("0.334")]
    assert sum(t.amount for t in trades) == block.total_amount
    orders = orders_of(runtime.sessions, block_id)
    ids = [o.client_order_id for o in orders]
    assert ids == [f"tb{block_id}-{i}-entry-1" for i in range(3)]
    assert all(len(i) <= 36 and re.fullmatch(r"[A-Za-z0-9-]+", i) for i in ids)
    assert {(o.role, o.type, o.side, o.price, o.status) for o in orders} == {
        (OrderRole.ENTRY, OrderType.LIMIT, "buy", D("100"), OrderStatus.INITIALIZED)
    }
    assert [o.amount for o in orders] == [t.amount for t in trades]
    assert venue_orders(runtime.sessions) == {}  # drive=False: nothing sent yet


def test_submit_sends_the_entries_right_away(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request())
    on_venue = venue_orders(runtime.sessions)
    assert sorted(on_venue) == [f"tb{block_id}-0-entry-1", f"tb{block_id}-1-entry-1"]
    assert {o.status for o in orders_of(runtime.sessions, block_id)} == {OrderStatus.ACCEPTED}


def test_a_market_entry_is_filled_and_protected_within_the_submit(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(entry=None, entry_type=EntryType.MARKET))
    trades = trades_of(runtime.sessions, block_id)
    assert [t.status for t in trades] == [TradeStatus.OPEN, TradeStatus.OPEN]
    assert all(t.entry_average == D("101") for t in trades)
    stops = [o for o in orders_of(runtime.sessions, block_id) if o.role is OrderRole.SL]
    assert [(o.amount, o.stop_price, o.status) for o in stops] == [(D("0.500"), D("95"), OrderStatus.ACCEPTED)] * 2
    assert block_of(runtime.sessions, block_id).status is BlockStatus.ACTIVE


REJECTIONS = {
    "stop on the wrong side": ({"stop": "102"}, "stop_price"),
    "too small after rounding": ({"size": "0.0004"}, "size_value"),
    "under the minimum order": ({"size": "0.04", "targets": ("105", "110")}, "targets[0]"),
    "short on spot": ({"side": Side.SHORT, "stop": "105", "targets": ("95",)}, "side"),
    "over the free balance": ({"size": "150"}, "size_value"),
    "unknown market": ({"symbol": "DOGE/USDT"}, "symbol"),
}


@pytest.mark.parametrize("case", sorted(REJECTIONS))
def test_a_rejected_block_writes_no_row_and_places_no_order(runtime: Runtime, feed: PathFeed, case: str) -> None:
    user, account = setup(runtime, feed)
    options, field = REJECTIONS[case]
    with pytest.raises(BlockRejected) as info:
        submit_block(runtime, user, account, request(**options))  # type: ignore[arg-type]
    assert field in {e.field for e in info.value.errors}, info.value.errors
    assert counts(runtime.sessions) == (0, 0, 0, 0)


def test_another_users_account_is_refused_without_a_trace(runtime: Runtime, feed: PathFeed) -> None:
    _alice, account = setup(runtime, feed)
    bob = add_user(runtime.sessions, "bob")
    with pytest.raises(AccountAccessError):
        submit_block(runtime, bob, account, request())
    assert isinstance(AccountAccessError(1), PermissionError)
    assert counts(runtime.sessions) == (0, 0, 0, 0)
    with runtime.sessions() as s, pytest.raises(PermissionError):
        get_account(s, bob, account)
    with runtime.sessions() as s:
        assert user_accounts(s, bob) == []


def test_a_short_is_offered_only_where_the_account_can_short_the_market(runtime: Runtime, feed: PathFeed) -> None:
    user, spot = setup(runtime, feed)
    margin = open_paper_account(runtime.sessions, user, "margin", balance=D(1000), margin=True).id
    assert (can_short(runtime, user, spot, "SOL/USDT"), can_short(runtime, user, margin, "SOL/USDT")) == (False, True)
    assert can_short(runtime, user, margin, "DOGE/USDT") is False  # no such market
    with pytest.raises(BlockRejected) as info:  # and the engine refuses one anyway, saying why
        submit_block(runtime, user, spot, request(side=Side.SHORT, stop="105", targets=("95",)))
    assert [(e.field, e.message) for e in info.value.errors] == [
        (
            "side",
            "SOL/USDT on demo is a spot market and cannot be shorted: choose long, or a market that allows shorting.",
        )
    ]
    bob = add_user(runtime.sessions, "bob")
    with pytest.raises(AccountAccessError):
        can_short(runtime, bob, margin, "SOL/USDT")


def test_a_short_on_a_margin_paper_account_is_accepted(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed, margin=True)
    block_id = submit_block(runtime, user, account, request(side=Side.SHORT, entry="102", stop="105", targets=("95",)))
    (entry,) = orders_of(runtime.sessions, block_id)
    assert (entry.side, entry.status) == ("sell", OrderStatus.ACCEPTED)


def test_cancel_keeping_protection_cancels_entries_and_leaves_the_stop(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(entry="100.5", targets=("105", "110")))
    feed.bar("101", "101", "100.4", "100.8")  # trades through 100.5: both entries fill
    sync_tick(runtime)  # the scheduler's tick sees it (a submit syncs its own block only)
    other = submit_block(runtime, user, account, request(entry="99", targets=("105",)))
    unfilled = cancel_block(runtime, user, other, close_positions=False)
    assert (unfilled.before, unfilled.after, unfilled.open_trades) == (BlockStatus.PENDING, BlockStatus.CANCELED, 0)
    assert block_of(runtime.sessions, other).status is BlockStatus.CANCELED
    assert [t.status for t in trades_of(runtime.sessions, other)] == [TradeStatus.CANCELED]
    kept = cancel_block(runtime, user, block_id, close_positions=False)
    # Fully filled: nothing to cancel, the block keeps working, and the outcome says so.
    assert (kept.before, kept.after, kept.open_trades) == (BlockStatus.ACTIVE, BlockStatus.ACTIVE, 2)
    assert block_of(runtime.sessions, block_id).status is BlockStatus.ACTIVE
    stops = [o for o in orders_of(runtime.sessions, block_id) if o.role is OrderRole.SL]
    assert [o.status for o in stops] == [OrderStatus.ACCEPTED] * 2
    assert venue_orders(runtime.sessions)[f"tb{other}-0-entry-1"].status == "canceled"


def test_cancel_closing_positions_exits_at_market(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request(entry="100.5", targets=("105", "110")))
    feed.bar("101", "101", "100.4", "100.8")
    sync_tick(runtime)
    cancel_block(runtime, user, block_id, close_positions=True)
    block = block_of(runtime.sessions, block_id)
    assert block.status is BlockStatus.CLOSED
    trades = trades_of(runtime.sessions, block_id)
    assert [(t.status, t.close_reason, t.exit_average) for t in trades] == [
        (TradeStatus.CLOSED, CloseReason.CANCEL, D("100.8"))
    ] * 2
    # (100.8 - 100.5) x 0.5 less 0.1 % maker on entry and 0.1 % taker on exit
    assert trades[0].realized_pnl == D("0.15") - D("0.05025") - D("0.0504")
    assert not [o for o in venue_orders(runtime.sessions).values() if o.status == "open"]
    again = cancel_block(runtime, user, block_id, close_positions=True)  # archived: a second cancel changes nothing
    assert (again.before, again.after) == (BlockStatus.CLOSED, BlockStatus.CLOSED)
    assert block_of(runtime.sessions, block_id).status is BlockStatus.CLOSED


def test_nobody_reaches_another_users_block(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    block_id = submit_block(runtime, user, account, request())
    bob = add_user(runtime.sessions, "bob")
    bob_account = open_paper_account(runtime.sessions, bob, "bob-paper")
    with runtime.sessions() as s:
        assert owned_block(s, user, block_id).id == block_id
        with pytest.raises(BlockAccessError):
            owned_block(s, bob, block_id)
    with pytest.raises(PermissionError):
        cancel_block(runtime, bob, block_id, close_positions=True)
    assert bob_account.user_id == bob


def test_a_block_on_another_exchanges_market_is_refused_at_the_account_writing_and_sending_nothing(
    runtime: Runtime, feed: PathFeed
) -> None:
    user, account = setup(runtime, feed)  # a paper account on the demo exchange
    elsewhere = request(exchange="binance")
    with pytest.raises(BlockRejected) as refused:
        submit_block(runtime, user, account, elsewhere)
    message = "This account trades on demo; the chart shows binance."
    assert [(e.field, e.message) for e in refused.value.errors] == [("account", message)]
    assert counts(runtime.sessions) == (0, 0, 0, 0)
    assert venue_orders(runtime.sessions) == {}
    shown = preview_block(runtime, user, account, elsewhere)
    assert [(e.field, e.message) for e in shown.errors] == [("account", message)]
    assert shown.size is None
    # The same block on the account's own exchange is placed.
    block_id = submit_block(runtime, user, account, request(exchange="demo"))
    assert block_of(runtime.sessions, block_id).status is BlockStatus.PENDING

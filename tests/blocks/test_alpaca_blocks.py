"""Blocks on US stocks through a live alpaca account end to end (ProtectionMode.STOP_RESTS): a real
CcxtTradingVenue over ccxt's alpaca class, the paper trading simulator (tests/helpers/alpaca_sim.py)
as its HTTP layer. A block submitted while the market is closed sends nothing and says it waits for
the open, then its entry goes out once; whole-share stocks round sizes down to a share (or refuse
below one at the size field); fractional sizes go as day orders; the stop rests as a stop-limit and
the desk watches the target (a market exit); outside hours the desk decides nothing on the price,
the stop keeps resting, a fractional day stop that expired at the close is placed again at the open.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from db.enums import BlockStatus, CloseReason, EntryType, OrderRole, OrderStatus, ProtectionMode, TradeStatus
from db.models import NotificationOutbox
from engine.blocks.commands import preview_block, submit_block
from engine.blocks.detail import block_detail
from engine.blocks.plan import BlockRejected
from engine.blocks.queries import table_rows
from engine.blocks.sync import sync_tick
from engine.notify.api import save_url
from engine.runtime import Runtime
from tests.helpers.alpaca_desk import AlpacaDesk, make_alpaca_desk, orders_match_venue
from tests.helpers.trading import block_of, fills_of, orders_of, request, trades_of

D = Decimal
WAITING = "waiting for the market to open: the entry order tb1-0-entry-1 is sent at 2024-07-18 09:10 UTC"


@pytest.fixture
def desk(runtime: Runtime) -> AlpacaDesk:
    """Before the open (the recorded clock: 08:10 UTC, the open at 09:10)."""
    desk = make_alpaca_desk(runtime)
    save_url(runtime, desk.user_id, "json://127.0.0.1:9/")  # notifications are booked (never sent here)
    return desk


@pytest.fixture
def open_desk(desk: AlpacaDesk) -> AlpacaDesk:
    desk.open_market()
    return desk


def submit(desk: AlpacaDesk, symbol: str, size: str, stop: str = "190", targets: tuple[str, ...] = ("210",)) -> int:
    req = request(None, stop, targets, size, entry_type=EntryType.MARKET, symbol=symbol)
    return submit_block(desk.runtime, desk.user_id, desk.account_id, req)


def resting(desk: AlpacaDesk) -> list[tuple[str, str, str, str | None, str]]:
    """(client id, type, qty, stop price, time in force) of the orders resting on the venue."""
    return [
        (o["client_order_id"], o["type"], o["qty"], o["stop_price"], o["time_in_force"]) for o in desk.sim.open_orders()
    ]


def assert_db_is_venue(desk: AlpacaDesk, block_id: int) -> None:
    by_venue_id = orders_match_venue(desk, block_id)
    venue_fills = sorted((f["id"], by_venue_id[f["order_id"]].id, D(f["qty"])) for f in desk.sim.fills)
    db_fills = sorted((f.exchange_trade_id, f.order_id, f.amount) for f in fills_of(desk.runtime.sessions, block_id))
    assert db_fills == venue_fills
    assert max(desk.sim.posts.values(), default=0) <= 1, desk.sim.posts


def notices(desk: AlpacaDesk) -> list[str]:
    with desk.runtime.sessions() as s:
        titles = s.scalars(select(NotificationOutbox.title).where(NotificationOutbox.user_id == desk.user_id))
        return sorted(t.split(" #")[0] for t in titles)


def clock_calls(desk: AlpacaDesk) -> int:
    return sum(r.path == "/v2/clock" for r in desk.sim.requests)


def test_a_block_submitted_while_the_market_is_closed_waits_says_so_and_enters_once_after_the_open(
    desk: AlpacaDesk,
) -> None:
    runtime = desk.runtime
    req = request(None, "190", ("210",), "10", entry_type=EntryType.MARKET, symbol="AAPL/USD")
    preview = preview_block(runtime, desk.user_id, desk.account_id, req)
    assert preview.errors == ()
    assert preview.protection == (
        "The stop rests on alpaca; targets are watched by the desk (a market exit when crossed)."
    )
    block_id = submit_block(runtime, desk.user_id, desk.account_id, req)
    assert block_of(runtime.sessions, block_id).protection_mode is ProtectionMode.STOP_RESTS
    for _ in range(8):  # a long wait: no order, no backoff, no "not placed after 5 attempts"
        sync_tick(runtime)
    assert desk.sim.posts == {}
    (entry,) = orders_of(runtime.sessions, block_id)
    # never sent: still an intent, no attempt counted, the reason on the order and the block
    assert (entry.status, entry.attempts, entry.last_error) == (OrderStatus.INITIALIZED, 0, WAITING)
    block = block_of(runtime.sessions, block_id)
    assert (block.status, block.last_error) == (BlockStatus.PENDING, WAITING)
    # what the user sees: the blocks table's row and the block's detail
    (row,) = table_rows(runtime, desk.user_id, live=True)
    assert (row.entry_order, row.last_error) == (OrderStatus.INITIALIZED, WAITING)
    assert block_detail(runtime, desk.user_id, block_id).orders[0].last_error == WAITING
    assert notices(desk) == []
    assert clock_calls(desk) == 1  # the clock is cached until the open it announced

    desk.open_market()
    sync_tick(runtime)  # the first tick after the open sends the entry
    sync_tick(runtime)
    assert desk.sim.posts["tb1-0-entry-1"] == 1
    entry, _stop = orders_of(runtime.sessions, block_id)
    assert (entry.status, entry.filled, entry.average, entry.last_error) == (OrderStatus.FILLED, D(10), D(200), None)
    assert block_of(runtime.sessions, block_id).last_error is None
    assert resting(desk) == [("tb1-0-sl-1", "stop_limit", "10", "190", "gtc")]
    assert_db_is_venue(desk, block_id)


def test_a_whole_share_stock_rounds_the_size_down_to_shares_or_refuses_less_than_one(open_desk: AlpacaDesk) -> None:
    desk = open_desk
    req = request(None, "45", ("55",), "10.7", entry_type=EntryType.MARKET, symbol="WSHR/USD")
    assert preview_block(desk.runtime, desk.user_id, desk.account_id, req).size == D(10)  # what the form shows
    block_id = submit(desk, "WSHR/USD", "10.7", stop="45", targets=("55",))
    (trade,) = trades_of(desk.runtime.sessions, block_id)
    assert trade.amount == D(10)
    sync_tick(desk.runtime)
    assert desk.sim.positions["WSHR"] == D(10)
    assert [(cid, qty) for cid, _t, qty, _s, _f in resting(desk)] == [("tb1-0-sl-1", "10")]
    with pytest.raises(BlockRejected) as refused:
        submit(desk, "WSHR/USD", "0.5", stop="45", targets=("55",))
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("size_value", "The size rounds down to 0 WSHR at this market's amount step 1.")
    ]
    assert len(desk.sim.orders) == 2  # nothing sent for the refused block
    assert_db_is_venue(desk, block_id)


def test_a_fractional_stock_goes_as_day_orders(open_desk: AlpacaDesk) -> None:
    desk = open_desk
    block_id = submit(desk, "AAPL/USD", "0.5")
    sync_tick(desk.runtime)
    sent = {o["client_order_id"]: (o["qty"], o["type"], o["time_in_force"]) for o in desk.sim.orders.values()}
    assert sent == {"tb1-0-entry-1": ("0.5", "market", "day"), "tb1-0-sl-1": ("0.5", "stop_limit", "day")}
    assert desk.sim.positions["AAPL"] == D("0.5")
    assert_db_is_venue(desk, block_id)


def test_the_stop_rests_as_a_stop_limit_the_desk_takes_the_target_at_market_and_the_pnl_is_exact(
    open_desk: AlpacaDesk,
) -> None:
    desk, runtime = open_desk, open_desk.runtime
    block_id = submit(desk, "AAPL/USD", "4", stop="190", targets=("210.25", "220"))
    sync_tick(runtime)
    assert sorted(resting(desk)) == [
        ("tb1-0-sl-1", "stop_limit", "2", "190", "gtc"),
        ("tb1-1-sl-1", "stop_limit", "2", "190", "gtc"),
    ]  # the targets are the desk's: nothing rests for them
    limits = {o["client_order_id"]: o["limit_price"] for o in desk.sim.open_orders()}
    assert limits == {"tb1-0-sl-1": "188.1", "tb1-1-sl-1": "188.1"}  # the stop-limit's slack below the stop
    desk.sim.move_price("AAPL", "210.37")  # past target 1: trade 1 closes at market
    sync_tick(runtime)
    sync_tick(runtime)
    trades = trades_of(runtime.sessions, block_id)
    assert [(t.status, t.close_reason) for t in trades] == [
        (TradeStatus.CLOSED, CloseReason.TARGET),
        (TradeStatus.OPEN, None),
    ]
    assert trades[0].realized_pnl == D("20.74")  # 2 x (210.37 - 200), no commission on Alpaca stocks
    assert [o["client_order_id"] for o in desk.sim.open_orders()] == ["tb1-1-sl-1"]  # trade 1's stop canceled first
    desk.sim.move_price("AAPL", "189.5")  # the stop triggers on the venue, fills at its stop price
    sync_tick(runtime)
    trades = trades_of(runtime.sessions, block_id)
    assert [(t.status, t.close_reason) for t in trades][1] == (TradeStatus.CLOSED, CloseReason.STOP)
    assert trades[1].realized_pnl == D("-20.00")
    assert block_of(runtime.sessions, block_id).status is BlockStatus.CLOSED
    assert sum((t.realized_pnl for t in trades), D(0)) == D("0.74")
    assert desk.sim.positions["AAPL"] == 0
    assert desk.sim.cash == D("10000.74")
    roles = [(o.role, o.type.value) for o in orders_of(runtime.sessions, block_id)]
    assert (OrderRole.TP, "market") in roles
    assert_db_is_venue(desk, block_id)


def test_outside_hours_the_stop_rests_and_a_target_crossed_after_hours_waits_for_the_open(
    open_desk: AlpacaDesk,
) -> None:
    desk, runtime = open_desk, open_desk.runtime
    block_id = submit(desk, "AAPL/USD", "2", stop="190", targets=("210",))
    sync_tick(runtime)
    desk.close_market()
    desk.sim.prices["AAPL"] = D("212")  # an after-hours print past the target
    for _ in range(3):
        sync_tick(runtime)
    # nothing decided on an after-hours price: the stop still rests, no exit was queued
    assert resting(desk) == [("tb1-0-sl-1", "stop_limit", "2", "190", "gtc")]
    (trade,) = trades_of(runtime.sessions, block_id)
    assert (trade.status, trade.close_reason) == (TradeStatus.OPEN, None)
    assert [o.role for o in orders_of(runtime.sessions, block_id)] == [OrderRole.ENTRY, OrderRole.SL]
    desk.sim.prices["AAPL"] = D("185")  # below the stop after hours: the venue does not trigger it
    sync_tick(runtime)
    assert desk.sim.positions["AAPL"] == 2
    desk.sim.prices["AAPL"] = D("211")
    desk.open_market()  # the first price of the session is past the target: the desk takes it
    sync_tick(runtime)
    sync_tick(runtime)
    (trade,) = trades_of(runtime.sessions, block_id)
    assert (trade.status, trade.close_reason, trade.realized_pnl) == (TradeStatus.CLOSED, CloseReason.TARGET, D("22"))
    assert_db_is_venue(desk, block_id)


def test_a_fractional_day_stop_that_expired_at_the_close_is_placed_again_at_the_open(open_desk: AlpacaDesk) -> None:
    desk, runtime = open_desk, open_desk.runtime
    block_id = submit(desk, "AAPL/USD", "0.5")
    sync_tick(runtime)
    desk.close_market()  # the day stop expires with the session
    sync_tick(runtime)
    sync_tick(runtime)
    assert resting(desk) == []
    stops = [o for o in orders_of(runtime.sessions, block_id) if o.role is OrderRole.SL]
    assert [o.status for o in stops] == [OrderStatus.EXPIRED, OrderStatus.INITIALIZED]
    note = block_of(runtime.sessions, block_id).last_error
    assert note is not None
    assert note.startswith("waiting for the market to open: the sl order tb1-0-sl-2 is sent at")
    desk.open_market()
    sync_tick(runtime)
    assert resting(desk) == [("tb1-0-sl-2", "stop_limit", "0.5", "190", "day")]
    assert block_of(runtime.sessions, block_id).last_error is None
    assert_db_is_venue(desk, block_id)

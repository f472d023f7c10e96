"""Blocks through the engine's Python API on a live binance spot account: a real CcxtTradingVenue over
ccxt's real binance class, whose HTTP layer is the stateful simulator in tests/binance_spot_sim.py
(answers built from recorded Binance bodies). The same code path as a real exchange, minus the wire.

The account is made as a user makes it (engine.users.settings: credentials encrypted, live switched
on) and its venue is built by engine.exchanges.venues.live_venue from the stored credentials (obviously fake
ones); the markets table holds the recorded binance markets. After every step the database must say
what the simulated exchange says. Runs on SQLite and PostgreSQL.

Most scenarios keep every commission in USDT (`desk`); `binance_desk` charges as Binance does by
default (a buy pays in the coin bought) and `bnb_desk` pays every fee in BNB.
"""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest
from sqlalchemy import select

from db.enums import BlockStatus, CloseReason, EntryType, OrderRole, OrderStatus, OrderType, ProtectionMode, TradeStatus
from db.models import Block
from engine.blocks.commands import cancel_block, submit_block
from engine.blocks.sync import recover, sync_tick
from engine.exchanges.venue import OrderRequest, OrderSide
from engine.runtime import Runtime
from tests.helpers.binance_desk import Desk, make_desk, orders_match_venue
from tests.helpers.trading import block_of, fills_of, orders_of, request, trades_of

D = Decimal
SYMBOL = "LTC/USDT"  # in the recorded markets; no STOP_LOSS there, so stops go out as STOP_LOSS_LIMIT
FEE = D("0.001")


class Crash(BaseException):
    """The process dies (nothing in the engine catches a BaseException)."""


@pytest.fixture
def desk(runtime: Runtime) -> Desk:
    """Every commission in USDT."""
    return make_desk(runtime, "quote")


@pytest.fixture
def binance_desk(runtime: Runtime) -> Desk:
    """Binance's default commissions: a buy pays in the coin bought, a sell in USDT."""
    return make_desk(runtime, "received")


@pytest.fixture
def bnb_desk(runtime: Runtime) -> Desk:
    """Every commission paid in BNB."""
    return make_desk(runtime, "BNB")


def long_block(desk: Desk, entry_type: EntryType = EntryType.MARKET, entry: str | None = None, size: str = "2") -> int:
    req = request(entry=entry, stop="95", targets=("105", "110"), size=size, entry_type=entry_type, symbol=SYMBOL)
    return submit_block(desk.runtime, desk.user_id, desk.account_id, req)


def assert_db_is_venue(desk: Desk, block_id: int) -> None:
    """Every sent order of the block is on the exchange with the same status, fill and id; every
    exchange trade of its orders is a fill in the database with the same figures."""
    sessions, sim = desk.runtime.sessions, desk.sim
    by_venue_id = orders_match_venue(desk, block_id)
    venue_fills = sorted(
        (t["id"], by_venue_id[t["orderId"]].id, D(t["price"]), D(t["qty"]), D(t["commission"]), t["commissionAsset"])
        for t in sim.trades
        if t["orderId"] in by_venue_id
    )
    db_fills = sorted(
        (f.exchange_trade_id, f.order_id, f.price, f.amount, f.fee, f.fee_currency)
        for f in fills_of(sessions, block_id)
    )
    assert db_fills == venue_fills
    fills = fills_of(sessions, block_id)
    for trade in trades_of(sessions, block_id):  # the trade's figures are its fills' (fees included)
        mine = [f for f in fills if f.trade_id == trade.id]
        assert trade.fees == sum((usdt_fee(f.fee, f.fee_currency, f.price) for f in mine), D(0)), trade.index
        assert trade.realized_pnl == sum((f.realized_pnl or 0 for f in mine), D(0)), trade.index


def usdt_fee(fee: D, currency: str | None, price: D) -> D:
    """A fill's fee in USDT, worked out here by hand: LTC at the fill's price; BNB is not valued."""
    return {"USDT": fee, "LTC": fee * price}.get(currency or "", D(0))


def stops_on_venue(desk: Desk) -> dict[str, tuple[D, D]]:
    """client id -> (amount, trigger) of the open stop orders on the exchange."""
    return {
        o["clientOrderId"]: (D(o["origQty"]), D(o["stopPrice"]))
        for o in desk.sim.open_orders()
        if o["type"] == "STOP_LOSS_LIMIT"
    }


# --- scenarios ---


def test_a_market_block_is_filled_and_each_trade_protected_once(desk: Desk) -> None:
    block_id = long_block(desk)
    block = block_of(desk.runtime.sessions, block_id)
    assert block.status is BlockStatus.ACTIVE
    assert block.last_error is None
    assert block.protection_mode is ProtectionMode.STOP_RESTS  # spot: the stop rests, the engine takes profit
    trades = trades_of(desk.runtime.sessions, block_id)
    assert [(t.status, t.entry_filled, t.entry_average) for t in trades] == [(TradeStatus.OPEN, D(1), D(100))] * 2
    entries = [f"tb{block_id}-{t.index}-entry-1" for t in trades]
    stops = [f"tb{block_id}-{t.index}-sl-1" for t in trades]
    assert stops_on_venue(desk) == {cid: (D(1), D(95)) for cid in stops}
    # LTC/USDT has no STOP_LOSS (stop-market): a stop-limit whose limit is 1% past the trigger.
    assert {desk.sim.by_client_id(cid)["price"] for cid in stops} == {"94.05000000"}
    assert {cid: desk.sim.posts[cid] for cid in entries + stops} == dict.fromkeys(entries + stops, 1)
    assert (desk.sim.free["LTC"], desk.sim.locked["LTC"]) == (0, 2)  # both stops lock exactly the position
    assert_db_is_venue(desk, block_id)


def test_a_target_is_taken_at_market_and_the_last_stop_closes_the_block(desk: Desk) -> None:
    sessions, sim = desk.runtime.sessions, desk.sim
    block_id = long_block(desk)

    sim.move_price("105")  # target 1: nothing rests there (STOP_RESTS), the engine sees it in the ticker
    report = sync_tick(desk.runtime)
    assert report.errors == []
    first, second = trades_of(sessions, block_id)
    assert (first.status, first.close_reason, first.exit_filled, first.exit_average) == (
        TradeStatus.CLOSED,
        CloseReason.TARGET,
        D(1),
        D(105),
    )
    # Entry 1 @ 100 and exit 1 @ 105, each with Binance's 0.1% commission (in USDT here).
    assert first.realized_pnl == D(5) - D("0.1") - D("0.105")
    assert sim.by_client_id(f"tb{block_id}-0-sl-1")["status"] == "CANCELED"
    tp = sim.by_client_id(f"tb{block_id}-0-tp-1")
    assert (tp["type"], tp["side"], tp["status"], tp["executedQty"]) == ("MARKET", "SELL", "FILLED", "1.00000000")
    assert stops_on_venue(desk) == {f"tb{block_id}-1-sl-1": (D(1), D(95))}  # the other trade keeps its stop
    assert second.status is TradeStatus.OPEN
    assert [f.realized_pnl for f in fills_of(sessions, block_id) if f.role is OrderRole.TP] == [first.realized_pnl]
    assert_db_is_venue(desk, block_id)

    assert sim.move_price("95") == [f"tb{block_id}-1-sl-1"]  # the stop triggers and its limit fills at 95
    assert sync_tick(desk.runtime).errors == []
    first, second = trades_of(sessions, block_id)
    assert (second.status, second.close_reason, second.exit_average) == (TradeStatus.CLOSED, CloseReason.STOP, D(95))
    assert second.realized_pnl == D(-5) - D("0.1") - D("0.095")
    assert block_of(sessions, block_id).status is BlockStatus.CLOSED
    assert sim.open_orders() == []
    assert (sim.free["LTC"], sim.locked["LTC"], sim.locked["USDT"]) == (0, 0, 0)
    assert sim.free["USDT"] == D(10000) + first.realized_pnl + second.realized_pnl
    assert_db_is_venue(desk, block_id)
    assert max(sim.posts.values()) == 1  # no order was sent twice


def test_cancel_with_close_positions_sells_at_market(desk: Desk) -> None:
    sessions, sim = desk.runtime.sessions, desk.sim
    block_id = long_block(desk)
    sim.move_price("101")
    cancel_block(desk.runtime, desk.user_id, block_id, close_positions=True)
    trades = trades_of(sessions, block_id)
    assert [(t.status, t.close_reason, t.exit_average) for t in trades] == [
        (TradeStatus.CLOSED, CloseReason.CANCEL, D(101))
    ] * 2
    assert block_of(sessions, block_id).status is BlockStatus.CLOSED
    assert sim.open_orders() == []
    assert [sim.by_client_id(f"tb{block_id}-{i}-sl-1")["status"] for i in (0, 1)] == ["CANCELED"] * 2
    assert (sim.free["LTC"], sim.locked["LTC"]) == (0, 0)
    assert_db_is_venue(desk, block_id)


def test_cancel_without_closing_withdraws_resting_entries_and_keeps_positions(desk: Desk) -> None:
    sessions, sim = desk.runtime.sessions, desk.sim
    resting = long_block(desk, EntryType.LIMIT, entry="99")  # below the market: both entries rest
    assert [o["type"] for o in sim.open_orders()] == ["LIMIT", "LIMIT"]
    assert sim.locked["USDT"] == 2 * 99 * (1 + FEE)
    filled = long_block(desk)
    cancel_block(desk.runtime, desk.user_id, resting, close_positions=False)
    assert block_of(sessions, resting).status is BlockStatus.CANCELED
    assert [t.status for t in trades_of(sessions, resting)] == [TradeStatus.CANCELED] * 2
    assert [sim.by_client_id(f"tb{resting}-{i}-entry-1")["status"] for i in (0, 1)] == ["CANCELED"] * 2
    assert sim.locked["USDT"] == 0
    assert_db_is_venue(desk, resting)

    cancel_block(desk.runtime, desk.user_id, filled, close_positions=False)  # nothing unfilled: positions stay
    assert [t.status for t in trades_of(sessions, filled)] == [TradeStatus.OPEN] * 2
    assert block_of(sessions, filled).status is BlockStatus.ACTIVE
    assert set(stops_on_venue(desk)) == {f"tb{filled}-{i}-sl-1" for i in (0, 1)}
    assert_db_is_venue(desk, filled)


def test_a_lost_create_answer_is_looked_up_not_sent_again(desk: Desk) -> None:
    sim = desk.sim
    sim.fail_next_create(after=ccxt.RequestTimeout("binance POST https://api.binance.com/api/v3/order"))
    block_id = long_block(desk)
    entry = f"tb{block_id}-0-entry-1"
    assert sim.posts[entry] == 1
    lookups = [r for r in sim.requests if r.method == "GET" and f"origClientOrderId={entry}" in r.url]
    assert len(lookups) == 1
    assert [t.entry_filled for t in trades_of(desk.runtime.sessions, block_id)] == [D(1), D(1)]
    assert (sim.free["LTC"], sim.locked["LTC"]) == (0, 2)
    assert_db_is_venue(desk, block_id)


def test_a_crash_after_the_order_was_executed_is_recovered_without_a_duplicate(desk: Desk) -> None:
    sim, sessions = desk.sim, desk.runtime.sessions
    sim.fail_next_create(after=Crash("the process died before the answer arrived"))
    with pytest.raises(Crash):
        long_block(desk)
    with sessions() as s:
        [block_id] = s.scalars(select(Block.id)).all()  # written before the crash
    entry = f"tb{block_id}-0-entry-1"
    assert [o.status for o in orders_of(sessions, block_id)] == [OrderStatus.SUBMITTED, OrderStatus.INITIALIZED]
    assert sim.by_client_id(entry)["status"] == "FILLED"  # the exchange executed it

    desk.restart()
    report = recover(desk.runtime)
    assert report.errors == []
    assert dict(sim.posts) == {
        entry: 1,
        f"tb{block_id}-1-entry-1": 1,
        f"tb{block_id}-0-sl-1": 1,
        f"tb{block_id}-1-sl-1": 1,
    }
    trades = trades_of(sessions, block_id)
    assert [(t.status, t.entry_filled) for t in trades] == [(TradeStatus.OPEN, D(1))] * 2
    assert stops_on_venue(desk) == {f"tb{block_id}-{i}-sl-1": (D(1), D(95)) for i in (0, 1)}
    assert_db_is_venue(desk, block_id)


def test_a_network_error_before_sending_is_retried_and_the_order_placed_once(desk: Desk) -> None:
    sim = desk.sim
    sim.fail_next_create(before=ccxt.NetworkError("binance POST https://api.binance.com/api/v3/order: reset"))
    block_id = long_block(desk)
    entry = f"tb{block_id}-0-entry-1"
    assert sim.posts[entry] == 1  # the first attempt never reached the exchange
    assert block_of(desk.runtime.sessions, block_id).last_error is None
    assert_db_is_venue(desk, block_id)


def test_an_outage_longer_than_the_venue_retries_is_placed_by_a_later_tick(desk: Desk) -> None:
    sim = desk.sim
    for _ in range(desk.venue.retry_attempts):
        sim.fail_next_create(before=ccxt.ExchangeNotAvailable("binance 503 Service Unavailable"))
    block_id = long_block(desk)
    entry = f"tb{block_id}-0-entry-1"
    orders = {o.client_order_id: o for o in orders_of(desk.runtime.sessions, block_id)}
    assert orders[entry].status is OrderStatus.SUBMITTED
    assert sim.posts[entry] == 0
    for _ in range(3):  # backoff counts in ticks
        sync_tick(desk.runtime)
    assert sim.posts[entry] == 1
    assert [t.entry_filled for t in trades_of(desk.runtime.sessions, block_id)] == [D(1), D(1)]
    assert_db_is_venue(desk, block_id)


def test_a_stop_that_filled_while_the_engine_was_down_is_booked_after_a_restart(desk: Desk) -> None:
    sessions, sim = desk.runtime.sessions, desk.sim
    block_id = long_block(desk)
    desk.restart()  # the new venue has never seen these orders
    assert sorted(sim.move_price("94.5")) == [f"tb{block_id}-{i}-sl-1" for i in (0, 1)]
    assert recover(desk.runtime).errors == []
    trades = trades_of(sessions, block_id)
    loss = D("-5.5") - D("0.1") - D("0.0945")  # each: 1 @ 100 in, 1 @ 94.5 out, 0.1% commission both ways
    assert [(t.status, t.close_reason, t.realized_pnl) for t in trades] == [
        (TradeStatus.CLOSED, CloseReason.STOP, loss)
    ] * 2
    assert block_of(sessions, block_id).status is BlockStatus.CLOSED
    assert not [r for r in sim.requests if r.path == "/api/v3/openOrders"]  # looked up per market, by client id
    assert max(sim.posts.values()) == 1
    assert_db_is_venue(desk, block_id)


def test_the_simulator_refuses_as_binance_does_and_ccxt_raises_accordingly(desk: Desk) -> None:
    block_id = long_block(desk)
    stop = f"tb{block_id}-0-sl-1"
    client = desk.venue.client
    with pytest.raises(ccxt.InvalidOrder, match=r"-2010.*Duplicate order sent"):
        client.create_order(SYMBOL, "limit", "sell", 1, 94.05, {"clientOrderId": stop, "triggerPrice": 95})
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        client.fetch_order(None, SYMBOL, {"origClientOrderId": "tb-never-sent"})
    with pytest.raises(ccxt.OrderNotFound, match="-2011"):
        client.cancel_order(None, SYMBOL, {"origClientOrderId": f"tb{block_id}-0-entry-1"})  # filled: unknown
    with pytest.raises(ccxt.InvalidOrder, match="would trigger immediately"):
        client.create_order(SYMBOL, "limit", "sell", 1, 100, {"clientOrderId": "tb-x", "triggerPrice": 101})
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_order(SYMBOL, "market", "buy", 1000, None, {"clientOrderId": "tb-big"})
    # Through the venue, the taken client id means the order exists: it is returned, not doubled.
    again = desk.venue.create_order(_stop_request(stop))
    assert (again.client_order_id, again.status.value, again.amount) == (stop, "open", D(1))
    assert len(desk.sim.open_orders()) == 2
    assert_db_is_venue(desk, block_id)


def _stop_request(cid: str) -> OrderRequest:
    return OrderRequest(cid, SYMBOL, OrderSide.SELL, OrderType.STOP_MARKET, D(1), None, D(95))


# --- Binance's default commissions: a buy pays in the coin bought ---

NET = D("1.248")  # each trade buys 1.25 LTC, the fee takes 0.00125: 1.24875 held, 1.248 on LTC's 0.001 step
DUST = D("0.00075")  # per trade: below one step, it stays in the account


def assert_nothing_refused(desk: Desk, block_id: int) -> None:
    orders = orders_of(desk.runtime.sessions, block_id)
    assert [o.client_order_id for o in orders if o.status is OrderStatus.REJECTED] == []
    assert block_of(desk.runtime.sessions, block_id).last_error is None


def test_on_binance_fees_a_long_is_protected_and_sold_for_what_it_holds(binance_desk: Desk) -> None:
    desk = binance_desk
    sessions, sim = desk.runtime.sessions, desk.sim
    block_id = long_block(desk, size="2.5")
    trades = trades_of(sessions, block_id)
    assert [(t.status, t.entry_filled) for t in trades] == [(TradeStatus.OPEN, D("1.25"))] * 2
    entries = [sim.by_client_id(f"tb{block_id}-{i}-entry-1") for i in (0, 1)]
    assert [sim.trades[-1]["commissionAsset"]] == ["LTC"]
    assert [(o["status"], o["executedQty"]) for o in entries] == [("FILLED", "1.25000000")] * 2
    # The stops rest for the net amount (a stop for 1.25 would be refused: the account holds 2.4975).
    assert stops_on_venue(desk) == {f"tb{block_id}-{i}-sl-1": (NET, D(95)) for i in (0, 1)}
    assert (sim.free["LTC"], sim.locked["LTC"]) == (2 * DUST, 2 * NET)
    assert_nothing_refused(desk, block_id)
    rows = {o.client_order_id: o for o in orders_of(sessions, block_id)}
    entry = rows[f"tb{block_id}-0-entry-1"]
    assert (entry.fee, entry.fee_base, entry.fee_other) == (D("0.125"), D("0.00125"), D(0))  # 0.00125 LTC @ 100
    assert_db_is_venue(desk, block_id)

    sim.move_price("105")  # target 1: the engine sells what the trade holds at market
    assert sync_tick(desk.runtime).errors == []
    first, second = trades_of(sessions, block_id)
    tp = sim.by_client_id(f"tb{block_id}-0-tp-1")
    assert (tp["side"], tp["status"], tp["executedQty"]) == ("SELL", "FILLED", "1.24800000")
    assert (first.status, first.close_reason, first.exit_filled) == (TradeStatus.CLOSED, CloseReason.TARGET, NET)
    # Exactly the fills in USDT: the entry's 0.00125 LTC at 100, the exit's 0.1% of 1.248 x 105.
    assert first.fees == D("0.125") + D("0.13104")
    assert first.realized_pnl == NET * 5 - D("0.13104") - D("0.125")
    assert first.fee_note is None
    assert_db_is_venue(desk, block_id)

    assert sim.move_price("95") == [f"tb{block_id}-1-sl-1"]  # the other trade's stop sells its net amount
    assert sync_tick(desk.runtime).errors == []
    first, second = trades_of(sessions, block_id)
    assert (second.status, second.close_reason, second.exit_filled) == (TradeStatus.CLOSED, CloseReason.STOP, NET)
    assert second.realized_pnl == NET * -5 - D("0.11856") - D("0.125")
    assert block_of(sessions, block_id).status is BlockStatus.CLOSED
    assert sim.open_orders() == []
    # Only the dust is left of the coin; the USDT moved by the P&L less what the dust cost.
    assert (sim.free["LTC"], sim.locked["LTC"]) == (2 * DUST, 0)
    assert sim.free["USDT"] == D(10000) + first.realized_pnl + second.realized_pnl - 2 * DUST * 100
    assert_nothing_refused(desk, block_id)
    assert_db_is_venue(desk, block_id)
    assert max(sim.posts.values()) == 1


def test_on_binance_fees_a_resting_entry_that_fills_later_is_protected_for_its_net(binance_desk: Desk) -> None:
    desk = binance_desk
    sessions, sim = desk.runtime.sessions, desk.sim
    block_id = long_block(desk, EntryType.LIMIT, entry="99", size="2.5")
    assert [o["type"] for o in sim.open_orders()] == ["LIMIT", "LIMIT"]
    assert sorted(sim.move_price("99")) == [f"tb{block_id}-{i}-entry-1" for i in (0, 1)]
    # The order query carries no commission: the engine learns it from the fills before protecting.
    assert sync_tick(desk.runtime).errors == []
    assert stops_on_venue(desk) == {f"tb{block_id}-{i}-sl-1": (NET, D(95)) for i in (0, 1)}
    assert_nothing_refused(desk, block_id)
    assert_db_is_venue(desk, block_id)

    sim.move_price("101")
    cancel_block(desk.runtime, desk.user_id, block_id, close_positions=True)  # the exits sell the net amount
    exits = [sim.by_client_id(f"tb{block_id}-{i}-exit-1") for i in (0, 1)]
    assert [(o["side"], o["executedQty"]) for o in exits] == [("SELL", "1.24800000")] * 2
    trades = trades_of(sessions, block_id)
    assert [(t.status, t.close_reason, t.exit_filled) for t in trades] == [
        (TradeStatus.CLOSED, CloseReason.CANCEL, NET)
    ] * 2
    entry_fee, exit_fee = D("0.00125") * 99, NET * 101 * FEE  # 0.00125 LTC valued at its fill price, 99
    assert [t.fees for t in trades] == [entry_fee + exit_fee] * 2
    assert [t.realized_pnl for t in trades] == [NET * 2 - exit_fee - entry_fee] * 2
    assert block_of(sessions, block_id).status is BlockStatus.CLOSED
    assert (sim.free["LTC"], sim.locked["LTC"]) == (2 * DUST, 0)
    assert_nothing_refused(desk, block_id)
    assert_db_is_venue(desk, block_id)


def test_fees_paid_in_bnb_take_no_coin_and_stay_out_of_the_pnl_with_a_note(bnb_desk: Desk) -> None:
    desk = bnb_desk
    sessions, sim = desk.runtime.sessions, desk.sim
    block_id = long_block(desk)
    assert stops_on_venue(desk) == {f"tb{block_id}-{i}-sl-1": (D(1), D(95)) for i in (0, 1)}  # all of it
    sim.move_price("105")
    assert sync_tick(desk.runtime).errors == []
    first = trades_of(sessions, block_id)[0]
    assert (first.status, first.exit_filled) == (TradeStatus.CLOSED, D(1))
    assert (first.fees, first.realized_pnl) == (D(0), D(5))  # no BNB price at hand: not guessed
    bnb = sum((D(t["commission"]) for t in sim.trades[:1] + sim.trades[2:]), D(0))  # entry 0 and its target
    assert first.fee_note is not None
    assert f"{bnb.normalize():f} BNB" in first.fee_note
    assert_nothing_refused(desk, block_id)
    assert_db_is_venue(desk, block_id)


def test_on_binance_fees_a_lost_entry_answer_looked_up_still_gets_a_stop_for_the_net(binance_desk: Desk) -> None:
    desk = binance_desk
    sim = desk.sim
    sim.fail_next_create(after=ccxt.RequestTimeout("binance POST https://api.binance.com/api/v3/order"))
    block_id = long_block(desk, size="2.5")  # the first entry is then known only from GET /api/v3/order
    assert sim.posts[f"tb{block_id}-0-entry-1"] == 1
    assert stops_on_venue(desk) == {f"tb{block_id}-{i}-sl-1": (NET, D(95)) for i in (0, 1)}
    assert_nothing_refused(desk, block_id)
    assert_db_is_venue(desk, block_id)

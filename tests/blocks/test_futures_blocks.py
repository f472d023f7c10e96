"""Blocks on a binance USD-M perpetual end to end (ProtectionMode.REDUCE_ONLY): a live account's
swap venue (a real CcxtTradingVenue over ccxt's binance class) with the futures simulator
(tests/helpers/binance_futures_sim.py) as its HTTP layer. The entry sets the block's margin mode and
leverage first; targets and the stop rest as reduce-only orders (the stop an algo order); a target
fill resizes the stop; the stop closes what is left.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.enums import BlockStatus, CloseReason, EntryType, MarginMode, ProtectionMode, Side, TradeStatus
from engine.blocks.commands import submit_block
from engine.blocks.sync import sync_tick
from engine.runtime import Runtime
from tests.helpers.futures_desk import SYMBOL, FuturesDesk, make_futures_desk, orders_match_venue
from tests.helpers.trading import block_of, fills_of, request, trades_of

D = Decimal


@pytest.fixture
def desk(runtime: Runtime) -> FuturesDesk:
    return make_futures_desk(runtime)


def submit(desk: FuturesDesk, side: Side, stop: str, targets: tuple[str, ...], size: str = "0.02") -> int:
    req = request(
        None, stop, targets, size, side=side, entry_type=EntryType.MARKET, symbol=SYMBOL, leverage=5,
        margin_mode=MarginMode.ISOLATED,
    )  # fmt: skip
    return submit_block(desk.runtime, desk.user_id, desk.account_id, req)


def resting(desk: FuturesDesk) -> list[tuple[str, str, D, D]]:
    """(client id, type, quantity, price or trigger) of the orders resting on the venue, oldest first."""
    out = []
    for o in desk.sim.open_orders():
        if "algoId" in o:
            out.append((o["clientAlgoId"], o["orderType"], D(o["quantity"]), D(o["triggerPrice"])))
        else:
            out.append((o["clientOrderId"], o["type"], D(o["origQty"]), D(o["price"])))
    return out


def assert_db_is_venue(desk: FuturesDesk, block_id: int) -> None:
    """Every sent order is on the exchange with the same status, fill and id; fills are the venue's
    (a stop's fill is its actual order's)."""
    by_venue_id = orders_match_venue(desk, block_id)
    actual = {a["actualOrderId"]: str(a["algoId"]) for a in desk.sim.algos.values() if a["actualOrderId"]}
    venue_fills = sorted(
        (t["id"], by_venue_id[actual.get(t["orderId"], t["orderId"])].id, D(t["qty"])) for t in desk.sim.trades
    )
    db_fills = sorted((f.exchange_trade_id, f.order_id, f.amount) for f in fills_of(desk.runtime.sessions, block_id))
    assert db_fills == venue_fills


def test_a_long_block_at_5x_isolated_sets_up_rests_reduce_only_and_closes(desk: FuturesDesk) -> None:
    sim = desk.sim
    block_id = submit(desk, Side.LONG, "95000", ("105000", "110000"))
    assert block_of(desk.runtime.sessions, block_id).protection_mode is ProtectionMode.REDUCE_ONLY
    # margin mode, then leverage, then the entry; then the exits
    assert sim.settings_calls()[:3] == ["/fapi/v1/marginType", "/fapi/v1/leverage", "/fapi/v1/order"]
    assert (sim.margin_type["BTCUSDT"], sim.leverage["BTCUSDT"]) == ("ISOLATED", 5)
    pos = sim.position(SYMBOL)
    assert (pos.amount, pos.entry) == (D("0.02"), D(100000))
    trades = trades_of(desk.runtime.sessions, block_id)
    assert [(t.status, t.entry_filled) for t in trades] == [(TradeStatus.OPEN, D("0.01"))] * 2
    rest = resting(desk)
    assert sorted((kind, qty, price) for _cid, kind, qty, price in rest) == [
        ("LIMIT", D("0.01"), D(105000)),
        ("LIMIT", D("0.01"), D(110000)),
        ("STOP_MARKET", D("0.01"), D(95000)),
        ("STOP_MARKET", D("0.01"), D(95000)),
    ]
    assert all(o["reduceOnly"] for o in sim.open_orders())
    sync_tick(desk.runtime)  # nothing to do; nothing posted again, no settings call again
    assert max(sim.posts.values()) == 1
    assert sim.settings_calls().count("/fapi/v1/leverage") == 1
    assert_db_is_venue(desk, block_id)

    # the first target fills: its trade closes, its stop is canceled by the engine
    assert sim.move_price("105500") == [f"tb{block_id}-0-tp-1"]
    sync_tick(desk.runtime)
    trades = trades_of(desk.runtime.sessions, block_id)
    assert (trades[0].status, trades[0].close_reason) == (TradeStatus.CLOSED, CloseReason.TARGET)
    assert trades[1].status is TradeStatus.OPEN
    assert sorted(kind for _c, kind, _q, _p in resting(desk)) == ["LIMIT", "STOP_MARKET"]
    assert sim.position(SYMBOL).amount == D("0.01")
    assert_db_is_venue(desk, block_id)

    # the stop fires for what is left: the block closes, flat on the venue
    assert len(sim.move_price("94500")) == 1
    sync_tick(desk.runtime)
    trades = trades_of(desk.runtime.sessions, block_id)
    assert (trades[1].status, trades[1].close_reason) == (TradeStatus.CLOSED, CloseReason.STOP)
    assert block_of(desk.runtime.sessions, block_id).status is BlockStatus.CLOSED
    assert sim.position(SYMBOL).amount == 0
    assert resting(desk) == []
    assert_db_is_venue(desk, block_id)
    # P&L: +50 on the target, -55 on the stop, less the venue's commissions, as the venue booked it
    assert sum((t.realized_pnl or D(0) for t in trades), D(0)) == sim.wallet - D(10000)


def test_a_short_block_buys_back_reduce_only(desk: FuturesDesk) -> None:
    sim = desk.sim
    block_id = submit(desk, Side.SHORT, "105000", ("95000", "90000"))
    assert sim.position(SYMBOL).amount == D("-0.02")
    rest = resting(desk)
    assert sorted((kind, qty, price) for _cid, kind, qty, price in rest) == [
        ("LIMIT", D("0.01"), D(90000)),
        ("LIMIT", D("0.01"), D(95000)),
        ("STOP_MARKET", D("0.01"), D(105000)),
        ("STOP_MARKET", D("0.01"), D(105000)),
    ]
    assert {o["side"] for o in sim.open_orders()} == {"BUY"}
    sim.move_price("94000")
    sync_tick(desk.runtime)
    sim.move_price("106000")
    sync_tick(desk.runtime)
    trades = trades_of(desk.runtime.sessions, block_id)
    assert [t.close_reason for t in trades] == [CloseReason.TARGET, CloseReason.STOP]
    assert block_of(desk.runtime.sessions, block_id).status is BlockStatus.CLOSED
    assert sim.position(SYMBOL).amount == 0
    assert resting(desk) == []
    assert_db_is_venue(desk, block_id)


def test_a_target_part_filled_resizes_its_stop_then_the_stops_close_the_rest(desk: FuturesDesk) -> None:
    sim = desk.sim
    block_id = submit(desk, Side.LONG, "95000", ("105000", "110000"))
    sim.fill_part(f"tb{block_id}-0-tp-1", "0.004")  # 0.004 of trade 1 sold at its target
    sync_tick(desk.runtime)
    # trade 1's stop now covers the 0.006 it holds (its target rests for the same): reduce-only
    # orders for more than the position would be refused or expire when they fire
    assert sorted(resting(desk)) == [
        (f"tb{block_id}-0-sl-2", "STOP_MARKET", D("0.006"), D(95000)),
        (f"tb{block_id}-0-tp-2", "LIMIT", D("0.006"), D(105000)),
        (f"tb{block_id}-1-sl-1", "STOP_MARKET", D("0.01"), D(95000)),
        (f"tb{block_id}-1-tp-1", "LIMIT", D("0.01"), D(110000)),
    ]
    assert sim.position(SYMBOL).amount == D("0.016")
    assert_db_is_venue(desk, block_id)
    assert sorted(sim.move_price("94000")) == [f"tb{block_id}-0-sl-2", f"tb{block_id}-1-sl-1"]
    sync_tick(desk.runtime)
    trades = trades_of(desk.runtime.sessions, block_id)
    assert [(t.status, t.close_reason) for t in trades] == [(TradeStatus.CLOSED, CloseReason.STOP)] * 2
    assert block_of(desk.runtime.sessions, block_id).status is BlockStatus.CLOSED
    assert (sim.position(SYMBOL).amount, resting(desk)) == (0, [])
    assert max(sim.posts.values()) == 1
    assert_db_is_venue(desk, block_id)

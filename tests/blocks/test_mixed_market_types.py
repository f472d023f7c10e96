"""A live binance account trading spot and a perpetual at once: each block's orders go to the venue
of its own market type (the spot simulator for LTC/USDT, the futures simulator for BTC/USDT:USDT),
through one sync of the account (engine.exchanges.venue_router); and a perpetual block closed by a
crash-interrupted tick still has its fills fetched from the swap venue."""

from __future__ import annotations

from typing import Any

from db.enums import BlockStatus, EntryType, MarginMode, OrderStatus
from engine.blocks.commands import submit_block
from engine.blocks.sync import sync_tick
from engine.runtime import Runtime
from tests.helpers import binance_desk
from tests.helpers.binance_spot_sim import BinanceSpotSim
from tests.helpers.futures_desk import SYMBOL as PERP
from tests.helpers.futures_desk import FuturesDesk, make_futures_desk
from tests.helpers.trading import block_of, orders_of, request

SPOT = "LTC/USDT"


def mixed_desk(runtime: Runtime) -> tuple[FuturesDesk, BinanceSpotSim]:
    """The futures desk's account, with its spot venue too; the price feed asks each simulator its own
    market's prices (ccxt's binance sends spot to /api, USD-M to /fapi)."""
    desk = make_futures_desk(runtime)
    futures = desk.sim
    spot_venue = binance_desk.connect(runtime, desk.account_id)  # installed for every other market type
    spot = spot_venue.client.fetch
    assert isinstance(spot, BinanceSpotSim)

    def either(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        return (futures if "/fapi/" in url else spot)(url, method, headers, body)

    runtime.sources["binance"].client.fetch = either
    return desk, spot


def test_spot_and_perpetual_blocks_of_one_account_trade_on_their_own_venues(runtime: Runtime) -> None:
    desk, spot = mixed_desk(runtime)
    spot_block = submit_block(
        runtime,
        desk.user_id,
        desk.account_id,
        request(None, "95", ("110",), "1", entry_type=EntryType.MARKET, symbol=SPOT),
    )
    perp = request(
        None, "95000", ("110000",), "0.02", entry_type=EntryType.MARKET, symbol=PERP, leverage=5,
        margin_mode=MarginMode.ISOLATED,
    )  # fmt: skip
    perp_block = submit_block(runtime, desk.user_id, desk.account_id, perp)
    sync_tick(runtime)  # one tick of the account drives both

    spot_ids = {o.client_order_id for o in orders_of(runtime.sessions, spot_block)}
    perp_ids = {o.client_order_id for o in orders_of(runtime.sessions, perp_block)}
    assert set(spot.posts) == spot_ids  # entry and stop on spot; nothing of the perpetual there
    assert set(desk.sim.posts) == perp_ids  # entry, reduce-only stop and target on the futures venue
    assert {o.status for o in orders_of(runtime.sessions, perp_block)} == {OrderStatus.FILLED, OrderStatus.ACCEPTED}
    assert (desk.sim.margin_type["BTCUSDT"], desk.sim.leverage["BTCUSDT"]) == ("ISOLATED", 5)

    desk.sim.move_price("94000")  # the perpetual's stop; spot stays put
    spot.move_price("100")
    sync_tick(runtime)
    assert block_of(runtime.sessions, perp_block).status is BlockStatus.CLOSED
    assert block_of(runtime.sessions, spot_block).status is BlockStatus.ACTIVE

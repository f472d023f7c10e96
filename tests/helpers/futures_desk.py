"""A live binance account trading the BTC/USDT:USDT perpetual on the futures simulator
(tests/helpers/binance_futures_sim.py), as tests/helpers/binance_desk.py does for spot: the account
made as a user makes it, its swap venue built by engine.exchanges.venues.live_venue from the stored
(fake) credentials and installed for market type "swap", the ccxt client offline with the simulator
as its HTTP layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from db.enums import OrderStatus
from db.models import Order
from engine.exchanges.ccxt_feed import CcxtExchange
from engine.exchanges.ccxt_venue import CcxtTradingVenue
from engine.exchanges.venues import install_venue
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from tests.helpers.binance_desk import FAKE_KEY, FAKE_SECRET
from tests.helpers.binance_futures_sim import BinanceFuturesSim
from tests.helpers.ccxt_replay import fixture, fixture_markets
from tests.helpers.live_desk import offline_venue, open_live_account
from tests.helpers.live_desk import orders_match_venue as match_venue

SYMBOL = "BTC/USDT:USDT"
# The simulator's order and algo order statuses as the database's.
VENUE_STATUS = {
    "NEW": OrderStatus.ACCEPTED,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "FINISHED": OrderStatus.FILLED,  # a stop that triggered: its actual order filled
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
}


@dataclass
class FuturesDesk:
    runtime: Runtime
    user_id: int
    account_id: int
    sim: BinanceFuturesSim
    venue: CcxtTradingVenue

    def restart(self) -> None:
        """A new process: no venue, no memory; the same database and the same exchange."""
        self.runtime.reset_trading()
        self.runtime.sources.clear()
        self.venue = connect(self.runtime, self.account_id, self.sim)


def connect(runtime: Runtime, account_id: int, sim: BinanceFuturesSim | None = None) -> CcxtTradingVenue:
    """The account's swap venue as engine.exchanges.venues builds it, offline: the recorded markets,
    no rate limiter, no retry waits, the simulator as its HTTP layer."""
    venue = offline_venue(runtime, account_id, (FAKE_KEY, FAKE_SECRET), "swap")
    client = venue.client
    client.set_markets(fixture_markets("binance"))
    client.extend_exchange_options(fixture("binance").get("options") or {})
    if sim is None:
        sim = BinanceFuturesSim(client, price="100000", wallet="10000")
    sim.client, client.fetch = client, sim
    install_venue(runtime, account_id, venue, "swap")
    runtime.sources["binance"] = CcxtExchange("binance", client=client, attempts=1, wait_initial=0)
    return venue


def make_futures_desk(runtime: Runtime) -> FuturesDesk:
    user_id, account_id = open_live_account(runtime, "binance", FAKE_KEY, FAKE_SECRET)
    venue = connect(runtime, account_id)
    sync_markets(runtime.sessions, runtime.sources["binance"])
    sim = venue.client.fetch
    assert isinstance(sim, BinanceFuturesSim)
    return FuturesDesk(runtime, user_id, account_id, sim, venue)


def orders_match_venue(desk: FuturesDesk, block_id: int) -> dict[str, Order]:
    """Every sent order of the block is on the exchange as we have it (live_desk.orders_match_venue)."""
    return match_venue(desk.runtime, block_id, desk.sim.by_client_id, lambda o: _view(desk.sim, o))


def _view(sim: BinanceFuturesSim, order: dict[str, Any]) -> tuple[OrderStatus, Decimal, str]:
    """A futures order or algo (conditional) order: their status and id fields differ."""
    return (
        VENUE_STATUS[raw_status(order)],
        filled_of(sim, order),
        str(order.get("orderId") or order["algoId"]),
    )


def raw_status(order: dict[str, Any]) -> str:
    """The simulator's status of an order ("status") or algo order ("algoStatus")."""
    return str(order.get("status") or order["algoStatus"])


def filled_of(sim: BinanceFuturesSim, venue: dict[str, Any]) -> Decimal:
    """What an order or algo order filled (an algo order's fill is its actual order's)."""
    if "executedQty" in venue:
        return Decimal(venue["executedQty"])
    actual = sim.orders.get(str(venue.get("actualOrderId") or ""))
    return Decimal(actual["executedQty"]) if actual else Decimal(0)

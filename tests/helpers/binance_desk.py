"""A live binance spot account on the stateful simulator (tests/helpers/binance_spot_sim.py): the
account made as a user makes it, its venue built by engine.exchanges.venues.live_venue from the stored
(fake) credentials, the ccxt client made offline with the simulator as its HTTP layer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from db.enums import OrderStatus
from db.models import Order
from engine.exchanges.ccxt_feed import CcxtExchange
from engine.exchanges.ccxt_venue import CcxtTradingVenue
from engine.exchanges.venues import install_venue
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from tests.helpers.binance_spot_sim import BinanceSpotSim
from tests.helpers.ccxt_replay import fixture, fixture_markets
from tests.helpers.live_desk import offline_venue, open_live_account
from tests.helpers.live_desk import orders_match_venue as match_venue

# The simulator's order statuses as the database's.
VENUE_STATUS = {
    "NEW": OrderStatus.ACCEPTED,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
}
FAKE_KEY = "fake-binance-api-key-not-real-0001"
FAKE_SECRET = "fake-binance-secret-not-real-0001"


@dataclass
class Desk:
    runtime: Runtime
    user_id: int
    account_id: int
    sim: BinanceSpotSim
    venue: CcxtTradingVenue
    oco: bool = False  # binance spot's OCO lists used (its quirks row), or the stop rests alone

    def restart(self) -> None:
        """A new process: no venue, no memory; the same database and the same exchange."""
        self.runtime.reset_trading()
        self.runtime.sources.clear()
        self.venue = connect(self.runtime, self.account_id, self.sim, oco=self.oco)


def connect(
    runtime: Runtime,
    account_id: int,
    sim: BinanceSpotSim | None = None,
    commission: str = "quote",
    oco: bool = False,
) -> CcxtTradingVenue:
    """The account's venue as engine.exchanges.venues builds it, its ccxt client made offline: the recorded
    markets, no rate limiter, no retry waits, and the simulator as its HTTP layer. Without `oco` the
    venue forgets binance spot's OCO lists (the stop rests, the engine takes profit)."""
    venue = offline_venue(runtime, account_id, (FAKE_KEY, FAKE_SECRET))
    client = venue.client
    client.set_markets(fixture_markets("binance"))
    client.extend_exchange_options(fixture("binance").get("options") or {})
    if not oco:
        venue.quirks = replace(venue.quirks, oco_markets=frozenset())
    if sim is None:
        sim = BinanceSpotSim(client, price="100", balances={"USDT": "10000", "BNB": "1"}, commission=commission)
    sim.client, client.fetch = client, sim
    install_venue(runtime, account_id, venue)
    runtime.sources["binance"] = CcxtExchange("binance", client=client, attempts=1, wait_initial=0)
    return venue


def make_desk(runtime: Runtime, commission: str, oco: bool = False) -> Desk:
    user_id, account_id = open_live_account(runtime, "binance", FAKE_KEY, FAKE_SECRET)
    venue = connect(runtime, account_id, commission=commission, oco=oco)
    sync_markets(runtime.sessions, runtime.sources["binance"])
    sim = venue.client.fetch
    assert isinstance(sim, BinanceSpotSim)
    return Desk(runtime, user_id, account_id, sim, venue, oco)


def orders_match_venue(desk: Desk, block_id: int) -> dict[int, Order]:
    """Every sent order of the block is on the exchange as we have it (live_desk.orders_match_venue)."""
    return match_venue(
        desk.runtime,
        block_id,
        desk.sim.by_client_id,
        lambda o: (VENUE_STATUS[o["status"]], Decimal(o["executedQty"]), o["orderId"]),
    )

"""A live alpaca account on the paper trading simulator (tests/helpers/alpaca_sim.py), as
tests/helpers/binance_desk.py does for binance: the account made as a user makes it, its venue built
by engine.exchanges.venues.live_venue from the stored (fake) credentials (the quirks row puts it on
the paper endpoint), the ccxt client offline with the simulator as its HTTP layer and the venue's
market clock on the simulator's time. The markets (crypto and US stocks) are the simulator's assets,
loaded by ccxt's own fetch_markets as the engine does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from db.enums import OrderStatus
from db.models import Order
from engine.exchanges.ccxt_feed import CcxtExchange
from engine.exchanges.ccxt_venue import CcxtTradingVenue
from engine.exchanges.venues import install_venue, keyed_source_name
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from tests.helpers.alpaca_sim import AlpacaSim
from tests.helpers.live_desk import offline_venue, open_live_account
from tests.helpers.live_desk import orders_match_venue as match_venue

FAKE_KEY = "fake-alpaca-api-key-not-real-0001"
FAKE_SECRET = "fake-alpaca-secret-not-real-0001"
NOW = 1_721_290_233_389  # the recorded clock's timestamp (2024-07-18 08:10 UTC, before the open)
HOUR = 3_600_000
PRICES = {"AAPL": "200", "WSHR": "50", "AAVE/USD": "90", "DOGE/USDC": "0.1"}
# The simulator's order statuses as the database's.
VENUE_STATUS = {
    "new": OrderStatus.ACCEPTED,
    "accepted": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
}


@dataclass
class AlpacaDesk:
    runtime: Runtime
    user_id: int
    account_id: int
    sim: AlpacaSim
    venue: CcxtTradingVenue

    def restart(self) -> None:
        """A new process: no venue, no memory (the clock asked again); the same database and exchange."""
        self.runtime.reset_trading()
        self.runtime.sources.clear()
        self.venue = connect(self.runtime, self.account_id, self.sim)

    def open_market(self, hours: int = 6) -> None:
        """The announced open comes: the clock says open until `hours` later; waiting orders execute."""
        self.sim.now = self.sim.next_open
        self.sim.open_market(until=self.sim.now + hours * HOUR)

    def close_market(self, hours: int = 16) -> None:
        """The announced close comes: the clock says closed, the next open `hours` later."""
        sim = self.sim
        sim.now = sim.next_close
        sim.close_market(next_open=sim.now + hours * HOUR, next_close=sim.now + (hours + 7) * HOUR)


def connect(runtime: Runtime, account_id: int, sim: AlpacaSim | None = None, is_open: bool = False) -> CcxtTradingVenue:
    """The account's venue as engine.exchanges.venues builds it, offline, the simulator its HTTP layer."""
    venue = offline_venue(runtime, account_id, (FAKE_KEY, FAKE_SECRET))
    client = venue.client
    if sim is None:
        sim = AlpacaSim(client, PRICES, "10000", is_open, NOW)
    sim.client, client.fetch = client, sim
    venue.clock.now_ms = lambda: sim.now
    install_venue(runtime, account_id, venue)
    feed = CcxtExchange("alpaca", client=client, attempts=1, wait_initial=0)
    runtime.sources["alpaca"] = runtime.sources[keyed_source_name(account_id, "alpaca")] = feed
    return venue


def make_alpaca_desk(runtime: Runtime, is_open: bool = False) -> AlpacaDesk:
    user_id, account_id = open_live_account(runtime, "alpaca", FAKE_KEY, FAKE_SECRET)
    venue = connect(runtime, account_id, is_open=is_open)
    sync_markets(runtime.sessions, runtime.sources["alpaca"])
    sim = venue.client.fetch
    assert isinstance(sim, AlpacaSim)
    return AlpacaDesk(runtime, user_id, account_id, sim, venue)


def orders_match_venue(desk: AlpacaDesk, block_id: int) -> dict[str, Order]:
    """Every sent order of the block is on the exchange as we have it (live_desk.orders_match_venue)."""
    return match_venue(
        desk.runtime,
        block_id,
        desk.sim.by_client_id,
        lambda o: (VENUE_STATUS[o["status"]], Decimal(o["filled_qty"]), o["id"]),
    )

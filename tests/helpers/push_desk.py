"""A live binance spot account for the push tests and bench: its venue as the engine builds it (from
the stored, encrypted credentials), the Binance spot simulator as its HTTP layer, and the simulator's
user-data stream and public ticker streams on local websockets that the account's ccxt.pro watchers
are pointed at (runtime.push_options). Without `oco` the venue forgets binance spot's OCO lists, as
tests/helpers/binance_desk.py does: the stop rests and the engine takes the profit (STOP_RESTS)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from db.models import ExchangeAccount
from engine.exchanges.api import install_venue, live_venue
from engine.exchanges.ccxt_feed import CcxtExchange
from engine.exchanges.ccxt_venue import CcxtTradingVenue
from engine.runtime import Runtime
from engine.users.api import add_live, set_live_enabled
from tests.helpers.binance_spot_sim import BinanceSpotSim
from tests.helpers.binance_ticker_stream import BinanceTickerStream
from tests.helpers.binance_user_stream import BinanceUserStream
from tests.helpers.ccxt_replay import fixture, fixture_markets
from tests.helpers.trading import add_user

FAKE_KEY = "fake-binance-api-key-not-real-0001"
FAKE_SECRET = "fake-binance-secret-not-real-0001"


@dataclass
class Desk:
    runtime: Runtime
    user_id: int
    account_id: int
    sim: BinanceSpotSim
    stream: BinanceUserStream
    tickers: BinanceTickerStream

    def move_price(self, price: str) -> list[str]:
        """The market trades at `price`: resting orders fill (the user stream tells), then the ticker
        streams send the price."""
        filled = self.stream.move_price(price)
        self.tickers.publish()
        return filled

    def stop(self) -> None:
        self.stream.stop()
        self.tickers.stop()


def live_desk(runtime: Runtime, user: str, usdt: str = "10000", oco: bool = True) -> Desk:
    """A live binance account (credentials encrypted, live switched on) on its own simulator and streams."""
    user_id = add_user(runtime.sessions, user)
    account = add_live(runtime, user_id, f"binance-{user}", "binance", FAKE_KEY, FAKE_SECRET)
    set_live_enabled(runtime, user_id, account.id, True)
    with runtime.sessions() as s:
        row = s.get(ExchangeAccount, account.id)
        venue = live_venue(runtime, row)
    assert isinstance(venue, CcxtTradingVenue)
    client = venue.client
    client.enableRateLimit = False
    client.set_markets(fixture_markets("binance"))
    client.extend_exchange_options(fixture("binance").get("options") or {})
    venue.retry_wait = 0
    if not oco:
        venue.quirks = replace(venue.quirks, oco_markets=frozenset())
    sim = BinanceSpotSim(client, price="100", balances={"USDT": usdt}, commission="quote")
    install_venue(runtime, account.id, venue)
    runtime.sources["binance"] = CcxtExchange("binance", client=client, attempts=1, wait_initial=0)
    stream = BinanceUserStream(sim)
    stream.start()
    tickers = BinanceTickerStream(sim)
    tickers.start()
    runtime.push_options["binance"] = client.deep_extend(stream.ccxt_options(), tickers.ccxt_options())
    return Desk(runtime, user_id, account.id, sim, stream, tickers)


def wait_for(check: Callable[[], object], timeout: float = 10.0) -> float:
    """Seconds until `check()` holds (polled); fails after `timeout`."""
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < timeout, "timed out"
        time.sleep(0.01)
    return time.monotonic() - began

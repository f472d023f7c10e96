"""Alpaca through ccxt's alpaca class, at the HTTP layer (tests/helpers/alpaca_sim.py): the paper
endpoint, stocks listed beside crypto with their whole-share or fractional amount tick, no order sent
while the market is closed (the clock asked once while it cannot change), and what goes out after the open."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from db.enums import OrderType
from engine.exchanges.ccxt_alpaca import MarketClosed, configure_client
from engine.exchanges.ccxt_feed import CcxtExchange
from engine.exchanges.ccxt_venue import CcxtTradingVenue
from engine.exchanges.venue import InvalidOrder, OrderNotFound, OrderRequest, OrderSide, VenueStatus, VenueUnavailable
from tests.helpers.alpaca_sim import AlpacaSim

D = Decimal
NOW = 1_721_290_233_389  # the recorded clock's timestamp


def make(is_open: bool = False) -> tuple[CcxtTradingVenue, AlpacaSim]:
    client = configure_client(ccxt.alpaca({"apiKey": "fake-alpaca-key-0001", "secret": "fake-alpaca-secret-0001"}))
    client.enableRateLimit = False
    sim = AlpacaSim(client, {"AAPL": "200", "WSHR": "50", "AAVE/USD": "90", "DOGE/USDC": "0.1"}, "10000", is_open, NOW)
    venue = CcxtTradingVenue(client, retry_wait=0)
    venue.clock.now_ms = lambda: sim.now
    return venue, sim


def buy(symbol: str, amount: str, cid: str = "tb1-1-entry-1") -> OrderRequest:
    return OrderRequest(cid, symbol, OrderSide.BUY, OrderType.MARKET, D(amount))


def clock_calls(sim: AlpacaSim) -> int:
    return sum(r.path == "/v2/clock" for r in sim.requests)


def test_the_paper_endpoint_and_stocks_beside_crypto_with_their_amount_ticks() -> None:
    venue, sim = make()
    infos = {m.symbol: m for m in CcxtExchange("alpaca", client=venue.client, attempts=1).load_markets()}
    assert {s: (m.amount_tick, m.min_amount, m.price_tick) for s, m in infos.items()} == {
        "AAPL/USD": (D("1E-9"), D("1E-9"), D("0.01")),  # fractionable
        "WSHR/USD": (D(1), D(1), D("0.01")),  # whole shares only
        "AAVE/USD": (D("1E-9"), D("0.010186515"), D("0.01")),  # crypto: the asset's own increments
        "DOGE/USDC": (D("1E-9"), D("9.33706816"), D("1E-9")),
    }
    assert {r.url.split("/v2/")[0] for r in sim.requests} == {"https://paper-api.alpaca.markets"}
    assert [r.query["asset_class"] for r in sim.requests] == ["crypto", "us_equity"]


def test_no_order_is_sent_while_the_market_is_closed_and_it_goes_out_after_the_open() -> None:
    venue, sim = make(is_open=False)
    with pytest.raises(MarketClosed, match="the market opens at 2024-07-18 09:10 UTC") as closed:
        venue.create_order(buy("AAPL/USD", "2"))
    assert isinstance(closed.value, VenueUnavailable)
    assert closed.value.retryable
    assert sim.posts == {}
    sim.now = sim.next_open
    sim.open_market(until=sim.now + 6 * 3_600_000)
    order = venue.create_order(buy("AAPL/USD", "2"))
    assert (order.status, order.filled, order.average) == (VenueStatus.CLOSED, D(2), D(200))
    assert sim.posts == {"tb1-1-entry-1": 1}
    assert sim.positions["AAPL"] == 2


def test_the_clock_is_asked_again_only_once_it_can_have_changed() -> None:
    venue, sim = make(is_open=False)
    for _ in range(3):
        with pytest.raises(MarketClosed):
            venue.create_order(buy("AAPL/USD", "1"))
    assert clock_calls(sim) == 1
    sim.now += 60_000  # the cache's longest life
    with pytest.raises(MarketClosed):
        venue.create_order(buy("AAPL/USD", "1"))
    assert clock_calls(sim) == 2
    sim.is_open, sim.now = True, sim.next_open  # the announced open: asked at once
    venue.create_order(buy("AAPL/USD", "1"))
    assert clock_calls(sim) == 3


def test_crypto_trades_while_the_stock_market_is_closed() -> None:
    venue, sim = make(is_open=False)
    order = venue.create_order(buy("AAVE/USD", "1"))
    assert order.id
    assert sim.posts == {"tb1-1-entry-1": 1}
    assert clock_calls(sim) == 0


def test_a_fractional_stock_order_is_a_day_order_and_whole_shares_are_truncated() -> None:
    venue, sim = make(is_open=True)
    venue.create_order(buy("AAPL/USD", "0.5", "tb1-1-entry-1"))
    venue.create_order(buy("WSHR/USD", "2.7", "tb1-2-entry-1"))
    venue.create_order(buy("AAPL/USD", "3", "tb1-3-entry-1"))
    sent = {o["client_order_id"]: (o["qty"], o["time_in_force"]) for o in sim.orders.values()}
    assert sent == {"tb1-1-entry-1": ("0.5", "day"), "tb1-2-entry-1": ("2", "gtc"), "tb1-3-entry-1": ("3", "gtc")}


def test_a_fraction_of_a_whole_share_stock_is_refused_by_the_venue() -> None:
    venue, sim = make(is_open=True)
    venue.client.load_markets()
    venue.client.markets["WSHR/USD"]["precision"]["amount"] = 1e-9  # as if our tick were wrong
    with pytest.raises(InvalidOrder, match="not fractionable"):
        venue.create_order(buy("WSHR/USD", "2.5"))
    assert sim.orders == {}


def test_a_stop_rests_as_a_stop_limit_and_fills_when_the_price_falls_to_it() -> None:
    venue, sim = make(is_open=True)
    venue.create_order(buy("AAPL/USD", "2"))
    stop = OrderRequest("tb1-1-sl-1", "AAPL/USD", OrderSide.SELL, OrderType.STOP_MARKET, D(2), stop_price=D(190))
    placed = venue.create_order(stop)
    assert placed.status == VenueStatus.OPEN
    resting = sim.by_client_id("tb1-1-sl-1")
    assert resting is not None
    assert (resting["type"], resting["stop_price"], resting["limit_price"]) == ("stop_limit", "190", "188.1")
    sim.move_price("AAPL", "189")
    assert venue.fetch_order(client_order_id="tb1-1-sl-1").status == VenueStatus.CLOSED
    assert sim.positions["AAPL"] == 0


def test_a_resting_stop_is_canceled_and_a_filled_order_is_told_apart_from_an_unknown_one() -> None:
    venue, sim = make(is_open=True)
    entry = venue.create_order(buy("AAPL/USD", "2"))
    stop = OrderRequest("tb1-1-sl-1", "AAPL/USD", OrderSide.SELL, OrderType.STOP_MARKET, D(2), stop_price=D(190))
    placed = venue.create_order(stop)
    assert venue.cancel_order(placed.id, symbol="AAPL/USD").status == VenueStatus.CANCELED  # a 204: asked again
    assert (sim.by_client_id("tb1-1-sl-1") or {}).get("status") == "canceled"
    # Alpaca's 40410000 (ccxt: InvalidOrder) is "no such order": the order's own state then tells why.
    with pytest.raises(InvalidOrder, match="already filled"):
        venue.cancel_order(entry.id, symbol="AAPL/USD")
    with pytest.raises(OrderNotFound):
        venue.fetch_order("a1b2c3d4-0000-4000-8000-999999999999", symbol="AAPL/USD")


def test_an_order_is_canceled_by_its_client_id_through_the_venue_s_own_id() -> None:
    # Alpaca cancels by its order id only (DELETE /v2/orders/{id}): a venue that never saw the order
    # (a restart) looks it up by our client id first.
    venue, sim = make(is_open=True)
    stop = OrderRequest("tb1-1-sl-1", "AAPL/USD", OrderSide.SELL, OrderType.STOP_MARKET, D(2), stop_price=D(190))
    venue.create_order(buy("AAPL/USD", "2"))
    placed = venue.create_order(stop)
    fresh, _ = make(is_open=True)
    fresh.client.fetch = sim
    sim.client = fresh.client
    canceled = fresh.cancel_order(client_order_id="tb1-1-sl-1", symbol="AAPL/USD")
    assert canceled.status == VenueStatus.CANCELED
    deletes = [r.path for r in sim.requests if r.method == "DELETE"]
    assert deletes == [f"/v2/orders/{placed.id}"]
    with pytest.raises(OrderNotFound):
        fresh.cancel_order(client_order_id="tb1-9-sl-1", symbol="AAPL/USD")


def test_the_venue_says_whether_a_stock_s_market_is_closed_now() -> None:
    venue, sim = make(is_open=False)
    assert venue.market_closed("AAPL/USD")
    assert not venue.market_closed("AAVE/USD")  # crypto keeps no hours
    sim.now = sim.next_open
    sim.open_market(until=sim.now + 3_600_000)
    assert not venue.market_closed("AAPL/USD")

"""The router over a live account's venues by market type: orders go to their symbol's venue, an id
of no known symbol is looked for everywhere, lists and wallets are the venues' together."""

from __future__ import annotations

from db.enums import OrderType
from engine.exchanges.api import OrderRequest, OrderSide
from engine.exchanges.venue_router import VenueRouter
from tests.helpers.trading import D, ManualVenue


def _req(cid: str, symbol: str) -> OrderRequest:
    return OrderRequest(cid, symbol, OrderSide.BUY, OrderType.LIMIT, D(1), price=D(90))


def test_orders_go_to_their_markets_venue_and_unknown_ids_are_looked_for_everywhere() -> None:
    spot, swap = ManualVenue(), ManualVenue(quote="500")
    router = VenueRouter({"spot": spot, "swap": swap}, {"LTC/USDT": "spot", "BTC/USDT:USDT": "swap"})
    router.create_order(_req("a", "LTC/USDT"))
    router.create_order(_req("b", "BTC/USDT:USDT"))
    assert (set(spot.orders), set(swap.orders)) == ({"a"}, {"b"})
    fresh = VenueRouter({"spot": spot, "swap": swap}, {})  # a restart: no id's symbol known yet
    assert {o.client_order_id for o in fresh.fetch_orders_by_client_ids(["a", "b", "c"])} == {"a", "b"}
    assert {o.client_order_id for o in router.fetch_open_orders()} == {"a", "b"}
    fresh.remember_symbols({"a": "LTC/USDT"})
    spot.calls.clear()
    swap.calls.clear()
    fresh.cancel_order(client_order_id="a")
    assert (spot.calls["cancel_order"], swap.calls["cancel_order"]) == (1, 0)
    assert router.fetch_balance()["USDT"].total == D(10500)  # the wallets added up

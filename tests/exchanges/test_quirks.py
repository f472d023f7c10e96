"""engine.exchanges.quirks: every per-exchange habit of the ccxt adapter comes from the one table,
so a row changes what the venue sends, an unknown exchange gets the default row, and a venue's
"client id taken" code counts only for that venue."""

from __future__ import annotations

import ccxt
import pytest

from engine.exchanges import quirks
from engine.exchanges.api import DERIVATIVES, Quirks, quirks_of
from engine.exchanges.ccxt_orders import is_duplicate_client_id
from tests.helpers.ccxt_trading import Router, cancel_fixture, make_venue

BYBIT_TAKEN = ccxt.InvalidOrder('bybit {"retCode":110072,"retMsg":"OrderLinkedID is taken"}')


def test_an_unknown_exchange_gets_the_default_row() -> None:
    row = quirks_of("kraken")
    assert row == Quirks()
    assert (row.fetch_by_client_id, row.cancel_by_client_id, row.separate_trigger_markets) == (
        None,
        "clientOrderId",
        frozenset(),
    )


def test_the_rows_for_the_three_tested_exchanges() -> None:
    assert quirks_of("binance").separate_trigger_markets == DERIVATIVES
    assert "spot" in quirks_of("okx").separate_trigger_markets
    assert quirks_of("bybit").separate_trigger_markets == frozenset({"spot"})
    assert quirks_of("bybit").list_filter_by_client_id == "orderLinkId"
    assert quirks_of("okx").fetch_by_client_id == "clOrdId"


def test_a_duplicate_code_counts_only_on_its_own_exchange() -> None:
    assert is_duplicate_client_id(BYBIT_TAKEN, quirks_of("bybit"))
    assert not is_duplicate_client_id(BYBIT_TAKEN, quirks_of("okx"))
    assert not is_duplicate_client_id(BYBIT_TAKEN, Quirks())
    # The word is enough everywhere, and ccxt's own class always.
    assert is_duplicate_client_id(ccxt.ExchangeError("Duplicate order sent."), Quirks())
    assert is_duplicate_client_id(ccxt.DuplicateOrderId("x"), Quirks())


@pytest.mark.parametrize(("market_type", "separate"), [("spot", False), ("swap", True), ("future", True)])
def test_trigger_orders_are_listed_apart_where_the_row_says(market_type: str, separate: bool) -> None:
    assert make_venue("binance", market_type)._separate_triggers() is separate


def test_changing_a_row_changes_what_the_venue_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    fixture = cancel_fixture("binance")
    monkeypatch.setitem(quirks.QUIRKS, "binance", Quirks(fetch_by_client_id="x", cancel_by_client_id="newCancelId"))
    venue = make_venue("binance")
    router = Router(venue.client, [("/api/v3/order", "DELETE", fixture["httpResponse"])])
    venue.cancel_order(client_order_id="tb-entry-1", symbol="LTC/USDT")
    assert "newCancelId=tb-entry-1" in router.requests[0].url
    assert "origClientOrderId=tb-entry-1" not in router.requests[0].url

"""What every live desk on a simulator shares (tests/helpers/binance_desk.py, futures_desk.py,
alpaca_desk.py): the account made as a user makes it (credentials encrypted, live switched on) and
its venue built by engine.exchanges.venues.live_venue from the stored (fake) credentials, its ccxt
client offline (no rate limiter, no retry waits); each desk then puts its simulator under the client."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from db.enums import OrderStatus
from db.models import ExchangeAccount, Order
from engine.exchanges.ccxt_venue import CcxtTradingVenue
from engine.exchanges.venues import live_venue
from engine.runtime import Runtime
from engine.users.settings import add_live, set_live_enabled
from tests.helpers.trading import add_user, orders_of

# How a simulator shows one of its orders: (our status for it, filled amount, exchange order id).
VenueView = Callable[[dict[str, Any]], tuple[OrderStatus, Decimal, Any]]


def open_live_account(runtime: Runtime, exchange: str, key: str, secret: str) -> tuple[int, int]:
    """(user id, account id) of a fresh user's live account on `exchange`, switched on."""
    runtime.reset_trading()
    user_id = add_user(runtime.sessions)
    account = add_live(runtime, user_id, exchange, exchange, key, secret)
    set_live_enabled(runtime, user_id, account.id, True)
    return user_id, account.id


def offline_venue(
    runtime: Runtime, account_id: int, credentials: tuple[str, str], market_type: str = "spot"
) -> CcxtTradingVenue:
    """The account's venue as the engine builds it, its client offline; the stored credentials
    decrypt to `credentials`."""
    with runtime.sessions() as s:
        account = s.get(ExchangeAccount, account_id)
        assert account is not None
    venue = live_venue(runtime, account, market_type)
    assert isinstance(venue, CcxtTradingVenue)
    assert (venue.client.apiKey, venue.client.secret) == credentials  # decrypted from the database
    venue.client.enableRateLimit = False
    venue.retry_wait = 0
    return venue


def orders_match_venue(
    runtime: Runtime, block_id: int, by_client_id: Callable[[str], dict[str, Any] | None], view: VenueView
) -> dict[Any, Order]:
    """Assert every sent order of the block is on the exchange with the same status, fill and id
    (an order still INITIALIZED was never sent); the block's orders by their exchange order id."""
    by_venue_id = {}
    for order in orders_of(runtime.sessions, block_id):
        venue = by_client_id(order.client_order_id)
        if order.status is OrderStatus.INITIALIZED:
            assert venue is None, order.client_order_id
            continue
        assert venue is not None, order.client_order_id
        status, filled, venue_id = view(venue)
        assert (order.status, order.filled, order.exchange_order_id) == (status, filled, venue_id), (
            order.client_order_id
        )
        by_venue_id[venue_id] = order
    return by_venue_id

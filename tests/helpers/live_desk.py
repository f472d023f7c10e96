"""What every live desk on a simulator shares (tests/helpers/binance_desk.py, futures_desk.py,
alpaca_desk.py): the account made as a user makes it (credentials encrypted, live switched on) and
its venue built by engine.exchanges.venues.live_venue from the stored (fake) credentials, its ccxt
client offline (no rate limiter, no retry waits); each desk then puts its simulator under the client."""

from __future__ import annotations

from db.models import ExchangeAccount
from engine.exchanges.ccxt_venue import CcxtTradingVenue
from engine.exchanges.venues import live_venue
from engine.runtime import Runtime
from engine.users.settings import add_live, set_live_enabled
from tests.helpers.trading import add_user


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

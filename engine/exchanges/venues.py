"""The trading venue behind an exchange account, built once and kept on the runtime.

Paper accounts trade on the PaperExchange over the account's price feed (`engine.exchanges.sources`);
live accounts through `CcxtTradingVenue`, only when switched on and with stored credentials.
Venues are built once per (account, market type) and kept on the runtime (`runtime.trading.venues`):
a live account's ccxt venue serves one market type (spot, swap, future; its balance, its order
lists, contract sizes), so a block on a swap market trades through a swap venue. The paper exchange
serves every market type of its account, so paper accounts have one venue (market type None).
Tests and benchmarks put their own (wrapped) venue there with `install_venue`.

A replay account (engine.replay) is a paper account on its run's `ReplayFeed`, installed with
`install_feed`: that feed is its prices and its clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from db.enums import AccountKind
from db.models import ExchangeAccount
from engine.exchanges.base import ExchangeError, MarketDataSource
from engine.exchanges.ccxt_feed import CcxtExchange
from engine.exchanges.paper import PaperExchange
from engine.exchanges.quirks import quirks_of
from engine.exchanges.replay_feed import ReplayFeed
from engine.exchanges.sources import source
from engine.exchanges.venue import TradingVenue
from engine.exchanges.venue_router import VenueRouter
from engine.runtime import Runtime


class VenueNotReadyError(ExchangeError):
    """The account cannot trade: live trading is off, or credentials are missing or unreadable."""


def install_venue(runtime: Runtime, account_id: int, venue: TradingVenue, market_type: str | None = None) -> None:
    """Use `venue` for `account_id` from now on (tests, benchmarks, a fault-injecting wrapper): on
    `market_type` only, or (None) on every market type the account has no venue of its own for."""
    runtime.trading.venues[(account_id, market_type)] = venue


def install_feed(runtime: Runtime, account_id: int, feed: ReplayFeed, venue: TradingVenue) -> None:
    """Make `feed` the prices and clock of replay account `account_id`, traded through `venue`."""
    with runtime.sources_lock:
        runtime.replay_feeds[account_id] = feed
    install_venue(runtime, account_id, venue)


def drop_feed(runtime: Runtime, account_id: int) -> None:
    """Forget a replay account's feed and venue (the run ended or was deleted)."""
    with runtime.sources_lock:
        runtime.replay_feeds.pop(account_id, None)
    for key in [k for k in runtime.trading.venues if k[0] == account_id]:
        del runtime.trading.venues[key]


def feed_for(runtime: Runtime, account: ExchangeAccount) -> MarketDataSource:
    """The prices an account trades on: its run's feed for a replay account, a source holding its
    credentials for a live account on an exchange whose market data wants them (quirks
    `keyed_market_data`), else its exchange's."""
    if account.kind is AccountKind.LIVE and quirks_of(account.exchange).keyed_market_data:
        return _keyed_source(runtime, account)
    if account.kind is not AccountKind.REPLAY:
        return source(runtime, account.exchange)
    with runtime.sources_lock:
        feed = runtime.replay_feeds.get(account.id)
    if feed is None:
        raise VenueNotReadyError(f"replay account {account.name!r} is not loaded: open its run again")
    return feed


def keyed_source_name(account_id: int, exchange: str) -> str:
    """The name under which `runtime.sources` keeps a live account's own keyed source."""
    return f"{exchange}#account-{account_id}"


def _keyed_source(runtime: Runtime, account: ExchangeAccount) -> MarketDataSource:
    name = keyed_source_name(account.id, account.exchange)
    with runtime.sources_lock:
        built = runtime.sources.get(name)
    if built is None:
        built = CcxtExchange(account.exchange, credentials(runtime, account))
        with runtime.sources_lock:
            built = runtime.sources.setdefault(name, built)
    return built


def venue_for(runtime: Runtime, account: ExchangeAccount, market_type: str = "spot") -> TradingVenue:
    """The account's venue for `market_type`, built on first use. A live account switched off or
    disabled (the settings page, perhaps in another process) loses its cached venues and is refused."""
    state = runtime.trading
    if account.kind is AccountKind.LIVE and (not account.live_enabled or account.disabled):
        for key in [k for k in state.venues if k[0] == account.id]:
            del state.venues[key]
        raise VenueNotReadyError(f"live trading is switched off for account {account.name!r}")
    key = (account.id, market_type if account.kind is AccountKind.LIVE else None)
    venue = state.venues.get(key) or state.venues.get((account.id, None))
    if venue is None:
        venue = _build(runtime, account, market_type)
        state.venues[key] = venue
    return venue


def account_venue(runtime: Runtime, account: ExchangeAccount, types: Mapping[str, str]) -> TradingVenue:
    """The venue a sync of the whole account talks to, given the market type of each symbol it
    trades: a paper account's one venue; a live account's venue of that type when it trades one
    (spot when none), else a router over its venues by type (engine.exchanges.venue_router)."""
    kinds = sorted(set(types.values()))
    if account.kind is not AccountKind.LIVE or len(kinds) <= 1:
        return venue_for(runtime, account, kinds[0] if kinds else "spot")
    return VenueRouter({kind: venue_for(runtime, account, kind) for kind in kinds}, types)


def engine_clock(runtime: Runtime, account: ExchangeAccount) -> Callable[[], int]:
    """The clock decisions use: the price feed's (settable in tests; a replay's own) for paper and
    replay accounts, wall time for live."""
    if account.kind is not AccountKind.LIVE:
        return feed_for(runtime, account).milliseconds
    return lambda: time.time_ns() // 1_000_000


def _build(runtime: Runtime, account: ExchangeAccount, market_type: str) -> TradingVenue:
    if account.kind is AccountKind.REPLAY:
        feed_for(runtime, account)  # raises: a loaded replay has its venue installed with its feed
    if account.kind is AccountKind.PAPER:
        if account.paper_account_id is None:
            raise VenueNotReadyError(f"paper account {account.name!r} has no simulated account")
        return PaperExchange(runtime.sessions, account.paper_account_id, source(runtime, account.exchange))
    return live_venue(runtime, account, market_type)


def live_venue(
    runtime: Runtime, account: ExchangeAccount, market_type: str = "spot", require_enabled: bool = True
) -> TradingVenue:
    """A ccxt venue for a live account: refuses unless live trading is switched on for it (or
    `require_enabled` is off: the settings page's connection test) and its API key and secret are
    stored (decrypted with engine.common.secrets: TRADEBLOCK_ENCRYPTION_KEYS, else keyed by SECRET_KEY)."""
    if require_enabled and not account.live_enabled:
        raise VenueNotReadyError(f"live trading is switched off for account {account.name!r}")
    if not account.api_key_enc or not account.secret_enc:
        raise VenueNotReadyError(f"account {account.name!r} has no stored API key and secret")
    import ccxt  # only live accounts need it

    from engine.exchanges.ccxt_alpaca import configure_client
    from engine.exchanges.ccxt_venue import CcxtTradingVenue

    config = credentials(runtime, account)
    exchange_class = getattr(ccxt, account.exchange, None)
    if exchange_class is None:
        raise VenueNotReadyError(f"ccxt has no exchange {account.exchange!r}")
    client = configure_client(exchange_class({**config, "enableRateLimit": True}))  # e.g. alpaca's paper endpoint
    return CcxtTradingVenue(client, market_type=market_type)


def credentials(runtime: Runtime, account: ExchangeAccount) -> dict[str, str]:
    """The account's ccxt credentials (apiKey, secret, password), decrypted with the same box that
    encrypted them (engine.users.settings): the configured keys come first."""
    if not account.api_key_enc or not account.secret_enc:
        raise VenueNotReadyError(f"account {account.name!r} has no stored API key and secret")
    from engine.common.secrets import SecretError, box_for

    box = box_for(runtime.settings.encryption_keys, runtime.settings.secret_key)
    try:
        config = {"apiKey": box.decrypt(account.api_key_enc), "secret": box.decrypt(account.secret_enc)}
        if account.password_enc:
            config["password"] = box.decrypt(account.password_enc)
    except SecretError as exc:
        raise VenueNotReadyError(f"credentials of account {account.name!r} cannot be decrypted: {exc}") from exc
    return config

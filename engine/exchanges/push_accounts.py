"""Which accounts the push hub watches, and the ccxt.pro client each watcher streams with.

The engine starts the hub with its sync callback (`start_push`), refreshes the set of watched
accounts now and then (`refresh_push`: live trading on, not disabled, credentials stored, an
exchange that `pushes`; an account switched off stops being watched), and stops it with itself
(`stop_push`). The hub lives on the runtime (`runtime.push`). The ticker watchers of emulated targets
(engine.exchanges.ticker_accounts) are refreshed and stopped with it.

A watcher's client is a ccxt.pro exchange with the account's decrypted credentials, extended by
`runtime.push_options[exchange]` (tests point its websocket urls at a local server there). It takes
the markets the account's trading venue already loaded, so a (re)connection costs no market load.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from db.enums import AccountKind
from db.models import ExchangeAccount
from engine.exchanges.push import Backoff, PushHub, SyncCallback, apply_options, pushes
from engine.exchanges.ticker_accounts import refresh_tickers, stop_tickers
from engine.exchanges.venues import credentials
from engine.runtime import Runtime


def start_push(runtime: Runtime, on_sync: SyncCallback, backoff: Backoff | None = None) -> PushHub:
    """Start the hub (once) and watch every account that should be; returns the hub."""
    if runtime.push is None:
        hub = PushHub(on_sync, backoff)
        hub.start()
        runtime.push = hub
    refresh_push(runtime)
    return runtime.push


def stop_push(runtime: Runtime) -> None:
    """Stop the order watchers and the ticker watchers (engine.exchanges.ticker_accounts)."""
    hub, runtime.push = runtime.push, None
    if hub is not None:
        hub.stop()
    stop_tickers(runtime)


def refresh_push(runtime: Runtime) -> None:
    """Watch the accounts that should be watched, and only those; refresh the ticker watchers too."""
    refresh_tickers(runtime)
    hub: PushHub | None = runtime.push
    if hub is None:
        return
    wanted = {account.id: account for account in _push_accounts(runtime)}
    for account_id in hub.watched() - set(wanted):
        hub.unwatch(account_id)
    for account_id, account in wanted.items():
        if account_id not in hub.watched():
            hub.watch(account_id, account.exchange, _factory(runtime, account))


def _push_accounts(runtime: Runtime) -> list[ExchangeAccount]:
    query = select(ExchangeAccount).where(
        ExchangeAccount.kind == AccountKind.LIVE,
        ExchangeAccount.live_enabled.is_(True),
        ExchangeAccount.disabled.is_(False),
        ExchangeAccount.api_key_enc.is_not(None),
        ExchangeAccount.secret_enc.is_not(None),
    )
    with runtime.sessions() as s:
        accounts = list(s.scalars(query.order_by(ExchangeAccount.id)))
    return [account for account in accounts if pushes(account.exchange)]


def _factory(runtime: Runtime, account: ExchangeAccount) -> Any:
    # Decrypted once, at watch time; each (re)connection makes a fresh client from it.
    config = credentials(runtime, account)
    account_id, exchange = account.id, account.exchange

    def make_client() -> Any:
        return pro_client(runtime, account_id, exchange, config)

    return make_client


def pro_client(runtime: Runtime, account_id: int, exchange: str, config: dict[str, str]) -> Any:
    """A ccxt.pro client for the account: its credentials, the runtime's options for the exchange,
    and the markets of the account's trading venue when it has loaded them."""
    import ccxt.pro

    client = apply_options(
        getattr(ccxt.pro, exchange)({**config, "enableRateLimit": True}), runtime.push_options.get(exchange)
    )
    venues = runtime.trading.venues
    venue = venues.get((account_id, "spot")) or venues.get((account_id, None))
    loaded = getattr(venue, "client", None)
    if loaded is not None and loaded.id == client.id and loaded.markets:
        client.set_markets_from_exchange(loaded)
    return client

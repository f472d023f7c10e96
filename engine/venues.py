"""The trading venue behind an exchange account, and the engine's per-runtime trading state.

Paper accounts trade on the PaperExchange over the account's price feed (`engine.jobs.source`);
live accounts through `CcxtTradingVenue`, only when switched on and with stored credentials.
Venues are built once per account and kept on the runtime (`trading_state(runtime).venues`);
tests and benchmarks put their own (wrapped) venue there with `install_venue`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from db.enums import AccountKind
from db.models import ExchangeAccount
from engine.exchanges.base import ExchangeError
from engine.exchanges.paper import PaperExchange
from engine.exchanges.trading import TradingVenue
from engine.jobs import source
from engine.runtime import Runtime

_STATE_ATTR = "_trading_state"
_state_lock = threading.Lock()


class VenueNotReadyError(ExchangeError):
    """The account cannot trade: live trading is off, or credentials are missing or unreadable."""


@dataclass
class TradingState:
    """What the engine keeps in memory per runtime: venues, per-account locks, retry backoff."""

    venues: dict[int, TradingVenue] = field(default_factory=dict)
    locks: dict[int, threading.Lock] = field(default_factory=dict)
    tick: int = 0  # sync ticks run so far (backoff counts in ticks)
    retry_after: dict[int, int] = field(default_factory=dict)  # order id -> first tick it may be retried
    failures: dict[int, int] = field(default_factory=dict)  # account id -> sync ticks failed in a row
    # account id -> venue orders whose fills could not be fetched yet (recover() rescans the DB after a restart)
    fills_due: dict[int, list[Any]] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def account_lock(self, account_id: int) -> threading.Lock:
        with self.guard:
            return self.locks.setdefault(account_id, threading.Lock())


def trading_state(runtime: Runtime) -> TradingState:
    with _state_lock:
        state = runtime.__dict__.get(_STATE_ATTR)
        if state is None:
            state = TradingState()
            setattr(runtime, _STATE_ATTR, state)
        return state


def reset_trading_state(runtime: Runtime) -> None:
    """Forget venues, locks and backoff (tests reuse one runtime over emptied tables)."""
    with _state_lock:
        runtime.__dict__.pop(_STATE_ATTR, None)


def install_venue(runtime: Runtime, account_id: int, venue: TradingVenue) -> None:
    """Use `venue` for `account_id` from now on (tests, benchmarks, a fault-injecting wrapper)."""
    trading_state(runtime).venues[account_id] = venue


def venue_for(runtime: Runtime, account: ExchangeAccount) -> TradingVenue:
    """The account's venue, built on first use. A live account switched off or disabled (the
    settings page, perhaps in another process) loses its cached venue and is refused."""
    state = trading_state(runtime)
    if account.kind is AccountKind.LIVE and (not account.live_enabled or account.disabled):
        state.venues.pop(account.id, None)
        raise VenueNotReadyError(f"live trading is switched off for account {account.name!r}")
    venue = state.venues.get(account.id)
    if venue is None:
        venue = _build(runtime, account)
        state.venues[account.id] = venue
    return venue


def engine_clock(runtime: Runtime, account: ExchangeAccount) -> Callable[[], int]:
    """The clock decisions use: the price feed's (settable in tests) for paper, wall time for live."""
    if account.kind is AccountKind.PAPER:
        feed = source(runtime, account.exchange)
        return feed.milliseconds
    return lambda: time.time_ns() // 1_000_000


def _build(runtime: Runtime, account: ExchangeAccount) -> TradingVenue:
    if account.kind is AccountKind.PAPER:
        if account.paper_account_id is None:
            raise VenueNotReadyError(f"paper account {account.name!r} has no simulated account")
        return PaperExchange(runtime.sessions, account.paper_account_id, source(runtime, account.exchange))
    return live_venue(runtime, account)


def live_venue(
    runtime: Runtime, account: ExchangeAccount, market_type: str = "spot", require_enabled: bool = True
) -> TradingVenue:
    """A ccxt venue for a live account: refuses unless live trading is switched on for it (or
    `require_enabled` is off: the settings page's connection test) and its API key and secret are
    stored (decrypted with engine.secrets: TRADEBLOCK_ENCRYPTION_KEYS, else keyed by SECRET_KEY)."""
    if require_enabled and not account.live_enabled:
        raise VenueNotReadyError(f"live trading is switched off for account {account.name!r}")
    if not account.api_key_enc or not account.secret_enc:
        raise VenueNotReadyError(f"account {account.name!r} has no stored API key and secret")
    import ccxt  # only live accounts need it

    from engine.exchanges.ccxt_trading import CcxtTradingVenue
    from engine.secrets import SecretError, box_for

    # The same box that encrypted them (engine.account_settings): the configured keys come first.
    box = box_for(runtime.settings.encryption_keys, runtime.settings.secret_key)
    try:
        config = {"apiKey": box.decrypt(account.api_key_enc), "secret": box.decrypt(account.secret_enc)}
        if account.password_enc:
            config["password"] = box.decrypt(account.password_enc)
    except SecretError as exc:
        raise VenueNotReadyError(f"credentials of account {account.name!r} cannot be decrypted: {exc}") from exc
    exchange_class = getattr(ccxt, account.exchange, None)
    if exchange_class is None:
        raise VenueNotReadyError(f"ccxt has no exchange {account.exchange!r}")
    client = exchange_class({**config, "enableRateLimit": True})
    return CcxtTradingVenue(client, market_type=market_type)

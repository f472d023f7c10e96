"""What the ticker hub (engine.exchanges.push_tickers) watches, the client it streams with, and the
prices it leaves for the sync.

Watched: the live blocks of live, enabled accounts on an exchange that `streams_tickers`, whose
protection lets the engine take the profit (STOP_RESTS; NATIVE_OCO, for the trades no list rests
for). Their symbols are streamed (a pending entry's too, so the stream is up when it fills); their
open, not yet closing trades are the targets checked. The engine starts the hub with its sync
callback (`start_tickers`), refreshes it with the push watchers (push_accounts.refresh_push) and
soon after a sync changed orders (`tickers_changed`), and stops it with them.

Each pushed price is kept with its monotonic time on the runtime (`TradingState.pushed_prices`):
`pushed_price` gives it to the sync while it is younger than FRESH_S, so the sync a push triggered
decides on the price that triggered it, and a tick while the stream is up needs no ticker request.
A stream lost or stopped takes its prices with it.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from db.enums import LIVE_BLOCKS, AccountKind, OrderRole, OrderStatus, OrderType, ProtectionMode, TradeStatus
from db.models import Block, ExchangeAccount, Order, Trade
from engine.exchanges.push import Backoff, apply_options
from engine.exchanges.push_tickers import (
    LINGER_S,
    TargetSyncCallback,
    TickerHub,
    WatchedTarget,
    Watchlist,
    streams_tickers,
)
from engine.runtime import Runtime

FRESH_S = 2.0  # a pushed price older than this is not used: the sync asks the venue's ticker
WATCHED_MODES = (ProtectionMode.STOP_RESTS, ProtectionMode.NATIVE_OCO)
# A list resting for the trade: its target rests on the venue (a leg being canceled does not count).
_RESTING = (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


def start_tickers(
    runtime: Runtime, on_sync: TargetSyncCallback, backoff: Backoff | None = None, linger_s: float = LINGER_S
) -> TickerHub:
    """Start the hub (once) and stream what should be; returns the hub."""
    if runtime.tickers is None:
        hub = TickerHub(
            on_sync,
            lambda: watchlist(runtime),
            lambda exchange: ticker_client(runtime, exchange),
            lambda exchange, symbol, price: _keep(runtime, exchange, symbol, price),
            backoff,
            linger_s,
        )
        hub.start()
        runtime.tickers = hub
    runtime.tickers.refresh()
    return runtime.tickers


def refresh_tickers(runtime: Runtime) -> None:
    if runtime.tickers is not None:
        runtime.tickers.refresh()


def tickers_changed(runtime: Runtime) -> None:
    """Orders or blocks of a live account changed: the hub reloads its watchlist soon (cheap to ask)."""
    if runtime.tickers is not None:
        runtime.tickers.refresh_soon()


def stop_tickers(runtime: Runtime) -> None:
    """Stop the hub; its prices are not used any more (the syncs go back to the venue's ticker)."""
    hub, runtime.tickers = runtime.tickers, None
    if hub is not None:
        hub.stop()
        runtime.trading.pushed_prices.clear()


def pushed_price(runtime: Runtime, exchange: str, symbol: str) -> Decimal | None:
    """The last pushed price of the symbol if it is fresh (younger than FRESH_S), else None."""
    pushed = runtime.trading.pushed_prices.get((exchange, symbol))
    if pushed is None or time.monotonic() - pushed[0] > FRESH_S:
        return None
    return pushed[1]


def _keep(runtime: Runtime, exchange: str, symbol: str, price: Decimal | None) -> None:
    if price is None:
        runtime.trading.pushed_prices.pop((exchange, symbol), None)
        return
    runtime.trading.pushed_prices[(exchange, symbol)] = (time.monotonic(), price)
    runtime.trading.last_prices[(exchange, symbol)] = price


def watchlist(runtime: Runtime) -> Watchlist:
    """The symbols to stream and the targets to check, from the database (see the module docstring)."""
    blocks_query = (
        select(Block.id, Block.account_id, Block.symbol, Block.side, Block.protection_mode, ExchangeAccount.exchange)
        .join(ExchangeAccount, ExchangeAccount.id == Block.account_id)
        .where(
            ExchangeAccount.kind == AccountKind.LIVE,
            ExchangeAccount.live_enabled.is_(True),
            ExchangeAccount.disabled.is_(False),
            Block.status.in_(LIVE_BLOCKS),
            Block.protection_mode.in_(WATCHED_MODES),
        )
    )
    with runtime.sessions() as s:
        blocks = {row.id: row for row in s.execute(blocks_query) if streams_tickers(row.exchange)}
        trades_query = select(Trade.id, Trade.block_id, Trade.target_price).where(
            Trade.block_id.in_(sorted(blocks)), Trade.status == TradeStatus.OPEN, Trade.close_reason.is_(None)
        )
        trades = list(s.execute(trades_query)) if blocks else []
        listed_query = select(Order.trade_id).where(
            Order.block_id.in_(sorted(blocks)),
            Order.role == OrderRole.TP,
            Order.type == OrderType.LIMIT,
            Order.status.in_(_RESTING),
        )
        listed = set(s.scalars(listed_query)) if blocks else set()
    symbols: dict[str, set[str]] = {}
    targets: dict[tuple[str, str], list[WatchedTarget]] = {}
    for block in blocks.values():
        symbols.setdefault(block.exchange, set()).add(block.symbol)
    for trade in trades:
        block = blocks[trade.block_id]
        if block.protection_mode is ProtectionMode.NATIVE_OCO and trade.id in listed:
            continue  # the list's target leg rests: the venue takes the profit
        watched = WatchedTarget(block.account_id, block.id, block.side, trade.target_price)
        targets.setdefault((block.exchange, block.symbol), []).append(watched)
    return Watchlist(
        {exchange: frozenset(s) for exchange, s in symbols.items()},
        {key: tuple(t) for key, t in targets.items()},
    )


def ticker_client(runtime: Runtime, exchange: str) -> Any:
    """A public ccxt.pro client of the exchange (no credentials), with the runtime's options for it and
    the markets a trading venue on it already loaded, so a (re)connection costs no market load."""
    import ccxt.pro

    client = apply_options(getattr(ccxt.pro, exchange)({"enableRateLimit": True}), runtime.push_options.get(exchange))
    for venue in list(runtime.trading.venues.values()):
        loaded = getattr(venue, "client", None)
        if loaded is not None and loaded.id == client.id and loaded.markets:
            client.set_markets_from_exchange(loaded)
            break
    return client

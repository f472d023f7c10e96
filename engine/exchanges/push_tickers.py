"""Pushed prices for the targets the engine takes itself: one ccxt.pro ticker stream per exchange.

Where a target cannot rest on the venue (STOP_RESTS, and NATIVE_OCO while no list rests) the engine
closes the trade at market once the last price reaches it; the sync tick alone would see that up to
its period late. The engine owns one `TickerHub`: a daemon thread with one asyncio loop and one
watcher per exchange streaming the union of the symbols it is given (`watch_tickers` where the
exchange has it, else one `watch_ticker` per symbol). Ticker data is public: the client carries no
credentials. On every pushed price the hub stores it (`on_price`) and checks, purely (`crossed`, the
rule engine.common.targets shares with the bracket rules), which watched open trades' targets it
reaches; for those it asks the engine to sync the account's blocks now through the callback it was
given (the scheduler passes `blocks.api.sync_account`: this package never imports the blocks
package). Requests are coalesced per account: prices arriving while a sync runs add their blocks
to one more sync. After each such sync the hub reloads what it watches (the trade closing there is
no longer a target).

What to watch comes from `load` (engine.exchanges.ticker_accounts: the database), on `refresh` and,
soon after, on `refresh_soon` (a block submitted, an order changed). A watcher streams a fixed set of
symbols: a new one restarts it; one no longer needed lingers LINGER_S first (the next block is often
on the same symbol, and a restart is a gap of one subscription and the stream's next update). A
stream that fails is reconnected with exponential backoff on a fresh client; a price missed meanwhile
is not replayed (the next update carries the current one, and the sync tick stays the safety net
behind both); a stream gone takes its pushed prices with it. Which exchanges stream
tickers is data (`streams_tickers`): ccxt.pro's `has["watchTicker"]`, overridden by `TICKER_OVERRIDES`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from db.enums import Side
from engine.common.precision import to_decimal
from engine.common.targets import target_reached
from engine.exchanges.ccxt_orders import mask
from engine.exchanges.push import (
    LOOP_TIMEOUT_S,
    STABLE_S,
    SYNC_THREADS,
    Backoff,
    _close,
    _connected,
    _spawn,
    end_loop,
    end_task,
    pro_has,
    start_loop,
)

log = logging.getLogger(__name__)

# (account id, block ids) -> None: sync those blocks of that account now.
TargetSyncCallback = Callable[[int, frozenset[int]], None]
# (exchange, symbol, last price) as it arrives; None: forget the symbol's price (its stream is gone)
PriceCallback = Callable[[str, str, Decimal | None], None]
PublicClientFactory = Callable[[str], Any]  # exchange id -> a fresh ccxt.pro client, no credentials

# ccxt exchange id -> whether its ticker stream is used, where ccxt.pro's `has` must be overruled.
# alpaca: its market-data stream authenticates with an account's keys (ccxt.pro's watch_ticker signs
# in first); this hub streams public data without credentials, so the tick watches alpaca's targets.
TICKER_OVERRIDES: dict[str, bool] = {"alpaca": False}
LINGER_S = 60.0  # a symbol no block needs any more is streamed this long still (see TickerHub._lingering)


@cache
def streams_tickers(exchange_id: str) -> bool:
    """Whether the engine streams this exchange's tickers: the override, else ccxt.pro's `has`."""
    if exchange_id in TICKER_OVERRIDES:
        return TICKER_OVERRIDES[exchange_id]
    return pro_has(exchange_id, "watchTicker")


@dataclass(frozen=True)
class WatchedTarget:
    """An open trade whose target the engine takes itself."""

    account_id: int
    block_id: int
    side: Side
    target: Decimal


@dataclass(frozen=True)
class Watchlist:
    """What the hub streams (exchange -> symbols) and checks ((exchange, symbol) -> open targets)."""

    symbols: dict[str, frozenset[str]] = field(default_factory=dict)
    targets: dict[tuple[str, str], tuple[WatchedTarget, ...]] = field(default_factory=dict)


def crossed(targets: Iterable[WatchedTarget], price: Decimal) -> dict[int, frozenset[int]]:
    """Account id -> its blocks with a target `price` reaches."""
    hits: dict[int, set[int]] = {}
    for t in targets:
        if target_reached(t.side, price, t.target):
            hits.setdefault(t.account_id, set()).add(t.block_id)
    return {account_id: frozenset(blocks) for account_id, blocks in hits.items()}


def last_prices(update: Any) -> dict[str, Decimal]:
    """Symbol -> last price of a `watch_ticker` (one ticker) or `watch_tickers` (symbol -> ticker) answer;
    tickers without a last price are left out."""
    tickers = [update] if isinstance(update, dict) and isinstance(update.get("symbol"), str) else update.values()
    prices = {}
    for ticker in tickers:
        symbol, last = ticker.get("symbol"), ticker.get("last")
        if isinstance(symbol, str) and last is not None:
            prices[symbol] = to_decimal(last)
    return prices


@dataclass
class TickerState:
    """What one exchange's watcher has seen (the hub's `state`, for logs and tests)."""

    exchange: str
    symbols: frozenset[str]
    connects: int = 0  # streams connected so far
    updates: int = 0  # ticker updates received
    last_error: str = ""  # the last stream failure
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class TickerHub:
    """This engine's ticker watchers: `start`, `refresh` what they watch, `stop` them all."""

    def __init__(
        self,
        on_sync: TargetSyncCallback,
        load: Callable[[], Watchlist],
        make_client: PublicClientFactory,
        on_price: PriceCallback,
        backoff: Backoff | None = None,
        linger_s: float = LINGER_S,
    ) -> None:
        self.on_sync, self.load, self.make_client, self.on_price = on_sync, load, make_client, on_price
        self.backoff = backoff or Backoff()
        self.linger_s = linger_s
        self._unwanted: dict[tuple[str, str], float] = {}  # (exchange, symbol) streamed, no longer wanted since
        self.state: dict[str, TickerState] = {}
        self.targets: dict[tuple[str, str], tuple[WatchedTarget, ...]] = {}
        self.syncs = 0  # syncs the callback finished
        self.workers = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="ticker-sync")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._guard = threading.RLock()  # refresh and stop come from several threads
        self._soon = threading.Event()  # a refresh is asked for and not begun yet
        self._wanted: dict[int, set[int]] = {}  # account id -> blocks to sync next (the loop's thread only)
        self._syncing: dict[int, asyncio.Task[None]] = {}  # account id -> its syncer (the loop's thread only)

    def start(self) -> None:
        with self._guard:
            if self._thread is None:
                self._loop, self._thread = start_loop("ticker-watchers")

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel every watcher and syncer (a sync in flight ends first), then end the loop and its thread."""
        with self._guard:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            for exchange in list(self.state):
                self._unwatch(exchange, timeout)
            self._loop = self._thread = None
        asyncio.run_coroutine_threadsafe(self._end_syncers(), loop).result(timeout)
        end_loop(loop, thread, timeout)
        self.workers.shutdown(wait=True)

    def watched(self) -> dict[str, frozenset[str]]:
        with self._guard:
            return {exchange: state.symbols for exchange, state in self.state.items()}

    def refresh(self) -> None:
        """Load what to watch; stream exactly those symbols (an exchange whose set changed restarts)."""
        with self._guard:
            self._soon.clear()
            if self._loop is None:
                return
            wanted = self.load()
            self.targets = wanted.targets
            streamed = self._lingering(wanted.symbols, time.monotonic())
            for exchange, state in list(self.state.items()):
                if streamed.get(exchange) != state.symbols:
                    self._unwatch(exchange)
            for exchange, symbols in streamed.items():
                if symbols and exchange not in self.state:
                    self._watch(exchange, symbols)

    def _lingering(self, wanted: dict[str, frozenset[str]], now: float) -> dict[str, frozenset[str]]:
        """The symbols to stream: the wanted ones, and those streamed now that were wanted less than
        `linger_s` ago (a trader often opens the next block on the same symbol: no reconnection)."""
        streamed = {}
        for exchange in set(wanted) | set(self.state):
            symbols = set(wanted.get(exchange, ()))
            current = self.state[exchange].symbols if exchange in self.state else frozenset()
            for symbol in current - symbols:
                since = self._unwanted.setdefault((exchange, symbol), now)
                if now - since < self.linger_s:
                    symbols.add(symbol)
            for symbol in symbols & set(wanted.get(exchange, ())):
                self._unwanted.pop((exchange, symbol), None)
            streamed[exchange] = frozenset(symbols)
        for key in [k for k in self._unwanted if k[1] not in streamed.get(k[0], ())]:
            del self._unwanted[key]
        return streamed

    def refresh_soon(self) -> None:
        """Refresh in a worker, once however often it is asked before it begins."""
        if self._loop is None or self._soon.is_set():
            return
        self._soon.set()
        try:
            self.workers.submit(self._refresh_logged)
        except RuntimeError:  # the hub is stopping
            self._soon.clear()

    # --- the watchers ---

    def _watch(self, exchange: str, symbols: frozenset[str]) -> None:
        assert self._loop is not None
        state = TickerState(exchange, symbols)
        watcher = _TickerWatcher(self, state)
        state.task = asyncio.run_coroutine_threadsafe(_spawn(watcher.run()), self._loop).result(LOOP_TIMEOUT_S)
        self.state[exchange] = state
        log.info("push: streaming the tickers of %s on %s", ", ".join(sorted(symbols)), exchange)

    def _unwatch(self, exchange: str, timeout: float = 10.0) -> None:
        state = self.state.pop(exchange, None)
        if state is None or state.task is None or self._loop is None:
            return
        if not end_task(self._loop, state.task, timeout):
            log.warning("push: the ticker watcher of %s did not end within %.0f s", exchange, timeout)
        log.info(
            "push: stopped streaming %s tickers (%d connections, %d updates)", exchange, state.connects, state.updates
        )

    def _refresh_logged(self) -> None:
        try:
            self.refresh()
        except Exception:  # the refresh job tries again; the sync tick watches the targets meanwhile
            log.exception("push: refreshing the watched tickers failed")

    # --- prices and the syncs they ask for (the loop's thread) ---

    def _price(self, exchange: str, symbol: str, price: Decimal) -> None:
        self.on_price(exchange, symbol, price)
        for account_id, blocks in crossed(self.targets.get((exchange, symbol), ()), price).items():
            self._wanted.setdefault(account_id, set()).update(blocks)
            if account_id not in self._syncing:
                self._syncing[account_id] = asyncio.ensure_future(self._syncer(account_id))

    async def _syncer(self, account_id: int) -> None:
        """Runs the engine's sync of the wanted blocks in a worker, one at a time, until none is wanted."""
        try:
            while self._wanted.get(account_id):
                blocks = frozenset(self._wanted.pop(account_id))
                inflight = self.workers.submit(self._sync, account_id, blocks)
                # Shielded: a sync changing orders ends before the hub does.
                await asyncio.shield(asyncio.wrap_future(inflight))
        finally:
            self._syncing.pop(account_id, None)

    def _sync(self, account_id: int, blocks: frozenset[int]) -> None:
        try:
            self.on_sync(account_id, blocks)
        except Exception as exc:  # the next price, or the sync tick, tries again
            log.warning("push: target sync of account %d failed: %s", account_id, exc)
        self.syncs += 1
        self._refresh_logged()  # the trade that closed is no longer a target

    async def _end_syncers(self) -> None:
        self._wanted.clear()
        tasks = list(self._syncing.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)


class _TickerWatcher:
    """One exchange's stream of its symbols: connect, pass every price on, reconnect on failure."""

    def __init__(self, hub: TickerHub, state: TickerState) -> None:
        self.hub, self.state = hub, state
        self.served = False  # the current connection delivered an update

    async def run(self) -> None:
        failures = 0
        while True:
            client: Any = None
            began = time.monotonic()
            self.served = False
            try:
                client = self.hub.make_client(self.state.exchange)
                await self._stream(client)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any stream failure: reconnect after the backoff
                self.state.last_error = mask(client, f"{type(exc).__name__}: {exc}")[:500]
            finally:
                for symbol in self.state.symbols:  # no stream, no pushed price: the syncs ask the venue
                    self.hub.on_price(self.state.exchange, symbol, None)
                if client is not None:
                    await _close(client)
            if self.served or time.monotonic() - began >= STABLE_S:
                failures = 0
            delay = self.hub.backoff.delay(failures)
            failures += 1
            log.warning(
                "push: %s ticker stream lost (%s); reconnecting in %.1f s",
                self.state.exchange,
                self.state.last_error,
                delay,
            )
            await asyncio.sleep(delay)

    async def _stream(self, client: Any) -> None:
        """Read the stream until it fails."""
        calls = _calls(client, sorted(self.state.symbols))
        pending = {asyncio.ensure_future(call()): call for call in calls}
        try:
            await _connected(client, next(iter(pending)))
            self.state.connects += 1
            while True:
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    call = pending.pop(future)
                    update = future.result()  # raises the stream's error
                    self.served = True
                    self.state.updates += 1
                    for symbol, price in last_prices(update).items():
                        if symbol in self.state.symbols:
                            self.hub._price(self.state.exchange, symbol, price)
                    pending[asyncio.ensure_future(call())] = call
        finally:
            for future in pending:
                if not future.done():
                    future.cancel()
                elif not future.cancelled():
                    future.exception()  # retrieved: no "never retrieved" warning on the way out


def _calls(client: Any, symbols: list[str]) -> list[Callable[[], Coroutine[Any, Any, Any]]]:
    """One `watch_tickers` per market type where the exchange has it (a venue streams spot and
    contracts apart: ccxt routes a call by its first symbol), else one `watch_ticker` per symbol."""
    if not client.has.get("watchTickers"):
        return [lambda symbol=symbol: client.watch_ticker(symbol) for symbol in symbols]
    by_type: dict[str, list[str]] = {}
    for symbol in symbols:
        market = (client.markets or {}).get(symbol) or {}
        by_type.setdefault(str(market.get("type")), []).append(symbol)
    return [lambda group=group: client.watch_tickers(group) for group in by_type.values()]

"""Push updates: one ccxt.pro order stream per live account whose exchange has one, feeding the engine.

The engine owns one `PushHub`: a daemon thread running one asyncio loop, one watcher task per
account. A watcher calls ccxt.pro's `watch_orders` and, on each update, asks the engine to sync
that account now through the callback it was given (the scheduler passes `blocks.api.sync_account`:
this package never reconciles by itself and never imports the blocks package). Requests are
coalesced per account: updates arriving while a sync runs make one more sync, not one each.

A stream that fails is reconnected with exponential backoff (capped), on a fresh client. Every
(re)connection is a gap (what happened while no stream was up is unknown), so once the new stream
is connected the account gets a full reconcile; a fill made while the stream was down is found
then, and the sync tick stays the safety net behind both. Errors are logged with the account's
credentials masked.

Which exchanges push is data (`pushes`): ccxt.pro's `has["watchOrders"]`, overridden by
`PUSH_OVERRIDES` where an exchange's stream is known not to serve.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from engine.exchanges.ccxt_orders import mask

log = logging.getLogger(__name__)

# (account id, gap) -> None: sync that account now; `gap` after a (re)connection: a full reconcile.
SyncCallback = Callable[[int, bool], None]
ClientFactory = Callable[[], Any]  # a fresh ccxt.pro client of the account, credentials set

# ccxt exchange id -> whether its order stream is used, where ccxt.pro's `has` must be overruled.
PUSH_OVERRIDES: dict[str, bool] = {}
CLIENT_POLL_S = 0.05  # how often a connecting watcher looks for ccxt's websocket client
STABLE_S = 60.0  # a connection that lived this long resets the backoff even without an update
LOOP_TIMEOUT_S = 10.0  # the hub's loop answers a call from another thread within this
SYNC_THREADS = 4  # syncs of different accounts run side by side; one account's, one at a time


@cache
def pro_has(exchange_id: str, feature: str) -> bool:
    """Whether ccxt.pro's class of the exchange says it has `feature` ("watchOrders", ...)."""
    import ccxt.pro

    exchange_class = getattr(ccxt.pro, exchange_id, None)
    return exchange_class is not None and bool(exchange_class().has.get(feature))


@cache
def pushes(exchange_id: str) -> bool:
    """Whether the engine watches this exchange's orders: the override, else ccxt.pro's `has`."""
    if exchange_id in PUSH_OVERRIDES:
        return PUSH_OVERRIDES[exchange_id]
    return pro_has(exchange_id, "watchOrders")


def apply_options(client: Any, options: dict[str, Any] | None) -> Any:
    """Merge `options` (runtime.push_options of the exchange: tests point its urls at a local
    server) into the ccxt.pro client's attributes; returns the client."""
    for key, value in (options or {}).items():
        setattr(client, key, client.deep_extend(getattr(client, key, None) or {}, value))
    return client


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait before reconnect number `failures` (0 first): initial, doubling, capped."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 30.0

    def delay(self, failures: int) -> float:
        return min(self.cap, self.initial * self.factor ** min(failures, 32))


@dataclass
class WatchState:
    """What one account's watcher has seen (the hub's `state`, for logs and tests)."""

    exchange: str
    connects: int = 0  # streams connected so far
    updates: int = 0  # order updates received
    syncs: int = 0  # syncs the callback finished
    syncing: bool = False  # a sync is asked for or running
    last_error: str = ""  # the last stream failure, credentials masked
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class PushHub:
    """This engine's watchers: `start`, `watch` an account, `unwatch` it, `stop` them all."""

    def __init__(self, on_sync: SyncCallback, backoff: Backoff | None = None) -> None:
        self.on_sync = on_sync
        self.backoff = backoff or Backoff()
        self.state: dict[int, WatchState] = {}
        self.workers = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="push-sync")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # watch, unwatch and stop come from different threads (a scheduler job, the engine's stop).
        self._guard = threading.RLock()

    def start(self) -> None:
        with self._guard:
            if self._thread is None:
                self._loop, self._thread = start_loop("push-watchers")

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel every watcher (each closes its stream, a sync in flight ends first), then end the
        loop, its thread and the sync workers. A stopped hub watches nothing any more."""
        with self._guard:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            for account_id in list(self.state):
                self.unwatch(account_id, timeout)
            self._loop = self._thread = None
        end_loop(loop, thread, timeout)
        self.workers.shutdown(wait=True)

    def watched(self) -> set[int]:
        with self._guard:
            return set(self.state)

    def watch(self, account_id: int, exchange: str, make_client: ClientFactory) -> bool:
        """Start watching the account (False when it is watched already or the hub is stopped)."""
        with self._guard:
            if self._loop is None or account_id in self.state:
                return False
            state = WatchState(exchange)
            watcher = _Watcher(self, account_id, state, make_client)
            state.task = asyncio.run_coroutine_threadsafe(_spawn(watcher.run()), self._loop).result(LOOP_TIMEOUT_S)
            self.state[account_id] = state
        log.info("push: watching the orders of account %d on %s", account_id, exchange)
        return True

    def unwatch(self, account_id: int, timeout: float = 10.0) -> None:
        with self._guard:
            state = self.state.pop(account_id, None)
            if state is None or state.task is None or self._loop is None:
                return
            if not end_task(self._loop, state.task, timeout):
                log.warning("push: the watcher of account %d did not end within %.0f s", account_id, timeout)
        log.info(
            "push: stopped watching account %d (%d connections, %d updates, %d syncs)",
            account_id,
            state.connects,
            state.updates,
            state.syncs,
        )


class _Watcher:
    """One account's stream: connect, reconcile the gap, sync on every update, reconnect on failure."""

    def __init__(self, hub: PushHub, account_id: int, state: WatchState, make_client: ClientFactory) -> None:
        self.hub, self.account_id, self.state, self.make_client = hub, account_id, state, make_client
        self.wanted = asyncio.Event()
        self.gap = False
        self.served = False  # the current connection delivered an update
        self.inflight: Future[None] | None = None  # the sync running in the hub's workers

    async def run(self) -> None:
        syncer = asyncio.ensure_future(self._syncer())
        failures = 0
        try:
            while True:
                client: Any = None
                began = time.monotonic()
                self.served = False
                try:
                    client = self.make_client()
                    await self._stream(client)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # any stream failure: reconnect after the backoff
                    self.state.last_error = mask(client, f"{type(exc).__name__}: {exc}")[:500]
                finally:
                    if client is not None:
                        await _close(client)
                if self.served or time.monotonic() - began >= STABLE_S:
                    failures = 0  # the connection served: this failure is a new one, not a run of them
                delay = self.hub.backoff.delay(failures)
                failures += 1
                log.warning(
                    "push: stream of account %d lost (%s); reconnecting in %.1f s",
                    self.account_id,
                    self.state.last_error,
                    delay,
                )
                await asyncio.sleep(delay)
        finally:
            syncer.cancel()
            if self.inflight is not None:  # a sync is changing orders: it ends before the watcher does
                await asyncio.wait([asyncio.wrap_future(self.inflight)])

    async def _stream(self, client: Any) -> None:
        """Read the stream until it fails (`served` once an update came)."""
        pending = asyncio.ensure_future(client.watch_orders())
        try:
            await _connected(client, pending)
            self.state.connects += 1
            self._request(gap=True)
            while True:
                await pending
                self.served = True
                self.state.updates += 1
                self._request(gap=False)
                pending = asyncio.ensure_future(client.watch_orders())
        finally:
            if not pending.done():
                pending.cancel()
            elif not pending.cancelled():
                pending.exception()  # retrieved: no "never retrieved" warning on the way out

    def _request(self, gap: bool) -> None:
        self.gap = self.gap or gap
        self.state.syncing = True
        self.wanted.set()

    async def _syncer(self) -> None:
        """Runs the engine's sync in a worker thread, one at a time, as often as it is asked for."""
        while True:
            await self.wanted.wait()
            self.wanted.clear()
            gap, self.gap = self.gap, False
            self.inflight = self.hub.workers.submit(self.hub.on_sync, self.account_id, gap)
            try:
                await asyncio.wrap_future(self.inflight)
            except Exception as exc:  # the next update, reconnect or sync tick tries again
                log.warning("push: sync of account %d failed: %s", self.account_id, exc)
            self.state.syncs += 1
            self.state.syncing = self.wanted.is_set()


async def _connected(client: Any, pending: asyncio.Future[Any]) -> None:
    """Wait until one of the client's websockets is open, or the watch fails first (its error).
    ccxt makes its websocket clients inside the watch call, so their absence is polled briefly."""
    while True:
        opened = [c.connected for c in list(client.clients.values()) if c.connected is not None]
        if any(f.done() and not f.cancelled() and f.exception() is None for f in opened):
            return
        if pending.done():
            pending.result()  # raises the stream's error; an early update means it is connected
            return
        waiting = [asyncio.ensure_future(asyncio.shield(f)) for f in opened if not f.done()]
        timeout = None if waiting else CLIENT_POLL_S
        await asyncio.wait([pending, *waiting], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for extra in waiting:
            extra.cancel()


def start_loop(name: str) -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    """A new event loop running forever on a daemon thread named `name` (a hub's watchers run there)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=name, daemon=True)
    thread.start()
    return loop, thread


def end_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread, timeout: float) -> None:
    """Stop the loop and wait for its thread; the loop is closed once the thread has ended."""
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout)
    if not thread.is_alive():
        loop.close()


def end_task(loop: asyncio.AbstractEventLoop, task: asyncio.Task[None], timeout: float) -> bool:
    """Cancel a watcher's task and wait for the task itself to end (its stream closed), not just for
    the cancel to be asked; False when it had not ended within `timeout`."""
    try:
        asyncio.run_coroutine_threadsafe(_cancel(task), loop).result(timeout)
    except TimeoutError:
        return False
    return True


async def _spawn(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    return asyncio.ensure_future(coroutine)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.wait([task])  # cancelled (the normal end) or failed: it is gone either way


async def _close(client: Any) -> None:
    try:
        await client.close()
    except Exception as exc:  # closing a broken stream may fail too; nothing is left to do
        log.debug("push: closing a stream failed: %s", type(exc).__name__)

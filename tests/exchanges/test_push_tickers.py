"""Emulated targets follow ccxt.pro's ticker stream: a live binance account in STOP_RESTS mode (the
venue told it has no OCO lists, as tests/blocks/test_oco_blocks.py does for that mode) whose targets
the engine takes itself, its ticker watcher on a local server speaking Binance's public ticker stream
(tests/helpers/binance_ticker_stream.py), ccxt.pro's real binance `watch_tickers` parsing it.

No sync tick runs here: the entry's fill is synced by hand (what the tick or the order stream does),
and the exit after a crossed target is what the pushed price made the engine do. The watcher's
callback is what the scheduler wires: `blocks.api.sync_account` for the crossed blocks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import pytest

from db.enums import EntryType, ProtectionMode, Side, TradeStatus
from engine.blocks.api import cancel_block, submit_block, sync_account, sync_tick
from engine.exchanges.api import (
    TICKER_OVERRIDES,
    Backoff,
    TickerHub,
    WatchedTarget,
    crossed,
    pushed_price,
    start_tickers,
    stop_push,
    streams_tickers,
    watchlist,
)
from engine.exchanges.push_tickers import Watchlist, last_prices
from engine.runtime import Runtime
from tests.helpers.push_desk import Desk, wait_for
from tests.helpers.trading import block_of, orders_of, request, trades_of

D = Decimal
SYMBOL = "LTC/USDT"
TICK_S = 5.0  # engine.scheduler.SYNC_EVERY_S: a pushed price must beat the tick by far
FAST = Backoff(initial=0.05, cap=0.2)


def target_sync(runtime: Runtime) -> Callable[[int, frozenset[int]], None]:
    def sync(account_id: int, blocks: frozenset[int]) -> None:
        sync_account(runtime, account_id, blocks=set(blocks))

    return sync


def open_trade(desk: Desk, target: str = "105") -> int:
    """A block whose entry rests at 99, then fills (synced as the tick would); its stop rests."""
    req = request(entry="99", stop="95", targets=(target,), size="1", entry_type=EntryType.LIMIT, symbol=SYMBOL)
    block_id = submit_block(desk.runtime, desk.user_id, desk.account_id, req)
    assert block_of(desk.runtime.sessions, block_id).protection_mode is ProtectionMode.STOP_RESTS
    desk.move_price("99")
    sync_account(desk.runtime, desk.account_id)
    (trade,) = trades_of(desk.runtime.sessions, block_id)
    assert trade.status is TradeStatus.OPEN
    return block_id


def market_exits(desk: Desk) -> list[dict[str, object]]:
    return [o for o in desk.sim.orders.values() if o["type"] == "MARKET" and o["side"] == "SELL"]


def watched_blocks(hub: TickerHub) -> set[int]:
    return {t.block_id for targets in hub.targets.values() for t in targets}


def final_state(desk: Desk, block_id: int) -> list[tuple[object, ...]]:
    sessions = desk.runtime.sessions
    orders = [(o.role, o.type, o.status, o.filled, o.average) for o in orders_of(sessions, block_id)]
    trades = [(t.status, t.close_reason, t.exit_average, t.realized_pnl) for t in trades_of(sessions, block_id)]
    return sorted(orders, key=str) + trades


# --- the pure parts ---


def test_crossed_names_each_account_s_blocks_whose_target_the_price_reaches() -> None:
    targets = [
        WatchedTarget(1, 10, Side.LONG, D(105)),
        WatchedTarget(1, 11, Side.LONG, D(110)),
        WatchedTarget(2, 20, Side.SHORT, D(106)),
        WatchedTarget(2, 21, Side.SHORT, D(104)),
    ]
    assert crossed(targets, D(104)) == {2: frozenset({20, 21})}
    assert crossed(targets, D(105)) == {1: frozenset({10}), 2: frozenset({20})}
    assert crossed(targets, D(110)) == {1: frozenset({10, 11})}
    assert crossed((), D(1)) == {}


def test_last_prices_reads_one_ticker_or_a_dict_of_them_exactly() -> None:
    one = {"symbol": "LTC/USDT", "last": 105.1}
    assert last_prices(one) == {"LTC/USDT": D("105.1")}
    many = {"LTC/USDT": one, "BTC/USDT": {"symbol": "BTC/USDT", "last": None}}
    assert last_prices(many) == {"LTC/USDT": D("105.1")}


def test_binance_streams_tickers_by_ccxt_pro_has_and_the_table_overrides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert streams_tickers("binance")
    assert not streams_tickers("no-such-exchange")
    assert not streams_tickers("alpaca")  # its ticker stream wants an account's keys
    streams_tickers.cache_clear()
    monkeypatch.setitem(TICKER_OVERRIDES, "binance", False)
    try:
        assert not streams_tickers("binance")
    finally:
        streams_tickers.cache_clear()


def test_a_pushed_price_serves_the_sync_only_while_fresh(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.trading.pushed_prices[("binance", SYMBOL)] = (time.monotonic(), D(105))
    assert pushed_price(runtime, "binance", SYMBOL) == D(105)
    later = time.monotonic() + 3
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert pushed_price(runtime, "binance", SYMBOL) is None
    assert pushed_price(runtime, "binance", "BTC/USDT") is None


# --- against the simulated venue and its streams ---


def test_the_watchlist_follows_blocks_opening_and_closing(desks: Callable[..., Desk]) -> None:
    desk = desks("alice", oco=False)
    assert watchlist(desk.runtime).symbols == {}
    req = request(entry="99", stop="95", targets=("105",), size="1", entry_type=EntryType.LIMIT, symbol=SYMBOL)
    pending = submit_block(desk.runtime, desk.user_id, desk.account_id, req)
    listed = watchlist(desk.runtime)
    assert listed.symbols == {"binance": frozenset({SYMBOL})}  # streamed already: up when the entry fills
    assert listed.targets == {}  # no position yet, no target to take
    hub = start_tickers(desk.runtime, target_sync(desk.runtime), FAST, linger_s=0)
    assert hub.watched() == {"binance": frozenset({SYMBOL})}
    wait_for(lambda: desk.tickers.streams() == {"ltcusdt@miniTicker"})

    desk.move_price("99")
    sync_account(desk.runtime, desk.account_id)  # the entry filled: the trade's target is watched soon
    wait_for(lambda: watched_blocks(hub) == {pending})
    (target,) = hub.targets[("binance", SYMBOL)]
    assert (target.account_id, target.side, target.target) == (desk.account_id, Side.LONG, D(105))

    cancel_block(desk.runtime, desk.user_id, pending, close_positions=True)  # closes at market
    sync_account(desk.runtime, desk.account_id)
    wait_for(lambda: hub.watched() == {} and watched_blocks(hub) == set())  # closed: nothing to stream
    wait_for(lambda: desk.tickers.streams() == set())


def test_an_oco_list_resting_takes_the_target_itself(desks: Callable[..., Desk]) -> None:
    desk = desks("alice", oco=True)
    req = request(entry="99", stop="95", targets=("105",), size="1", entry_type=EntryType.LIMIT, symbol=SYMBOL)
    block_id = submit_block(desk.runtime, desk.user_id, desk.account_id, req)
    assert block_of(desk.runtime.sessions, block_id).protection_mode is ProtectionMode.NATIVE_OCO
    desk.move_price("99")
    sync_account(desk.runtime, desk.account_id)  # the list rests
    listed = watchlist(desk.runtime)
    assert listed.symbols == {"binance": frozenset({SYMBOL})}
    assert listed.targets == {}  # its limit leg takes the profit on the venue


def test_a_target_crossed_on_the_stream_exits_well_before_the_next_tick(desks: Callable[..., Desk]) -> None:
    desk = desks("alice", oco=False)
    block_id = open_trade(desk)
    hub = start_tickers(desk.runtime, target_sync(desk.runtime), FAST)
    wait_for(lambda: desk.tickers.streams() and watched_blocks(hub) == {block_id})
    requests = len(desk.sim.requests)

    began = time.monotonic()
    desk.move_price("105")  # no order event: a price on the ticker stream
    wait_for(lambda: market_exits(desk))
    latency = time.monotonic() - began
    assert latency < TICK_S / 2, latency  # no tick runs here; the bound leaves room for a loaded machine
    wait_for(lambda: trades_of(desk.runtime.sessions, block_id)[0].status is TradeStatus.CLOSED)
    (trade,) = trades_of(desk.runtime.sessions, block_id)
    assert trade.exit_average == D(105)
    tickers = [r for r in desk.sim.requests[requests:] if "/ticker/" in r.url]
    assert tickers == []  # the sync decided on the pushed price, no ticker request
    wait_for(lambda: watched_blocks(hub) == set())


def test_a_killed_stream_reconnects_and_still_exits(desks: Callable[..., Desk]) -> None:
    desk = desks("alice", oco=False)
    block_id = open_trade(desk)
    hub = start_tickers(desk.runtime, target_sync(desk.runtime), FAST)
    wait_for(lambda: desk.tickers.streams() and watched_blocks(hub) == {block_id})
    state = hub.state["binance"]
    wait_for(lambda: state.connects == 1)

    desk.tickers.drop()  # the stream dies; the crossing's first price is sent to no one
    desk.move_price("105")
    latency = wait_for(lambda: market_exits(desk))
    assert latency < TICK_S / 2, latency  # reconnected (backoff), and the stream's next price crossed
    assert state.connects == 2
    assert state.last_error
    wait_for(lambda: trades_of(desk.runtime.sessions, block_id)[0].status is TradeStatus.CLOSED)


def test_the_tick_is_the_safety_net_while_no_stream_is_up(desks: Callable[..., Desk]) -> None:
    desk = desks("alice", oco=False)
    block_id = open_trade(desk)  # no ticker hub at all
    desk.move_price("105")
    sync_tick(desk.runtime)
    sync_tick(desk.runtime)
    (trade,) = trades_of(desk.runtime.sessions, block_id)
    assert (trade.status, trade.exit_average) == (TradeStatus.CLOSED, D(105))


def test_push_and_poll_end_in_the_same_state(runtime: Runtime, desks: Callable[..., Desk]) -> None:
    pushed = desks("alice", oco=False)
    pushed_block = open_trade(pushed)
    hub = start_tickers(runtime, target_sync(runtime), FAST)
    wait_for(lambda: pushed.tickers.streams() and watched_blocks(hub) == {pushed_block})
    pushed.move_price("105")
    wait_for(lambda: trades_of(runtime.sessions, pushed_block)[0].status is TradeStatus.CLOSED)
    stop_push(runtime)

    polled = desks("bob", oco=False)
    polled_block = open_trade(polled)
    polled.move_price("105")
    sync_account(runtime, polled.account_id)  # what the tick does: the REST ticker, then the same rules
    sync_account(runtime, polled.account_id)
    assert final_state(pushed, pushed_block) == final_state(polled, polled_block)
    report = sync_tick(runtime)  # the safety net finds nothing either path missed
    assert (report.orders_updated, report.orders_placed, report.fills_recorded, report.errors) == (0, 0, 0, [])


def test_a_symbol_no_longer_wanted_lingers_before_its_stream_restarts() -> None:
    from engine.exchanges.push_tickers import TickerState

    hub = TickerHub(lambda _a, _b: None, no_watchlist, lambda _e: None, lambda _e, _s, _p: None, linger_s=60)
    hub.state["binance"] = TickerState("binance", frozenset({"LTC/USDT", "BTC/USDT"}))
    wanted = {"binance": frozenset({"BTC/USDT"})}
    assert hub._lingering(wanted, now=1000.0) == {"binance": frozenset({"LTC/USDT", "BTC/USDT"})}
    assert hub._lingering(wanted, now=1059.0) == {"binance": frozenset({"LTC/USDT", "BTC/USDT"})}
    assert hub._lingering(wanted, now=1060.0) == {"binance": frozenset({"BTC/USDT"})}
    assert hub._lingering({}, now=1061.0) == {"binance": frozenset({"LTC/USDT", "BTC/USDT"})}  # still streamed
    hub.state["binance"] = TickerState("binance", frozenset({"BTC/USDT"}))
    assert hub._lingering({"binance": frozenset({"ETH/USDT"})}, now=1062.0) == {
        "binance": frozenset({"BTC/USDT", "ETH/USDT"})  # a new symbol: the restart streams both
    }
    hub.workers.shutdown()


def no_watchlist() -> Watchlist:
    return Watchlist()


def test_the_engine_syncs_crossed_blocks_only_while_it_is_not_deposed(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine import scheduler
    from engine.blocks.api import SyncReport
    from engine.runtime import EngineRun

    synced: list[tuple[int, set[int] | None]] = []

    def sync_account(_runtime: Runtime, account_id: int, blocks: set[int] | None = None) -> SyncReport:
        synced.append((account_id, blocks))
        return SyncReport()

    monkeypatch.setattr(scheduler.blocks, "sync_account", sync_account)
    run = EngineRun(scheduler=None, lock=None, epoch=1)
    scheduler._target_sync(runtime, run, 7, frozenset({3, 4}))
    run.deposed.set()
    scheduler._target_sync(runtime, run, 8, frozenset({5}))
    assert synced == [(7, {3, 4})]


def test_one_watch_tickers_per_market_type_else_one_watch_ticker_per_symbol() -> None:
    from engine.exchanges.push_tickers import _calls

    class Client:
        def __init__(self, batched: bool) -> None:
            self.has = {"watchTickers": batched}
            self.markets = {
                "BTC/USDT": {"type": "spot"},
                "LTC/USDT": {"type": "spot"},
                "BTC/USDT:USDT": {"type": "swap"},
            }
            self.asked: list[object] = []

        def watch_tickers(self, symbols: list[str]) -> None:
            self.asked.append(tuple(symbols))

        def watch_ticker(self, symbol: str) -> None:
            self.asked.append(symbol)

    symbols = ["BTC/USDT", "BTC/USDT:USDT", "LTC/USDT"]
    batched, single = Client(True), Client(False)
    for client in (batched, single):
        for call in _calls(client, symbols):
            call()
    assert batched.asked == [("BTC/USDT", "LTC/USDT"), ("BTC/USDT:USDT",)]
    assert single.asked == symbols

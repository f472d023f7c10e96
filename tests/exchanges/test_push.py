"""Push updates through ccxt.pro: a live binance account's watcher on a local user-data stream.

The account, its venue and its simulated exchange are as in tests/blocks/test_ccxt_blocks.py (a real
CcxtTradingVenue over ccxt's binance, tests/helpers/binance_spot_sim.py as its HTTP layer); ccxt.pro's
real binance `watch_orders` streams from tests/helpers/binance_user_stream.py. No sync tick runs
here: whatever the engine does after a fill, the push made it do. The watcher's callback is what the
scheduler wires: `blocks.api.sync_account`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from db.enums import EntryType, OrderRole, OrderStatus, TradeStatus
from db.models import ExchangeAccount
from engine.blocks.api import submit_block, sync_account, sync_tick
from engine.exchanges.api import PUSH_OVERRIDES, Backoff, PushHub, pushes, refresh_push, start_push
from engine.runtime import Runtime
from engine.users.api import set_live_enabled
from tests.helpers.push_desk import FAKE_KEY, FAKE_SECRET, Desk, wait_for
from tests.helpers.trading import orders_of, request, trades_of

D = Decimal
SYMBOL = "LTC/USDT"
TICK_S = 5.0  # engine.scheduler.SYNC_EVERY_S: a push must beat the tick by far
FAST = Backoff(initial=0.05, cap=0.2)


def push_to_engine(runtime: Runtime) -> PushHub:
    """The hub as the scheduler starts it: each update syncs its account through blocks.api."""
    return start_push(runtime, engine_sync(runtime), FAST)


def limit_block(desk: Desk) -> int:
    req = request(entry="99", stop="95", targets=("105",), size="1", entry_type=EntryType.LIMIT, symbol=SYMBOL)
    return submit_block(desk.runtime, desk.user_id, desk.account_id, req)


def resting_stops(desk: Desk) -> list[str]:
    return [o["clientOrderId"] for o in desk.sim.open_orders() if o["type"] == "STOP_LOSS_LIMIT"]


def final_state(desk: Desk, block_id: int) -> list[tuple[object, ...]]:
    sessions = desk.runtime.sessions
    orders = [(o.role, o.status, o.filled, o.average) for o in orders_of(sessions, block_id)]
    trades = [(t.status, t.entry_filled, t.entry_average, t.realized_pnl) for t in trades_of(sessions, block_id)]
    return sorted(orders, key=str) + trades


def test_binance_pushes_by_ccxt_pro_has_and_the_table_overrides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pushes("binance")
    assert not pushes("no-such-exchange")
    pushes.cache_clear()
    monkeypatch.setitem(PUSH_OVERRIDES, "binance", False)
    try:
        assert not pushes("binance")
    finally:
        pushes.cache_clear()


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [Backoff(initial=0.5, cap=3).delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_pushed_fill_is_protected_well_before_the_next_tick(desks: Callable[[str], Desk]) -> None:
    desk = desks("alice")
    block_id = limit_block(desk)  # the entry rests at 99
    hub = push_to_engine(desk.runtime)
    assert hub.watched() == {desk.account_id}
    wait_for(lambda: hub.state[desk.account_id].syncs >= 1)  # connected; the gap reconcile ran
    assert resting_stops(desk) == []

    desk.stream.move_price("99")  # the entry fills on the exchange; the stream tells
    latency = wait_for(lambda: resting_stops(desk) == [f"tb{block_id}-0-sl-1"])
    assert latency < TICK_S / 2, latency  # no tick runs here; the bound leaves room for a loaded machine
    assert hub.state[desk.account_id].updates >= 1
    entry = next(o for o in orders_of(desk.runtime.sessions, block_id) if o.role is OrderRole.ENTRY)
    assert (entry.status, entry.filled) == (OrderStatus.FILLED, D(1))
    assert any(e["x"] == "TRADE" and e["c"] == entry.client_order_id for e in desk.stream.sent)
    assert desk.stream.subscriptions == 1
    assert FAKE_SECRET not in repr(hub.state)


def test_an_account_switched_off_is_no_longer_watched(desks: Callable[[str], Desk]) -> None:
    desk = desks("alice")
    hub = push_to_engine(desk.runtime)
    assert hub.watched() == {desk.account_id}
    set_live_enabled(desk.runtime, desk.user_id, desk.account_id, False)
    refresh_push(desk.runtime)
    assert hub.watched() == set()


def test_a_stream_killed_mid_fill_reconnects_and_the_reconcile_finds_the_fill(
    desks: Callable[[str], Desk],
) -> None:
    desk = desks("alice")
    block_id = limit_block(desk)
    hub = push_to_engine(desk.runtime)
    state = hub.state[desk.account_id]
    wait_for(lambda: state.syncs >= 1)

    desk.stream.drop_before_next_event()
    desk.stream.move_price("99")  # filled on the exchange; the connection dies before the event is sent
    wait_for(lambda: resting_stops(desk) == [f"tb{block_id}-0-sl-1"])
    assert desk.stream.drops == 1
    assert state.connects == 2  # reconnected, and the gap's full reconcile found the fill
    assert state.last_error  # the lost stream, recorded
    assert FAKE_KEY not in state.last_error
    assert FAKE_SECRET not in state.last_error
    entry = next(o for o in orders_of(desk.runtime.sessions, block_id) if o.role is OrderRole.ENTRY)
    assert not any(e["c"] == entry.client_order_id and e["x"] == "TRADE" for e in desk.stream.sent)
    assert (entry.status, entry.filled) == (OrderStatus.FILLED, D(1))


def test_push_and_poll_end_in_the_same_state(runtime: Runtime, desks: Callable[[str], Desk]) -> None:
    pushed, polled = desks("alice"), desks("bob")
    blocks = {desk.account_id: limit_block(desk) for desk in (pushed, polled)}
    hub = PushHub(engine_sync(runtime), FAST)
    hub.start()
    try:
        hub.watch(pushed.account_id, "binance", push_client(runtime, pushed))
        wait_for(lambda: hub.state[pushed.account_id].syncs >= 1)
        for desk in (pushed, polled):
            desk.stream.move_price("99")  # the entries fill
        sync_account(runtime, polled.account_id)  # what the tick does for the polled account
        wait_for(lambda: len(resting_stops(pushed)) == 1)
        for desk in (pushed, polled):
            desk.stream.move_price("105")  # the target is crossed: a price, no order event
            sync_account(runtime, desk.account_id)  # spot targets are watched in the ticker, by the tick
    finally:
        hub.stop()
    assert final_state(pushed, blocks[pushed.account_id]) == final_state(polled, blocks[polled.account_id])
    (trade,) = trades_of(runtime.sessions, blocks[pushed.account_id])
    assert (trade.status, trade.exit_average) == (TradeStatus.CLOSED, D(105))  # filled, protected, taken
    report = sync_tick(runtime)  # the safety net finds nothing the push missed
    assert (report.orders_updated, report.orders_placed, report.fills_recorded, report.errors) == (0, 0, 0, [])


def engine_sync(runtime: Runtime) -> Callable[[int, bool], None]:
    def sync(account_id: int, _gap: bool) -> None:
        sync_account(runtime, account_id)

    return sync


def push_client(runtime: Runtime, desk: Desk) -> Callable[[], object]:
    from engine.exchanges.push_accounts import pro_client
    from engine.exchanges.venues import credentials

    with runtime.sessions() as s:
        config = credentials(runtime, s.get(ExchangeAccount, desk.account_id))
    return lambda: pro_client(runtime, desk.account_id, "binance", config)


def test_the_engine_syncs_a_pushed_account_only_while_it_is_not_deposed(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine import scheduler
    from engine.blocks.api import SyncReport
    from engine.runtime import EngineRun

    synced: list[int] = []

    def sync_account(_runtime: Runtime, account_id: int) -> SyncReport:
        synced.append(account_id)
        return SyncReport()

    monkeypatch.setattr(scheduler.blocks, "sync_account", sync_account)
    run = EngineRun(scheduler=None, lock=None, epoch=1)
    scheduler._push_sync(runtime, run, 7, gap=True)
    run.deposed.set()
    scheduler._push_sync(runtime, run, 8, gap=False)
    assert synced == [7]

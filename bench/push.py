"""Bench: an entry filled on a live binance account -> its stop resting on the venue, p95, with push
(the account's ccxt.pro watcher on a local user-data stream syncs the account on the fill's event)
against poll only (the sync tick every SYNC_EVERY_S, the fill at a random moment between two ticks).
The venue is the Binance spot simulator of the tests, at ccxt's HTTP layer; the stream speaks
Binance's WebSocket API user-data stream, parsed by ccxt.pro's own binance code. The last line is
poll / push (p95).

    .venv/bin/python -m bench.push [--quick]      (--quick: fewer runs, under a minute)
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import func, select

from bench._common import database_label, parse_args, print_ratio, scratch_engine
from db.enums import LIVE_BLOCKS, EntryType, Side, SizeMode
from db.models import Block
from db.session import make_session_factory
from engine.blocks.api import BlockRequest, TargetSpec, submit_block, sync_account, sync_tick
from engine.config import load_settings
from engine.exchanges.api import start_push, stop_push
from engine.market.api import sync_markets
from engine.runtime import Runtime
from engine.scheduler import SYNC_EVERY_S
from tests.helpers.push_desk import Desk, live_desk, wait_for

TARGET_P95_S = 1.0
SYMBOL = "LTC/USDT"


def _request() -> BlockRequest:
    return BlockRequest(
        symbol=SYMBOL,
        side=Side.LONG,
        entry_type=EntryType.LIMIT,
        entry_price=Decimal("99"),
        stop_price=Decimal("95"),
        targets=(TargetSpec(Decimal("150")),),
        size_mode=SizeMode.BASE,
        size_value=Decimal("0.1"),
    )


def _stops(desk: Desk) -> int:
    return sum(1 for o in desk.sim.open_orders() if o["type"] == "STOP_LOSS_LIMIT")


def one_fill(desk: Desk, before_fill: Callable[[], None] = lambda: None) -> float:
    """Seconds from the entry's fill on the venue to its stop resting there. With push, the fill
    comes once the watcher is idle (the syncs of the entry's own placement done)."""
    desk.stream.move_price("100")
    submit_block(desk.runtime, desk.user_id, desk.account_id, _request())  # the entry rests at 99
    stops = _stops(desk)
    assert stops == 0
    hub = desk.runtime.push
    if hub is not None:
        wait_for(lambda: not hub.state[desk.account_id].syncing)
    before_fill()
    began = time.perf_counter()
    desk.stream.move_price("99")
    wait_for(lambda: _stops(desk) > stops, timeout=3 * SYNC_EVERY_S)
    elapsed = time.perf_counter() - began
    desk.stream.move_price("95")  # the stop fills: the block ends, the account holds one block at a time
    sync_account(desk.runtime, desk.account_id)  # not timed: no need to wait for a tick
    wait_for(lambda: _stops(desk) == 0 and not _live(desk), timeout=3 * SYNC_EVERY_S)
    return elapsed


def _live(desk: Desk) -> bool:
    with desk.runtime.sessions() as s:
        return bool(s.scalar(select(func.count()).select_from(Block).where(Block.status.in_(LIVE_BLOCKS))))


def _tick_loop(runtime: Runtime, stopping: threading.Event) -> None:
    """The engine's sync tick, as the scheduler runs it."""
    while not stopping.wait(SYNC_EVERY_S):
        sync_tick(runtime)


def _p50_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    args = parse_args(__doc__ or "")
    push_runs, poll_runs = (15, 4) if args.quick else (60, 20)
    rng = random.Random(7)
    with scratch_engine() as engine:
        print(f"database: {database_label(engine)}; sync tick every {SYNC_EVERY_S} s")
        settings = load_settings({"TRADEBLOCK_INSTANCE_DIR": tempfile.mkdtemp(), "SECRET_KEY": "bench-secret-key-123"})
        runtime = Runtime(settings, engine, make_session_factory(engine))
        desk = live_desk(runtime, "bench", usdt="1000000")
        sync_markets(runtime.sessions, runtime.sources["binance"])
        try:
            start_push(runtime, lambda account_id, _gap: _sync(runtime, account_id))
            one_fill(desk)  # warm-up: connection, first syncs
            pushed = [one_fill(desk) for _ in range(push_runs)]
            stop_push(runtime)
            stopping = threading.Event()
            ticker = threading.Thread(target=_tick_loop, args=(runtime, stopping), daemon=True)
            ticker.start()
            polled = [one_fill(desk, lambda: time.sleep(rng.uniform(0, SYNC_EVERY_S))) for _ in range(poll_runs)]
            stopping.set()
            ticker.join()
        finally:
            stop_push(runtime)
            desk.stop()
        push_p50, push_p95 = _p50_p95(pushed)
        poll_p50, poll_p95 = _p50_p95(polled)
        print(f"push (fill -> stop resting): p50 {push_p50 * 1000:.0f} ms, p95 {push_p95 * 1000:.0f} ms")
        print(f"baseline, poll only: p50 {poll_p50 * 1000:.0f} ms, p95 {poll_p95 * 1000:.0f} ms")
        met = push_p95 <= TARGET_P95_S
        print(f"target {'met' if met else 'MISSED'}: p95 <= {TARGET_P95_S * 1000:.0f} ms")
        print_ratio(poll_p95, push_p95)
    return 0


def _sync(runtime: Runtime, account_id: int) -> None:
    sync_account(runtime, account_id)


if __name__ == "__main__":
    sys.exit(main())

"""Bench: an emulated target crossed on a live binance account -> its market exit received by the
venue, p95, with watchTicker (the ticker hub streams the symbol from a local server speaking
Binance's public ticker stream and syncs the crossed block on the pushed price) against poll only
(the sync tick every SYNC_EVERY_S, its REST ticker, the crossing at a random moment between two
ticks). The account is in STOP_RESTS mode (its venue told it has no OCO lists): the stop rests, the
engine takes the profit. The venue is the Binance spot simulator of the tests, at ccxt's HTTP layer.
The last line is poll / push (p95).

    .venv/bin/python -m bench.push_ticker [--quick]      (--quick: fewer runs, under a minute)
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
from engine.exchanges.api import start_tickers, stop_push
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
        targets=(TargetSpec(Decimal("105")),),
        size_mode=SizeMode.BASE,
        size_value=Decimal("0.1"),
    )


def _exits(desk: Desk) -> int:
    return sum(1 for o in desk.sim.orders.values() if o["type"] == "MARKET" and o["side"] == "SELL")


def _watched(desk: Desk, block_id: int) -> bool:
    hub = desk.runtime.tickers
    return hub is not None and any(t.block_id == block_id for ts in hub.targets.values() for t in ts)


def one_crossing(desk: Desk, before_cross: Callable[[], None] = lambda: None) -> float:
    """Seconds from the target's crossing on the venue to the exit order reaching it. The entry
    fills and its stop rests first (synced here, not timed); with push, the crossing comes once the
    hub watches the trade's target."""
    desk.move_price("100")
    block_id = submit_block(desk.runtime, desk.user_id, desk.account_id, _request())
    desk.move_price("99")  # the entry fills
    sync_account(desk.runtime, desk.account_id)
    if desk.runtime.tickers is not None:
        wait_for(lambda: _watched(desk, block_id))
    exits = _exits(desk)
    before_cross()
    began = time.perf_counter()
    desk.move_price("105")
    wait_for(lambda: _exits(desk) > exits, timeout=3 * SYNC_EVERY_S)
    elapsed = time.perf_counter() - began
    wait_for(lambda: not _live(desk), timeout=3 * SYNC_EVERY_S)  # the exit's fill settles the block
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
        desk = live_desk(runtime, "bench", usdt="1000000", oco=False)
        sync_markets(runtime.sessions, runtime.sources["binance"])
        stopping = threading.Event()
        ticker = threading.Thread(target=_tick_loop, args=(runtime, stopping), daemon=True)
        try:
            start_tickers(runtime, lambda account_id, ids: _sync(runtime, account_id, ids))
            one_crossing(desk)  # warm-up: connection, first syncs
            pushed = [one_crossing(desk) for _ in range(push_runs)]
            stop_push(runtime)
            ticker.start()
            polled = [one_crossing(desk, lambda: time.sleep(rng.uniform(0, SYNC_EVERY_S))) for _ in range(poll_runs)]
        finally:
            stopping.set()
            if ticker.is_alive():
                ticker.join()
            stop_push(runtime)
            desk.stop()
        push_p50, push_p95 = _p50_p95(pushed)
        poll_p50, poll_p95 = _p50_p95(polled)
        print(f"watchTicker (target crossed -> exit sent): p50 {push_p50 * 1000:.0f} ms, p95 {push_p95 * 1000:.0f} ms")
        print(f"baseline, poll only: p50 {poll_p50 * 1000:.0f} ms, p95 {poll_p95 * 1000:.0f} ms")
        met = push_p95 <= TARGET_P95_S
        print(f"target {'met' if met else 'MISSED'}: p95 <= {TARGET_P95_S * 1000:.0f} ms")
        print_ratio(poll_p95, push_p95)
    return 0


def _sync(runtime: Runtime, account_id: int, block_ids: frozenset[int]) -> None:
    sync_account(runtime, account_id, blocks=set(block_ids))


if __name__ == "__main__":
    sys.exit(main())

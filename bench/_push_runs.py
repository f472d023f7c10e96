"""What bench/push.py and bench/push_ticker.py share: a live binance desk on a scratch database, the
resting limit long each run places, and the push-against-poll runs with their report (the runs timed
with the stream on, then with the sync tick alone, each event at a random moment between ticks)."""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import func, select

from bench._common import database_label, p50_p95, print_ratio, scratch_engine
from db.enums import LIVE_BLOCKS, EntryType, Side, SizeMode
from db.models import Block
from db.session import make_session_factory
from engine.blocks.api import BlockRequest, TargetSpec, sync_tick
from engine.config import load_settings
from engine.exchanges.api import stop_push
from engine.market.api import sync_markets
from engine.runtime import Runtime
from engine.scheduler import SYNC_EVERY_S
from tests.helpers.push_desk import Desk, live_desk

TARGET_P95_S = 1.0
SYMBOL = "LTC/USDT"

One = Callable[[Desk, Callable[[], None]], float]  # one timed run: (desk, what to do just before the event)


def limit_long(target: str) -> BlockRequest:
    """The block every run places: 0.1 LTC long resting at 99, stop 95, one target."""
    return BlockRequest(
        symbol=SYMBOL,
        side=Side.LONG,
        entry_type=EntryType.LIMIT,
        entry_price=Decimal("99"),
        stop_price=Decimal("95"),
        targets=(TargetSpec(Decimal(target)),),
        size_mode=SizeMode.BASE,
        size_value=Decimal("0.1"),
    )


def any_live(desk: Desk) -> bool:
    with desk.runtime.sessions() as s:
        return bool(s.scalar(select(func.count()).select_from(Block).where(Block.status.in_(LIVE_BLOCKS))))


@contextmanager
def bench_desk(oco: bool = True) -> Iterator[Desk]:
    """A live binance desk (its simulator, its streams) on a scratch database, stopped at the end."""
    with scratch_engine() as engine:
        print(f"database: {database_label(engine)}; sync tick every {SYNC_EVERY_S} s")
        settings = load_settings({"TRADEBLOCK_INSTANCE_DIR": tempfile.mkdtemp(), "SECRET_KEY": "bench-secret-key-123"})
        runtime = Runtime(settings, engine, make_session_factory(engine))
        desk = live_desk(runtime, "bench", usdt="1000000", oco=oco)
        sync_markets(runtime.sessions, runtime.sources["binance"])
        try:
            yield desk
        finally:
            stop_push(runtime)
            desk.stop()


def push_against_poll(desk: Desk, one: One, quick: bool) -> tuple[list[float], list[float]]:
    """(pushed, polled) seconds: `one` with the stream the caller started (after a warm-up run), then
    with the stream stopped and the sync tick running as the scheduler runs it."""
    push_runs, poll_runs = (15, 4) if quick else (60, 20)
    rng = random.Random(7)
    one(desk, lambda: None)  # warm-up: connection, first syncs
    pushed = [one(desk, lambda: None) for _ in range(push_runs)]
    stop_push(desk.runtime)
    stopping = threading.Event()
    ticker = threading.Thread(target=_tick_loop, args=(desk.runtime, stopping), daemon=True)
    ticker.start()
    try:
        polled = [one(desk, lambda: time.sleep(rng.uniform(0, SYNC_EVERY_S))) for _ in range(poll_runs)]
    finally:
        stopping.set()
        ticker.join()
    return pushed, polled


def report(label: str, pushed: list[float], polled: list[float]) -> None:
    """The two runs' p50 and p95, the target, and the closing `ratio:` line (poll / push, p95)."""
    push_p50, push_p95 = p50_p95(pushed)
    poll_p50, poll_p95 = p50_p95(polled)
    print(f"{label}: p50 {push_p50 * 1000:.0f} ms, p95 {push_p95 * 1000:.0f} ms")
    print(f"baseline, poll only: p50 {poll_p50 * 1000:.0f} ms, p95 {poll_p95 * 1000:.0f} ms")
    met = push_p95 <= TARGET_P95_S
    print(f"target {'met' if met else 'MISSED'}: p95 <= {TARGET_P95_S * 1000:.0f} ms")
    print_ratio(poll_p95, push_p95)


def _tick_loop(runtime: Runtime, stopping: threading.Event) -> None:
    while not stopping.wait(SYNC_EVERY_S):
        sync_tick(runtime)

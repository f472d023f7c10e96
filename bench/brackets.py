"""Bench: one sync tick over 1,000 active blocks of 4 targets each (4,000 resting stops) on the paper
exchange, against a baseline that polls each order with its own fetch_order request. The tick
reconciles all orders with one batch lookup per account, settles, watches the targets, and must
place nothing (the prices do not move). The last line is baseline / ours.

    .venv/bin/python -m bench.brackets [--quick]      (--quick: 100 blocks)
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal

from sqlalchemy import select

from app import freeze_heap
from bench._common import database_label, parse_args, percentiles, print_ratio, scratch_engine
from bench._desk import SYMBOL, demo_desk
from db.enums import EntryType, OrderStatus, Side, SizeMode
from db.models import Order
from engine.blocks.api import BlockRequest, TargetSpec, submit_block, sync_tick
from engine.runtime import Runtime

TARGET_MS = 200.0
TARGET_RATIO = 10.0
RUNS = 7


def build(engine, blocks: int) -> Runtime:  # type: ignore[no-untyped-def]
    desk = demo_desk(engine)
    runtime, last = desk.runtime, desk.last
    targets = tuple(TargetSpec((last * Decimal(f"1.{20 + i}")).quantize(Decimal("0.01"))) for i in range(4))
    req = BlockRequest(
        symbol=SYMBOL,
        side=Side.LONG,
        entry_type=EntryType.MARKET,
        entry_price=None,
        stop_price=(last * Decimal("0.8")).quantize(Decimal("0.01")),
        targets=targets,
        size_mode=SizeMode.BASE,
        size_value=Decimal("0.004"),
    )
    started = time.perf_counter()
    for _ in range(blocks):
        submit_block(runtime, desk.user_id, desk.account_id, req, drive=False)
    print(f"submitted {blocks} blocks in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    report = sync_tick(runtime)  # sends the market entries (filled at once) and places every stop
    print(f"first tick (entries + {report.orders_placed} orders placed) in {time.perf_counter() - started:.1f} s")
    return runtime


def working(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as s:
        rows = s.execute(select(Order.client_order_id, Order.status).where(Order.status == OrderStatus.ACCEPTED))
        return [(cid, SYMBOL) for cid, _status in rows]


def main() -> int:
    args = parse_args(__doc__ or "")
    blocks = 100 if args.quick else 1_000
    with scratch_engine() as engine:
        print(f"database: {database_label(engine)}; {blocks} blocks x 4 targets")
        runtime = build(engine, blocks)
        freeze_heap()  # as the served app does once started: full collections skip the start's objects
        orders = working(runtime)
        if len(orders) != blocks * 4:
            print(f"expected {blocks * 4} resting stops, found {len(orders)}")
            return 1
        reports = []

        def tick() -> None:
            reports.append(sync_tick(runtime))

        venue = next(iter(runtime.trading.venues.values()))

        def poll_each() -> None:
            for cid, symbol in orders:
                venue.fetch_order(client_order_id=cid, symbol=symbol)

        ours_p50, ours_p95 = percentiles(tick, RUNS)
        for report in reports:
            if report.orders_placed or report.orders_canceled or report.errors or report.orders_checked != len(orders):
                print(f"the tick was not a pure reconciliation: {report}")
                return 1
        base_p50, _ = percentiles(poll_each, 3)
        print(f"sync tick over {len(orders)} orders: p50 {ours_p50 * 1000:.1f} ms, p95 {ours_p95 * 1000:.1f} ms")
        print(f"baseline, one fetch_order per order: p50 {base_p50 * 1000:.1f} ms")
        met = ours_p50 * 1000 < TARGET_MS and base_p50 / ours_p50 >= TARGET_RATIO
        print(
            f"targets {'met' if met else 'MISSED'}: tick < {TARGET_MS:.0f} ms and >= {TARGET_RATIO:.0f}x the baseline"
        )
        print_ratio(base_p50, ours_p50)
    return 0


if __name__ == "__main__":
    sys.exit(main())

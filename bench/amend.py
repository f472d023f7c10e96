"""Bench: a stop move on a live block -> the amended stops resting on the paper exchange, p95, on an
account that also holds other live blocks (each amend reconciles the whole account, as in use).
Baseline: what a desk without amends does, cancel the block (closing its positions at market) and
submit a new one with the new stop, until its stops rest. The last line is baseline / ours (p95).

    .venv/bin/python -m bench.amend [--quick]      (--quick: 20 other blocks, fewer runs)
"""

from __future__ import annotations

import sys
from decimal import Decimal
from itertools import cycle

from sqlalchemy import select

from bench._common import database_label, parse_args, percentiles, print_ratio, scratch_engine
from bench._desk import SYMBOL, demo_desk
from db.enums import EntryType, OrderRole, OrderStatus, Side, SizeMode
from db.models import Order
from engine.blocks.api import BlockAmend, BlockRequest, TargetSpec, amend_block, cancel_block, submit_block, sync_tick
from engine.runtime import Runtime

TARGET_P95_MS = 300.0


def _request(last: Decimal, stop: Decimal) -> BlockRequest:
    targets = tuple(TargetSpec((last * Decimal(f"1.{20 + i}")).quantize(Decimal("0.01"))) for i in range(2))
    return BlockRequest(
        symbol=SYMBOL,
        side=Side.LONG,
        entry_type=EntryType.MARKET,
        entry_price=None,
        stop_price=stop,
        targets=targets,
        size_mode=SizeMode.BASE,
        size_value=Decimal("0.004"),
    )


def build(engine, others: int) -> tuple[Runtime, int, int, Decimal]:  # type: ignore[no-untyped-def]
    """(runtime, user, account, last price) with `others` live blocks placed and protected."""
    desk = demo_desk(engine)
    runtime, last = desk.runtime, desk.last
    for _ in range(others):
        submit_block(runtime, desk.user_id, desk.account_id, _request(last, _stop(last, "0.8")), drive=False)
    sync_tick(runtime)  # entries filled at market, every stop placed
    return runtime, desk.user_id, desk.account_id, last


def _stop(last: Decimal, factor: str) -> Decimal:
    return (last * Decimal(factor)).quantize(Decimal("0.01"))


def resting_stops(runtime: Runtime, block_id: int) -> set[Decimal]:
    with runtime.sessions() as s:
        query = select(Order.stop_price).where(
            Order.block_id == block_id, Order.role == OrderRole.SL, Order.status == OrderStatus.ACCEPTED
        )
        return {p for p in s.scalars(query) if p is not None}


def main() -> int:
    args = parse_args(__doc__ or "")
    others, runs = (20, 15) if args.quick else (200, 40)
    with scratch_engine() as engine:
        print(f"database: {database_label(engine)}; {others} other live blocks on the account")
        runtime, user, account, last = build(engine, others)
        block = submit_block(runtime, user, account, _request(last, _stop(last, "0.8")))
        stops = cycle([_stop(last, "0.85"), _stop(last, "0.9")])
        wrong: list[str] = []

        def move() -> None:
            stop = next(stops)
            amend_block(runtime, user, block, BlockAmend(stop_price=stop))
            if resting_stops(runtime, block) != {stop}:
                wrong.append(f"after the amend to {stop}: {resting_stops(runtime, block)}")

        current = {"block": block}

        def replace() -> None:
            stop = next(stops)
            cancel_block(runtime, user, current["block"], close_positions=True)
            current["block"] = submit_block(runtime, user, account, _request(last, stop))
            if resting_stops(runtime, current["block"]) != {stop}:
                wrong.append(f"after the new block at {stop}: {resting_stops(runtime, current['block'])}")

        ours_p50, ours_p95 = percentiles(move, runs)
        base_p50, base_p95 = percentiles(replace, runs)
        if wrong:
            print("the stops did not rest where asked:", *wrong[:3], sep="\n  ")
            return 1
        print(f"amend (stop move -> stops resting): p50 {ours_p50 * 1000:.1f} ms, p95 {ours_p95 * 1000:.1f} ms")
        print(f"baseline, cancel + new block: p50 {base_p50 * 1000:.1f} ms, p95 {base_p95 * 1000:.1f} ms")
        met = ours_p95 * 1000 <= TARGET_P95_MS
        print(f"target {'met' if met else 'MISSED'}: p95 <= {TARGET_P95_MS:.0f} ms")
        print_ratio(base_p95, ours_p95)
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

import sys
import time
from collections.abc import Callable

from bench._common import parse_args
from bench._push_runs import SYNC_EVERY_S, any_live, bench_desk, limit_long, push_against_poll, report
from engine.blocks.api import submit_block, sync_account
from engine.exchanges.api import start_tickers
from tests.helpers.push_desk import Desk, wait_for


def _exits(desk: Desk) -> int:
    return sum(1 for o in desk.sim.orders.values() if o["type"] == "MARKET" and o["side"] == "SELL")


def _watched(desk: Desk, block_id: int) -> bool:
    hub = desk.runtime.tickers
    return hub is not None and any(t.block_id == block_id for ts in hub.targets.values() for t in ts)


def one_crossing(desk: Desk, before_cross: Callable[[], None]) -> float:
    """Seconds from the target's crossing on the venue to the exit order reaching it. The entry
    fills and its stop rests first (synced here, not timed); with push, the crossing comes once the
    hub watches the trade's target."""
    desk.move_price("100")
    block_id = submit_block(desk.runtime, desk.user_id, desk.account_id, limit_long("105"))
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
    wait_for(lambda: not any_live(desk), timeout=3 * SYNC_EVERY_S)  # the exit's fill settles the block
    return elapsed


def main() -> int:
    args = parse_args(__doc__ or "")
    with bench_desk(oco=False) as desk:
        start_tickers(desk.runtime, lambda account_id, ids: sync_account(desk.runtime, account_id, blocks=set(ids)))
        pushed, polled = push_against_poll(desk, one_crossing, args.quick)
    report("watchTicker (target crossed -> exit sent)", pushed, polled)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Bench: an entry filled on a live binance account -> its stop resting on the venue, p95, with push
(the account's ccxt.pro watcher on a local user-data stream syncs the account on the fill's event)
against poll only (the sync tick every SYNC_EVERY_S, the fill at a random moment between two ticks).
The venue is the Binance spot simulator of the tests, at ccxt's HTTP layer; the stream speaks
Binance's WebSocket API user-data stream, parsed by ccxt.pro's own binance code. The last line is
poll / push (p95).

    .venv/bin/python -m bench.push [--quick]      (--quick: fewer runs, under a minute)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from bench._common import parse_args
from bench._push_runs import SYNC_EVERY_S, any_live, bench_desk, limit_long, push_against_poll, report
from engine.blocks.api import submit_block, sync_account
from engine.exchanges.api import start_push
from tests.helpers.push_desk import Desk, wait_for


def _stops(desk: Desk) -> int:
    return sum(1 for o in desk.sim.open_orders() if o["type"] == "STOP_LOSS_LIMIT")


def one_fill(desk: Desk, before_fill: Callable[[], None]) -> float:
    """Seconds from the entry's fill on the venue to its stop resting there. With push, the fill
    comes once the watcher is idle (the syncs of the entry's own placement done)."""
    desk.stream.move_price("100")
    submit_block(desk.runtime, desk.user_id, desk.account_id, limit_long("150"))  # the entry rests at 99
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
    wait_for(lambda: _stops(desk) == 0 and not any_live(desk), timeout=3 * SYNC_EVERY_S)
    return elapsed


def main() -> int:
    args = parse_args(__doc__ or "")
    with bench_desk() as desk:
        start_push(desk.runtime, lambda account_id, _gap: sync_account(desk.runtime, account_id))
        pushed, polled = push_against_poll(desk, one_fill, args.quick)
    report("push (fill -> stop resting)", pushed, polled)
    return 0


if __name__ == "__main__":
    sys.exit(main())

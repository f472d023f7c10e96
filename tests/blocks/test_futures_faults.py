"""The fault harness on a binance perpetual (tests/helpers/futures_faults.py): a block at 5x
isolated on the futures simulator, its targets and stops resting reduce-only, is crashed at every
commit and around every order-changing venue call (the entry with its leverage and margin mode set
first; target 1 filled and trade 2's stop moved to break-even, canceled and placed again; stops
filled; a short block alike), restarted and recovered: no order is ever posted twice, every open
position rests a stop for what it holds, the venue's position is what the trades hold, and each
crashed run ends as the crash-free one; and the same scripts under random venue errors on every
order call hold the same once the venue calms down.
"""

from __future__ import annotations

from collections import Counter

import pytest

from db.enums import CloseReason, TradeStatus
from engine.runtime import Runtime
from tests.helpers.futures_faults import Step, chaos_run, crash_everywhere

# Market entries fill at 100000; target 1 fills and trade 2's stop moves to break-even; target 2 fills.
TARGET_SCRIPT: list[Step] = [("submit", "long"), ("price", "105500"), ("price", "110500")]
STOP_SCRIPT: list[Step] = [("submit", "long"), ("price", "94500")]  # the submit's boundaries: swept above
SHORT_SCRIPT: list[Step] = [("submit", "short"), ("price", "94500"), ("price", "106000")]  # half the boundaries


@pytest.mark.parametrize("part", [0, 1])  # every other boundary: each test well within the time limit
def test_a_crash_at_any_boundary_of_a_leveraged_block_filled_at_target(runtime: Runtime, part: int) -> None:
    trades, venue_ids, notices = crash_everywhere(runtime, TARGET_SCRIPT, part=part, parts=2)
    assert [(s, r) for s, r, _p in trades] == [(TradeStatus.CLOSED, CloseReason.TARGET)] * 2
    # each order placed once: trade 2's break-even stop is seq 2
    assert venue_ids == ["0-entry-1", "0-sl-1", "0-tp-1", "1-entry-1", "1-sl-1", "1-sl-2", "1-tp-1"]
    assert notices.count("Target filled: BTC/USDT:USDT") == 2


def test_a_crash_at_any_boundary_of_a_leveraged_block_stopped_out(runtime: Runtime) -> None:
    trades, venue_ids, _notices = crash_everywhere(runtime, STOP_SCRIPT, from_step=1)
    assert [(s, r) for s, r, _p in trades] == [(TradeStatus.CLOSED, CloseReason.STOP)] * 2
    assert venue_ids == ["0-entry-1", "0-sl-1", "0-tp-1", "1-entry-1", "1-sl-1", "1-tp-1"]


def test_a_crash_at_any_boundary_of_a_short_block(runtime: Runtime) -> None:
    trades, venue_ids, _notices = crash_everywhere(runtime, SHORT_SCRIPT, part=0, parts=2)
    # trade 2's stop moved to break-even after target 1 and is hit there on the way back up
    assert [r for _s, r, _p in trades] == [CloseReason.TARGET, CloseReason.BREAKEVEN]
    assert venue_ids == ["0-entry-1", "0-sl-1", "0-tp-1", "1-entry-1", "1-sl-1", "1-sl-2", "1-tp-1"]


def test_random_venue_errors_never_post_twice_nor_leave_a_position_unprotected(runtime: Runtime) -> None:
    raised: Counter[str] = Counter()
    for seed in range(6):
        for script in (TARGET_SCRIPT, STOP_SCRIPT, SHORT_SCRIPT):
            raised += chaos_run(runtime, script, seed)
    assert set(raised) >= {"VenueUnavailable", "InsufficientFunds", "InvalidOrder", "OrderNotFound", "lost answer"}

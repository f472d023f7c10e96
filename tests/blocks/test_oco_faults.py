"""The fault harness on OCO lists (tests/helpers/oco_faults.py): a block resting its targets as OCO
lists on the binance spot simulator is crashed at every commit and around every order-changing venue
call (lists placed; a target filled and the other list canceled and replaced at break-even, the way
every move and resize replaces a list; stops filled), restarted and recovered: no order or list is
ever posted twice, every open position rests one list whose stop is for what it holds, and each
crashed run ends as the crash-free one; and the same scripts under random venue errors on every
order and list call hold the same once the venue calms down. SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter

import pytest

from db.enums import CloseReason, TradeStatus
from engine.blocks.amend_plan import BlockAmend
from engine.runtime import Runtime
from tests.helpers.oco_faults import Step, chaos_run, crash_everywhere
from tests.helpers.trading import D

# Market entries fill at 100 and rest one list each; target 1 fills on the venue and trade 2's list
# moves to break-even (canceled, replaced); target 2 fills.
TARGET_SCRIPT: list[Step] = [("submit",), ("price", "105.5"), ("price", "110.5")]
STOP_SCRIPT: list[Step] = [("submit",), ("price", "94.5")]  # the submit's boundaries: swept above
# A stop move replaces both lists in one amend; then both stop out at the new stop.
MOVE_SCRIPT: list[Step] = [
    ("submit",),
    ("amend", BlockAmend(stop_price=D("97")), lambda trades: all(t.stop_price == D("97") for t in trades)),
    ("price", "96.5"),
]


@pytest.mark.parametrize("part", [0, 1])  # every other boundary: each test well within the time limit
def test_a_crash_at_any_boundary_of_lists_placed_moved_and_filled_at_target(runtime: Runtime, part: int) -> None:
    trades, venue_ids, notices = crash_everywhere(runtime, TARGET_SCRIPT, part=part, parts=2)
    assert [(s, r) for s, r, _p in trades] == [(TradeStatus.CLOSED, CloseReason.TARGET)] * 2
    # each list placed once per version: trade 2's break-even list is seq 2
    assert venue_ids == ["0-entry-1", "0-sl-1", "0-tp-1", "1-entry-1", "1-sl-1", "1-sl-2", "1-tp-1", "1-tp-2"]
    assert notices.count("Target filled: LTC/USDT") == 2


def test_a_crash_at_any_boundary_of_lists_stopped_out(runtime: Runtime) -> None:
    trades, venue_ids, _notices = crash_everywhere(runtime, STOP_SCRIPT, from_step=1)
    assert [(s, r) for s, r, _p in trades] == [(TradeStatus.CLOSED, CloseReason.STOP)] * 2
    assert venue_ids == ["0-entry-1", "0-sl-1", "0-tp-1", "1-entry-1", "1-sl-1", "1-tp-1"]


def test_a_crash_at_any_boundary_of_a_stop_move_replacing_both_lists(runtime: Runtime) -> None:
    trades, venue_ids, _notices = crash_everywhere(runtime, MOVE_SCRIPT, from_step=1)
    assert [(s, r) for s, r, _p in trades] == [(TradeStatus.CLOSED, CloseReason.STOP)] * 2
    assert venue_ids == [
        "0-entry-1",
        "0-sl-1",
        "0-sl-2",
        "0-tp-1",
        "0-tp-2",
        "1-entry-1",
        "1-sl-1",
        "1-sl-2",
        "1-tp-1",
        "1-tp-2",
    ]


def test_random_venue_errors_on_orders_and_lists_never_break_the_invariants(runtime: Runtime) -> None:
    raised: Counter[str] = Counter()
    for seed in range(6):
        for script in (TARGET_SCRIPT, STOP_SCRIPT, MOVE_SCRIPT):
            raised += chaos_run(runtime, script, seed)
    assert set(raised) >= {"VenueUnavailable", "InsufficientFunds", "InvalidOrder", "OrderNotFound", "lost answer"}

"""The fault harness on a block's life: the engine is killed at every step boundary and restarted,
and separately fed random venue errors; after each run the venue holds no duplicate order, every
open position has its stop, every order status in the database is the venue's, and (for crashes)
the P&L is the crash-free run's. Runs on SQLite and PostgreSQL. The machinery: tests/helpers/faults.py.
"""

from __future__ import annotations

from collections import Counter

from db.enums import CloseReason, TradeStatus
from engine.runtime import Runtime
from tests.helpers.faults import Step, chaos_run, crash_everywhere
from tests.helpers.trading import D, load_demo_markets

# The script: each step changes the price path and runs one tick. A restarted engine runs the step
# it crashed in again without moving the price, so it catches up at the same prices as the
# crash-free run and must reach the same P&L.
SCRIPT: list[Step] = [
    ("submit",),
    ("bar", "101", "101", "99.5", "100.5"),  # entries fill at 100, stops placed
    ("bar", "100.5", "105.5", "100.5", "105.2"),  # target 1 at market; trade 2's stop to break-even
    ("bar", "105.2", "110.6", "105", "110.4"),  # target 2
]
STOP_SCRIPT: list[Step] = [
    ("submit",),
    ("bar", "101", "101", "99.5", "100.5"),
    ("bar", "100.5", "101", "100", "100.8"),
    ("bar", "93", "94", "92", "93.5"),  # a gap through the stop
    ("bar", "93.5", "93.5", "93.5", "93.5"),
]

# The fill bar reaches the stop: each trade's stop is placed contingent on its entry and booked at
# placement on that bar (docs/fill-rules.md, rule 10), a new way an order changes on the venue.
FILL_BAR_SCRIPT: list[Step] = [
    ("submit",),
    ("bar", "101", "101", "94", "96"),  # entries fill at 100; the rest of the bar goes through 95
    ("bar", "96", "96.5", "90", "91"),  # an entry the random errors delayed past that bar stops out here
]


def test_a_crash_at_any_step_boundary_loses_and_doubles_nothing(runtime: Runtime) -> None:
    load_demo_markets(runtime.sessions)
    expected = crash_everywhere(runtime, SCRIPT)
    assert [r for _s, r, _p in expected[0]] == ["target", "target"]
    assert expected[2] == ["Block done: SOL/USDT"] + ["Entry filled: SOL/USDT"] * 2 + ["Target filled: SOL/USDT"] * 2


def test_random_venue_errors_never_break_the_invariants(runtime: Runtime) -> None:
    load_demo_markets(runtime.sessions)
    raised: Counter[str] = Counter()
    for seed in range(10):
        for script in (SCRIPT, STOP_SCRIPT, FILL_BAR_SCRIPT):
            raised += chaos_run(runtime, script, seed)
    assert set(raised) >= {"VenueUnavailable", "InsufficientFunds", "InvalidOrder", "OrderNotFound", "lost answer"}


def test_a_crash_around_a_stop_booked_on_its_entrys_fill_bar_loses_and_doubles_nothing(runtime: Runtime) -> None:
    load_demo_markets(runtime.sessions)
    expected = crash_everywhere(runtime, FILL_BAR_SCRIPT)
    # (95 - 100) x 0.5 - 0.05 - 0.0475 each, the stops booked on the fill bar, once each
    assert expected[0] == [(TradeStatus.CLOSED, CloseReason.STOP, D("-2.5975"))] * 2
    assert expected[1] == ["0-entry-1", "0-sl-1", "1-entry-1", "1-sl-1"]
    assert expected[2] == ["Block done: SOL/USDT"] + ["Entry filled: SOL/USDT"] * 2 + ["Stop filled: SOL/USDT"] * 2

"""The fault harness on a block's life: the engine is killed at every step boundary and restarted,
and separately fed random venue errors; after each run the venue holds no duplicate order, every
open position has its stop, every order status in the database is the venue's, and (for crashes)
the P&L is the crash-free run's. Runs on SQLite and PostgreSQL. The machinery: tests/helpers/faults.py.
"""

from __future__ import annotations

from collections import Counter

from engine.runtime import Runtime
from tests.helpers.faults import Step, chaos_run, crash_everywhere
from tests.helpers.trading import load_demo_markets

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


def test_a_crash_at_any_step_boundary_loses_and_doubles_nothing(runtime: Runtime) -> None:
    load_demo_markets(runtime.sessions)
    expected = crash_everywhere(runtime, SCRIPT)
    assert [r for _s, r, _p in expected[0]] == ["target", "target"]
    assert expected[2] == ["Block done: SOL/USDT"] + ["Entry filled: SOL/USDT"] * 2 + ["Target filled: SOL/USDT"] * 2


def test_random_venue_errors_never_break_the_invariants(runtime: Runtime) -> None:
    load_demo_markets(runtime.sessions)
    raised: Counter[str] = Counter()
    for seed in range(10):
        for script in (SCRIPT, STOP_SCRIPT):
            raised += chaos_run(runtime, script, seed)
    assert set(raised) >= {"VenueUnavailable", "InsufficientFunds", "InvalidOrder", "OrderNotFound", "lost answer"}

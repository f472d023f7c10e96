"""The fault harness on replays (tests/helpers/faults.py): the process dies before or after any commit
of a replay (the engine's and the paper exchange's) while a block is submitted on the replay clock
and played bar by bar; it restarts (a new runtime: the run's feed and venue rebuilt from the store)
and goes on stepping. Every crashed run ends with the trades of the crash-free one, and the venue
holds no order twice. SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from db.models import Block, PaperOrder, ReplayRun, Trade
from db.session import make_session_factory
from engine.blocks.api import submit_block
from engine.replay import api as replay
from engine.runtime import Runtime
from tests.helpers.faults import Boundaries, Crash, crashing_sessions, wipe
from tests.helpers.replay import flat, store_bars, trader
from tests.helpers.trading import MIN, T0, request

# The entry at 100 fills on bar 3; target 1 (105) on bar 6; the stop of trade 2 (95) on bar 9.
BARS = [
    *flat(101, 2),
    (101, 101, 99.5, 100.5),
    *flat(102, 2),
    (102, 106, 102, 105.5),
    *flat(100, 2),
    (100, 100, 94, 94.5),
    *flat(94, 2),
]


def _restarted(base: Runtime, boundaries: Boundaries | None) -> Runtime:
    sessions = crashing_sessions(base, boundaries) if boundaries else make_session_factory(base.db)
    return Runtime(base.settings, base.db, sessions)


def _play(base: Runtime, user: int, run_id: int, crash_at: int) -> Boundaries:
    """Submit the block on bar 1 and step to the end; die at commit boundary `crash_at` (0: never)
    and go on in a restarted process. Returns the boundaries seen by the first process."""
    boundaries = Boundaries(crash_at=crash_at)
    engine = _restarted(base, boundaries)
    while True:
        try:
            run = replay.get_run(engine, user, run_id)
            while run.status is not replay.RunStatus.DONE:
                if run.cursor_ms == T0 + MIN and _blocks(engine, run.account_id) == 0:
                    submit_block(engine, user, run.account_id, request(targets=("105", "110")))
                run = replay.step_replay(engine, user, run_id)
            return boundaries
        except Crash:
            engine = _restarted(base, None)


def _blocks(runtime: Runtime, account_id: int) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count(Block.id)).where(Block.account_id == account_id)) or 0


def _outcome(runtime: Runtime) -> tuple[list[tuple[object, ...]], list[str]]:
    with runtime.sessions() as s:
        trades = s.scalars(select(Trade).order_by(Trade.index)).all()
        ids = sorted(cid.split("-", 1)[1] for cid in s.scalars(select(PaperOrder.client_order_id)))
        return [(t.status.value, t.close_reason, t.realized_pnl) for t in trades], ids


def _fresh_run(runtime: Runtime) -> tuple[int, int]:
    wipe(runtime)
    store_bars(runtime, BARS)
    user = trader(runtime)
    return user, replay.start_replay(runtime, user, "demo", "SOL/USDT", "1m", T0).id


def test_a_crash_at_any_commit_of_a_replay_ends_as_the_crash_free_replay(runtime: Runtime) -> None:
    user, run_id = _fresh_run(runtime)
    seen = _play(runtime, user, run_id, 0)
    expected = _outcome(runtime)
    assert [(status, reason) for status, reason, _ in expected[0]] == [("closed", "target"), ("closed", "stop")]
    assert expected[0][0][2] == Decimal("2.3975")  # 0.5 from 100 to 105, fees 0.1 % each way
    assert len(seen.seen) > 30
    for k in seen.points():  # a crash before a commit right after another's is that one's: played once
        runtime.replay_feeds.clear()
        runtime.reset_trading()
        user, run_id = _fresh_run(runtime)
        _play(runtime, user, run_id, k)
        assert _outcome(runtime) == expected, f"crash at commit boundary {k}"
        with runtime.sessions() as s:
            assert s.get(ReplayRun, run_id).status == "done"  # type: ignore[union-attr]

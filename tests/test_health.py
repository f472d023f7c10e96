"""engine.health (what /healthz answers): the database reachable and an engine ticking (both databases)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from db.session import make_engine, make_session_factory
from engine.health import STALE_AFTER_S, health
from engine.lock import record_tick, take_epoch
from engine.runtime import EngineRun, Runtime


def test_no_engine_ever_ticked_is_unhealthy(runtime: Runtime) -> None:
    report = health(runtime)
    assert (report.ok, report.status, report.runs_engine, report.database_epoch) == (
        False,
        "engine not ticking",
        False,
        None,
    )


def test_a_recent_tick_of_another_process_is_healthy_and_a_stale_one_is_not(runtime: Runtime) -> None:
    epoch = take_epoch(runtime.db, "other-host:42")
    assert record_tick(runtime.db, epoch)
    report = health(runtime)
    assert (report.ok, report.runs_engine, report.engine_epoch) == (True, False, None)
    assert (report.database_epoch, report.holder) == (epoch, "other-host:42")
    assert report.as_json()["status"] == "ok"
    later = datetime.now(UTC) + timedelta(seconds=STALE_AFTER_S + 1)
    assert (health(runtime, now=later).ok, health(runtime, now=later).status) == (False, "engine not ticking")


def test_this_process_running_the_engine_says_so_with_its_epoch(runtime: Runtime) -> None:
    epoch = take_epoch(runtime.db, "here:1")
    record_tick(runtime.db, epoch)
    mine = replace(runtime, engine=EngineRun(scheduler=None, lock=None, epoch=epoch))
    assert health(mine).as_json() | {"last_tick_at": None} == {
        "status": "ok",
        "runs_engine": True,
        "engine_epoch": epoch,
        "database_epoch": epoch,
        "holder": "here:1",
        "last_tick_at": None,
    }


def test_a_tick_of_an_older_epoch_is_not_recorded(runtime: Runtime) -> None:
    old = take_epoch(runtime.db, "a:1")
    take_epoch(runtime.db, "b:2")
    assert not record_tick(runtime.db, old)
    assert health(runtime).last_tick_at is None


def test_an_unreachable_database_is_unhealthy(runtime: Runtime, tmp_path: Path) -> None:
    gone = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
    report = health(replace(runtime, db=gone, sessions=make_session_factory(gone)))
    assert (report.ok, report.status) == (False, "database unreachable")

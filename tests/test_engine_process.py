"""The engine runs once per database however many processes serve the app, and stops cleanly.

The lock is tested on the suite's database (SQLite or PostgreSQL); the deploy itself by starting
the Procfile's real `gunicorn app:server` with two workers on a SQLite file and sending it SIGTERM.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, text

from db.models import EngineState
from db.session import make_engine
from engine.lock import ADVISORY_KEY, EngineLock
from engine.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent


def test_only_one_holder_of_the_engine_lock_per_database(runtime: Runtime, tmp_path: Path) -> None:
    other_db = make_engine(runtime.settings.database_url)  # another process's own connection pool
    try:
        first, second = EngineLock(runtime.db, tmp_path), EngineLock(other_db, tmp_path)
        assert first.acquire()
        assert first.acquire()  # already held: still ours
        assert not second.acquire()
        first.release()
        assert second.acquire()
        assert not first.acquire()
        second.release()
    finally:
        other_db.dispose()


def _wait_for(proc: subprocess.Popen, path: Path, needle: str, count: int, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text.count(needle) >= count:
            return text
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited ({proc.returncode}) before {needle!r}:\n{text}")
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} not seen {count}x in the log:\n{text}")


def test_gunicorn_with_two_workers_runs_one_engine_and_stops_it_on_sigterm(tmp_path: Path) -> None:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        pytest.fail("gunicorn is not installed (it is in requirements.txt)")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
        "TRADEBLOCK_INSTANCE_DIR": str(tmp_path / "instance"),
        "SECRET_KEY": "process-test-secret-key-123",
        "TRADEBLOCK_DEFAULT_WATCHLIST": "",  # no backfill: this test is about the process
        "WEB_CONCURRENCY": "2",
        "PORT": "0",
    }
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(gunicorn), "app:server"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        # Both workers boot on the fresh database (their migrations take turns) ...
        _wait_for(proc, log_path, "Booting worker", 2, 60)
        # ... and exactly one of them runs the engine.
        _wait_for(proc, log_path, "serves pages only", 1, 60)
        text = _wait_for(proc, log_path, "engine scheduler started", 1, 60)
        assert text.count("engine scheduler started") == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log_path.read_text()
    assert text.count("engine scheduler started") == 1, text
    assert text.count("engine scheduler stopped") == 1, text  # a hang shows its stacks (gunicorn.conf.py)
    assert "Traceback" not in text, text
    assert text.count("Booting worker") == 2, text  # none crashed and was replaced


def test_workers_migrating_a_fresh_database_at_once_take_turns(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from db import migrate

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engines = [make_engine(url) for _ in range(3)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            list(pool.map(migrate.upgrade, engines))  # raises if one of them failed
        with engines[0].connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
    finally:
        for engine in engines:
            engine.dispose()


def test_the_scheduler_recovers_first_then_runs_every_engine_job_and_stops(
    runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    from dataclasses import replace

    from engine import scheduler
    from engine.exchanges.demo import DemoExchange

    quiet = Runtime(replace(runtime.settings, default_watchlist=()), runtime.db, runtime.sessions)
    quiet.sources["demo"] = DemoExchange(seed=7, clock=lambda: 1_706_745_600_000)
    caplog.set_level(logging.INFO)
    started = scheduler.start(quiet)
    try:
        assert started is not None
        assert scheduler.start(quiet) is started  # idempotent in a process
        assert not EngineLock(make_engine(runtime.settings.database_url), tmp_path).acquire()
        deadline = time.monotonic() + 30
        wanted = {"sync-brackets", "fetch-due", "repair-gaps", "portfolio", "funding", "notify", "push-watchers"}
        while time.monotonic() < deadline and not wanted <= {job.id for job in started.get_jobs()}:
            time.sleep(0.1)
        assert wanted <= {job.id for job in started.get_jobs()}
        assert "bracket recovery" in caplog.text
        assert quiet.push is not None  # the push watchers run with the engine (no live account: none watched)
        assert quiet.tickers is not None  # and the ticker watchers of emulated targets
    finally:
        scheduler.stop(quiet)
    assert not scheduler.running(quiet)
    assert quiet.push is None  # and stop with it
    assert quiet.tickers is None
    other = EngineLock(make_engine(runtime.settings.database_url), tmp_path)
    assert other.acquire()  # released on stop
    other.release()


# --- failover and fencing: two real gunicorn instances on one database ---

TICK = re.compile(r"sync tick epoch=(\d+) mono=([\d.]+)-([\d.]+)")


@dataclass
class Instance:
    """One `gunicorn app:server` (one worker) in its own process group, logging to a file."""

    proc: subprocess.Popen
    log_path: Path

    def text(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def wait_for(self, needle: str, timeout_s: float, count: int = 1) -> str:
        return _wait_for(self.proc, self.log_path, needle, count, timeout_s)

    def ticks(self) -> list[tuple[int, float, float]]:
        return [(int(e), float(a), float(b)) for e, a, b in TICK.findall(self.text())]

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # master and worker, like a machine that dies
            self.proc.wait()


def _database_url(tmp_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else f"sqlite:///{tmp_path / 'desk.db'}"


def _gunicorn(tmp_path: Path, name: str, database_url: str) -> Instance:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TRADEBLOCK_INSTANCE_DIR": str(tmp_path / f"instance-{name}"),
        "SECRET_KEY": "process-test-secret-key-123",
        "TRADEBLOCK_DEFAULT_WATCHLIST": "",
        "TRADEBLOCK_ENGINE": "on",
        "WEB_CONCURRENCY": "1",
        "PORT": "0",
    }
    log_path = tmp_path / f"{name}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(gunicorn), "app:server"], cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
    return Instance(proc, log_path)


def _engine_state(database_url: str) -> tuple[int, str]:
    db = make_engine(database_url)
    try:
        with db.connect() as conn:
            row = conn.execute(select(EngineState.epoch, EngineState.holder).where(EngineState.id == 1)).one()
            return int(row.epoch), str(row.holder)
    finally:
        db.dispose()


def _taken(instance: Instance) -> tuple[int, str]:
    """(epoch, holder) from the instance's last 'engine lock taken' line."""
    found = re.findall(r"engine lock taken: epoch (\d+) \(([^)]+)\)", instance.text())
    assert found, instance.text()
    return int(found[-1][0]), found[-1][1]


def _assert_never_both_tick(a: Instance, b: Instance) -> None:
    old, new = a.ticks(), b.ticks()
    assert old, a.text()
    assert new, b.text()
    assert max(end for _, _, end in old) < min(start for _, start, _ in new)
    assert max(e for e, _, _ in old) < min(e for e, _, _ in new)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Instance, Instance, str]]:
    """A runs the engine (it started first), B stands by; both on the suite's database kind."""
    if not (Path(sys.executable).parent / "gunicorn").exists():
        pytest.fail("gunicorn is not installed (it is in requirements.txt)")
    url = _database_url(tmp_path)
    if url.startswith("postgresql"):
        empty = make_engine(url)
        with empty.begin() as conn:  # the suite's schema, no engine of an earlier test recorded
            conn.execute(EngineState.__table__.delete())
        empty.dispose()
    a = _gunicorn(tmp_path, "a", url)
    b: Instance | None = None
    try:
        a.wait_for("engine scheduler started", 60)
        b = _gunicorn(tmp_path, "b", url)
        b.wait_for("stands by", 60)
        a.wait_for("sync tick epoch=", 30)
        yield a, b, url
    finally:
        for instance in (a, b):
            if instance is not None:
                instance.kill()


def test_kill_9_of_the_engine_holder_starts_the_standby_within_15_s(pair: tuple[Instance, Instance, str]) -> None:
    a, b, url = pair
    epoch_a, _ = _taken(a)
    a.kill()
    killed = time.monotonic()
    b.wait_for("engine scheduler started", 15)
    failover_s = time.monotonic() - killed
    assert failover_s < 15
    epoch_b, holder_b = _taken(b)
    assert epoch_b > epoch_a
    assert _engine_state(url) == (epoch_b, holder_b)
    b.wait_for("sync tick epoch=", 15)
    _assert_never_both_tick(a, b)
    print(f"failover after kill -9: {failover_s:.1f} s")


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="pg_terminate_backend needs PostgreSQL (CI runs the suite on PostgreSQL too)",
)
def test_a_terminated_lock_connection_deposes_the_engine_within_5_s_and_ticks_never_overlap(
    pair: tuple[Instance, Instance, str],
) -> None:
    a, b, url = pair
    db = make_engine(url)
    try:
        with db.begin() as conn:
            pids = conn.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND classid = :high AND objid = :low AND objsubid = 1"
                ),
                {"high": ADVISORY_KEY >> 32, "low": ADVISORY_KEY & 0xFFFFFFFF},
            ).scalars()
            pids = list(pids)
            assert len(pids) == 1
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
    finally:
        db.dispose()
    terminated = time.monotonic()
    a.wait_for("engine deposed", 5)
    deposed_s = time.monotonic() - terminated
    assert deposed_s < 5
    b.wait_for("engine scheduler started", 15)
    b.wait_for("sync tick epoch=", 15, count=3)  # B ticks a while: A must stay quiet all along
    assert a.proc.poll() is None  # A lives on, standing by
    assert "engine lock taken" not in a.text().split("engine deposed")[1]
    _assert_never_both_tick(a, b)
    assert _engine_state(url) == _taken(b)
    print(f"deposed {deposed_s:.1f} s after pg_terminate_backend")


def test_stopping_while_the_start_up_job_runs_waits_for_it_without_deadlock(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM right after the engine started (seen under load in the gunicorn test): the start-up
    job was still adding the recurring jobs while shutdown waited for it holding the job-store lock."""
    import threading
    from types import SimpleNamespace

    from engine import scheduler

    recovering = threading.Event()

    def slow_recover(_runtime: Runtime) -> SimpleNamespace:
        recovering.set()
        time.sleep(0.5)  # stop() is called meanwhile
        return SimpleNamespace(accounts=0, errors=[])

    monkeypatch.setattr(scheduler, "TAKEOVER_GRACE_S", 0.0)
    monkeypatch.setattr(scheduler.blocks, "recover", slow_recover)
    monkeypatch.setattr(scheduler, "bootstrap", lambda _runtime: [])
    monkeypatch.setattr(scheduler.market, "ensure_markets", lambda _runtime, _exchange: None)
    assert scheduler.start(runtime) is not None
    assert recovering.wait(10)
    stopping = threading.Thread(target=scheduler.stop, args=(runtime,), daemon=True)
    stopping.start()
    stopping.join(timeout=15)
    assert not stopping.is_alive(), "stop() deadlocked on the start-up job"
    assert runtime.engine is None

"""The engine runs once per database however many processes serve the app, and stops cleanly.

The lock is tested on the suite's database (SQLite or PostgreSQL); the deploy itself by starting
the Procfile's real `gunicorn app:server` with two workers on a SQLite file and sending it SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db.session import make_engine
from engine.lock import EngineLock
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
    assert text.count("engine scheduler started") == 1
    assert text.count("engine scheduler stopped") == 1
    assert "Traceback" not in text
    assert text.count("Booting worker") == 2  # none crashed and was replaced


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
        wanted = {"sync-brackets", "fetch-due", "repair-gaps", "portfolio"}
        while time.monotonic() < deadline and not wanted <= {job.id for job in started.get_jobs()}:
            time.sleep(0.1)
        assert wanted <= {job.id for job in started.get_jobs()}
        assert "bracket recovery" in caplog.text
    finally:
        scheduler.stop(quiet)
    assert not scheduler.running(quiet)
    other = EngineLock(make_engine(runtime.settings.database_url), tmp_path)
    assert other.acquire()  # released on stop
    other.release()

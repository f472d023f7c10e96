"""Repairs, backfills and file imports started from the data page (or the CLI): recorded in `data_jobs` and run in the
background the way the chart page's backfill runs (the engine's scheduler when this process runs
one, else a daemon thread), never in the request. The job writes its progress on its row as it
goes, so whichever process serves the page's poll reads it.

Who may start one is the caller's check (the page allows traders and admins); this module checks
the series exists and that no job of it is already running.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import DataJob, Series
from engine.common.precision import plural
from engine.common.timeframes import tf_ms
from engine.market import jobs
from engine.market.candles import Progress
from engine.market.importer import import_candles
from engine.runtime import Runtime

log = logging.getLogger(__name__)
Work = Callable[[Progress], str]  # a job's body: does the work, reports progress, returns its outcome line
# A job still "running" after this long died with its process (a restart): it no longer blocks.
STALE_AFTER = timedelta(hours=1)
_PROGRESS_EVERY_S = 0.25  # at most this often a progress write (one small transaction)


class DataJobError(ValueError):
    """A job that cannot start: unknown series or kind, or one already running."""


def start_data_job(runtime: Runtime, user_id: int, series_id: int, kind: str, start_ms: int | None = None) -> int:
    """Record a `kind` job ("repair", or "backfill" from `start_ms`) and start it in the
    background; returns the job's id."""
    if kind not in ("repair", "backfill"):
        raise DataJobError(f"unknown job {kind!r}: repair or backfill")
    if kind == "backfill" and start_ms is None:
        raise DataJobError("a backfill needs the day to start from")
    job_id, series = _record(runtime, user_id, series_id, kind)
    if kind == "repair":
        work = functools.partial(_repair, runtime, series)
    else:
        assert start_ms is not None
        work = functools.partial(_backfill, runtime, series, start_ms - start_ms % tf_ms(series.timeframe))
    _launch(runtime, f"data-{kind}-{series_id}", job_id, work)
    return job_id


def start_import(runtime: Runtime, user_id: int, series_id: int, rows: np.ndarray) -> int:
    """Record an import of `rows` (engine.market.importer.read_candle_file) into the series and run
    it in the background; returns the job's id."""
    job_id, _series = _record(runtime, user_id, series_id, "import")
    _launch(runtime, f"data-import-{series_id}", job_id, lambda progress: _import(runtime, series_id, rows, progress))
    return job_id


def _record(runtime: Runtime, user_id: int, series_id: int, kind: str) -> tuple[int, Series]:
    with runtime.sessions.begin() as session:
        series = session.get(Series, series_id)
        if series is None:
            raise DataJobError(f"no stored series #{series_id}")
        if _running(session, series_id) or runtime.series_lock(series_id).locked():
            raise DataJobError(f"{series.exchange} {series.symbol} {series.timeframe} is busy: wait for its job")
        job = DataJob(series_id=series_id, kind=kind, status="running", done=0, total=0, user_id=user_id)
        session.add(job)
        session.flush()
        session.expunge(series)
        return job.id, series


def _launch(runtime: Runtime, name: str, job_id: int, work: Work) -> None:
    """On the engine's scheduler when this process runs one, else on a daemon thread."""
    if not runtime.submit(name, run_data_job, runtime, job_id, work):
        threading.Thread(target=run_data_job, args=(runtime, job_id, work), name=name, daemon=True).start()


def _running(session: Session, series_id: int) -> bool:
    fresh = datetime.now(UTC) - STALE_AFTER
    found = session.scalar(
        select(DataJob.id).where(
            DataJob.series_id == series_id, DataJob.status == "running", DataJob.started_at > fresh
        )
    )
    return found is not None


def _repair(runtime: Runtime, series: Series, progress: Progress) -> str:
    repaired = jobs.repair(runtime, series, progress)
    filled, holes = plural(repaired.filled, "candle"), plural(repaired.holes_recorded, "hole")
    return f"{plural(repaired.gaps, 'gap')}: {filled} filled, {holes} recorded"


def _backfill(runtime: Runtime, series: Series, start_ms: int, progress: Progress) -> str:
    return f"{plural(jobs.backfill_from(runtime, series, start_ms, progress).stored, 'candle')} stored"


def _import(runtime: Runtime, series_id: int, rows: np.ndarray, progress: Progress) -> str:
    return import_candles(runtime, series_id, rows, progress).summary()


def run_data_job(runtime: Runtime, job_id: int, work: Work) -> None:
    """Run a recorded job to its end, writing progress and the outcome (`work`'s line) on its row."""
    try:
        message = work(_progress_writer(runtime, job_id))
    except Exception as exc:  # recorded for the page: the job failed, the engine goes on
        log.error("data job %d failed: %s", job_id, exc)
        _finish(runtime, job_id, "failed", str(exc)[:2000])
        return
    _finish(runtime, job_id, "done", message)


def _progress_writer(runtime: Runtime, job_id: int) -> Progress:
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < _PROGRESS_EVERY_S and done < total:
            return
        last[0] = now
        with runtime.sessions.begin() as session:
            job = session.get(DataJob, job_id)
            if job is not None:
                job.done, job.total = done, max(done, total)

    return report


def _finish(runtime: Runtime, job_id: int, status: str, message: str) -> None:
    with runtime.sessions.begin() as session:
        job = session.get(DataJob, job_id)
        if job is not None:
            job.status, job.message, job.finished_at = status, message, datetime.now(UTC)
            if status == "done":
                job.done = job.total = max(job.done, job.total, 1)

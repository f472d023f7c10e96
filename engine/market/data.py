"""What the data page reads, on the Runtime: the inventory of the store, one series' detail, and
a range of a series as a file to download (CSV, Parquet or xlsx).

Market data is shared (a series is stored once, whoever watches it), so every signed-in user may
read all of it; starting repairs and backfills is engine.market.data_jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from db.models import DataJob, Series
from engine.common.timeframes import levels_above, tf_ms
from engine.market.export import EXPORT_FORMATS, ExportTooLargeError, export_bytes
from engine.market.inventory import JobView, SeriesDetail, SeriesInventory, aware, inventory, series_detail
from engine.runtime import Runtime

# A download from the page travels in one response: beyond this, the CLI's `export` streams to a file.
DOWNLOAD_MAX_ROWS = 500_000
_COUNT = text("SELECT COUNT(*) FROM candles WHERE series_id = :sid AND tf_ms = :tf AND ts >= :start AND ts < :end")


def data_inventory(runtime: Runtime) -> list[SeriesInventory]:
    with runtime.db.connect() as conn:
        return inventory(conn)


def data_detail(runtime: Runtime, series_id: int) -> SeriesDetail | None:
    with runtime.db.connect() as conn:
        return series_detail(conn, series_id)


def data_job(runtime: Runtime, job_id: int) -> JobView | None:
    """One data job's progress and outcome (the page follows an import it started by its id)."""
    with runtime.sessions() as session:
        job = session.get(DataJob, job_id)
        if job is None:
            return None
        started, finished = aware(job.started_at), aware(job.finished_at)
        assert started is not None
        return JobView(job.id, job.kind, job.status, job.done, job.total, job.message, started, finished)


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes
    rows: int


def download(
    runtime: Runtime, series_id: int, timeframe: str, suffix: str, start_ms: int | None, end_ms: int | None
) -> Download:
    """The candles of a stored series at `timeframe` (its own or a pyramid level) in [start, end)
    as a file; ValueError (ExportTooLargeError for too many rows) with a message for people."""
    if suffix not in EXPORT_FORMATS:
        raise ValueError(f"download as {', '.join(EXPORT_FORMATS)}, not {suffix!r}")
    with runtime.sessions() as session:
        series = session.get(Series, series_id)
        if series is None:
            raise ValueError(f"no stored series #{series_id}")
        if timeframe not in (series.timeframe, *levels_above(series.timeframe)):
            raise ValueError(f"{series.symbol} {series.timeframe} has no {timeframe} level")
        if start_ms is not None and end_ms is not None and end_ms <= start_ms:
            raise ValueError("the range ends before it starts")
        conn = session.connection()
        params = {"sid": series_id, "tf": tf_ms(timeframe), "start": start_ms or 0, "end": end_ms or 2**62}
        rows = conn.execute(_COUNT, params).scalar_one()
        if rows > DOWNLOAD_MAX_ROWS:
            raise ExportTooLargeError(
                f"this range holds {rows:,} candles; a download from the page takes at most "
                f"{DOWNLOAD_MAX_ROWS:,}: choose a shorter range or a coarser timeframe, or use "
                "`python -m engine export` for a file of any size"
            )
        content, written = export_bytes(conn, series, timeframe, suffix, start_ms, end_ms)
    name = f"{series.exchange}_{series.symbol.replace('/', '-')}_{timeframe}{suffix}"
    return Download(name, content, written)

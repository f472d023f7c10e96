"""pages/components/data: the inventory's rows read in the user's timezone with thousands
separators, the pyramid in a few characters, a job's line and progress, and the download and
backfill forms read into requests (the user's days, the last one included) or refused with a
message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.common.precision import plural
from engine.market.api import JobView, LevelInventory, SeriesInventory
from pages.components import data as dc

# 2024-03-10 23:30 UTC: already the 11th in Tokyo.
LATE = int(datetime(2024, 3, 10, 23, 30, tzinfo=UTC).timestamp() * 1000)
STARTED = datetime(2024, 3, 11, 8, 0, tzinfo=UTC)


def level(timeframe: str, rows: int = 12_345, missing: int = 1_200) -> LevelInventory:
    return LevelInventory(timeframe, LATE, LATE + 60_000 * rows, rows, missing, 0)


def entry(levels: tuple[LevelInventory, ...], job: JobView | None = None, **extra: object) -> SeriesInventory:
    fields: dict = {"backfill_status": "done", "backfill_done": 0, "backfill_total": 0}
    fields.update(extra)
    return SeriesInventory(
        series_id=7, exchange="demo", symbol="BTC/USDT", timeframe="1m", levels=levels, holes=2,
        backfill_error=None, last_error=None, job=job, **fields,
    )  # fmt: skip


def job(status: str, done: int = 0, total: int = 0, message: str | None = None) -> JobView:
    finished = None if status == "running" else STARTED
    return JobView(3, "repair", status, done, total, message, STARTED, finished)


def test_a_row_shows_times_in_the_users_zone_and_counts_with_separators() -> None:
    row = dc.grid_row(entry((level("1m"), level("5m", 2_469, 0), level("1w", 3, 0))), "Asia/Tokyo")
    assert row["first"] == "2024-03-11 08:30"  # 23:30 UTC + 9 h
    assert row["rows"] == "12,345"
    assert row["missing"] == "1,200"
    assert row["levels"] == "1m–1w (3)"
    assert row["row_id"] == "7"
    assert dc.grid_row(entry((level("1m"),)), "UTC")["first"] == "2024-03-10 23:30"


def test_a_series_without_candles_shows_dashes_and_a_running_backfill_its_share() -> None:
    row = dc.grid_row(entry((), backfill_status="running", backfill_done=30, backfill_total=120), "UTC")
    assert (row["first"], row["last"], row["rows"], row["missing"], row["levels"]) == ("—", "—", "0", "—", "—")
    assert row["backfill"] == "running 25 %"
    assert row["job"] == "no job yet"


def test_the_summary_counts_the_series_own_candles() -> None:
    entries = [entry((level("1m", 1_000, 5), level("5m", 200, 0))), entry((level("1m", 500, 0),))]
    assert dc.summary(entries) == "2 series · 1,500 candles · 5 missing"
    assert dc.summary(entries[:1]) == "1 series · 1,000 candles · 5 missing"
    assert plural(1_200, "trade") == "1,200 trades"


def test_a_jobs_line_and_progress_follow_its_state() -> None:
    running = job("running", 40, 160)
    assert dc.job_text(running, "UTC") == "repair running 25 %"
    assert dc.progress(running) == (25, "40 / 160", "info", False)
    done = job("done", 160, 160, "2 gaps: 30 candles filled, 0 holes recorded")
    assert (
        dc.job_text(done, "Asia/Tokyo") == "repair done 2024-03-11 17:00: 2 gaps: 30 candles filled, 0 holes recorded"
    )
    assert dc.progress(done) == (100, "done", "success", False)
    assert dc.progress(job("failed", message="timeout"))[2] == "danger"
    assert dc.progress(None)[3] is True  # no job: no bar


def test_the_download_form_reads_the_users_days_with_the_last_one_included() -> None:
    ask = dc.download_ask("1h", ".parquet", "2024-03-01", "2024-03-02", "Asia/Tokyo")
    assert ask.timeframe == "1h"
    assert ask.suffix == ".parquet"
    assert ask.start_ms == int(datetime(2024, 2, 29, 15, 0, tzinfo=UTC).timestamp() * 1000)  # Tokyo midnight
    assert ask.end_ms == int(datetime(2024, 3, 2, 15, 0, tzinfo=UTC).timestamp() * 1000)  # after the 2nd
    everything = dc.download_ask("1m", ".csv", None, None, "UTC")
    assert (everything.start_ms, everything.end_ms) == (None, None)


@pytest.mark.parametrize(
    ("timeframe", "suffix", "first", "said"),
    [
        (None, ".csv", None, "choose the level"),
        ("1m", ".pdf", None, "CSV, Parquet or xlsx"),
        ("1m", ".csv", "yesterday", "not a day"),
    ],
)
def test_an_incomplete_download_form_is_refused_with_a_message(
    timeframe: object, suffix: object, first: object, said: str
) -> None:
    with pytest.raises(ValueError, match=said):
        dc.download_ask(timeframe, suffix, first, None, "UTC")


def test_the_backfill_starts_at_the_users_midnight_and_defaults_before_the_first_candle() -> None:
    assert dc.backfill_start("2024-03-11", "Asia/Tokyo") == int(
        datetime(2024, 3, 10, 15, tzinfo=UTC).timestamp() * 1000
    )
    with pytest.raises(ValueError, match="choose the day"):
        dc.backfill_start(None, "UTC")
    assert dc.backfill_default(entry((level("1m"),)), "Asia/Tokyo", 30) == "2024-02-10"  # 30 days before 11 Mar

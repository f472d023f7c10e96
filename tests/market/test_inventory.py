"""engine.market.inventory: the per-level summary kept on ingest, rollup and repair agrees with
counting the candles; missing candles agree with engine.market.gaps; the xlsx export and the
notebook frame read the same rows."""

from __future__ import annotations

import io
import time

import openpyxl
import pytest
from sqlalchemy import text

from db.bulk import upsert_candles
from engine.common.timeframes import tf_ms
from engine.exchanges.demo import DemoExchange
from engine.market import api as market
from engine.market.gaps import find_gaps, record_hole
from engine.market.rollups import ingest_candles
from engine.runtime import Runtime
from tests.helpers.candles import DAY, MIN, T0, candles, new_series

COUNT_SQL = text(
    "SELECT tf_ms, MIN(ts), MAX(ts), COUNT(*) FROM candles WHERE series_id = :sid GROUP BY tf_ms ORDER BY tf_ms"
)


def counted(runtime: Runtime, sid: int) -> list[tuple[int, int, int, int]]:
    with runtime.db.connect() as conn:
        return [tuple(int(x) for x in row) for row in conn.execute(COUNT_SQL, {"sid": sid})]


def summary(runtime: Runtime, sid: int) -> list[tuple[int, int, int, int]]:
    entry = next(s for s in market.data_inventory(runtime) if s.series_id == sid)
    return [(tf_ms(lv.timeframe), lv.first_ts, lv.last_ts, lv.rows) for lv in entry.levels]


def ingest(runtime: Runtime, sid: int, rows: list[tuple]) -> None:
    with runtime.db.begin() as conn:
        ingest_candles(conn, sid, "1m", rows)


def test_summary_is_kept_on_every_ingest_and_rollup_and_agrees_with_counting(runtime: Runtime) -> None:
    sid = new_series(runtime)
    rows = candles(3_000)
    ingest(runtime, sid, [r for i, r in enumerate(rows) if not 1_000 <= i < 1_100])  # a hole
    assert summary(runtime, sid) == counted(runtime, sid)
    ingest(runtime, sid, rows[:50])  # again, unchanged: nothing added
    ingest(runtime, sid, candles(200, start=T0 + 3_000 * MIN))  # appended
    ingest(runtime, sid, rows[1_000:1_100])  # the hole filled (what a repair ingests)
    assert summary(runtime, sid) == counted(runtime, sid)
    own = next(s for s in market.data_inventory(runtime) if s.series_id == sid).own
    assert own is not None
    assert own.rows == 3_200
    assert own.missing == 0


def test_missing_candles_agree_with_the_gap_finder_and_known_holes_are_left_out(runtime: Runtime) -> None:
    sid = new_series(runtime)
    rows = [r for i, r in enumerate(candles(2_000)) if not (100 <= i < 130 or 700 <= i < 705)]
    ingest(runtime, sid, rows)
    with runtime.db.begin() as conn:
        record_hole(conn, sid, T0 + 700 * MIN, T0 + 705 * MIN)
        gaps = find_gaps(conn, sid, "1m")
    entry = next(s for s in market.data_inventory(runtime) if s.series_id == sid)
    assert entry.own is not None
    assert entry.own.missing == sum(g.missing for g in gaps) == 30
    assert entry.own.in_holes == 5
    assert entry.holes == 1
    detail = market.data_detail(runtime, sid)
    assert detail is not None
    assert detail.gaps_total == 1
    assert detail.holes == ((T0 + 700 * MIN, T0 + 705 * MIN),)


def test_rebuild_recounts_what_was_written_around_the_tracked_paths(runtime: Runtime) -> None:
    sid = new_series(runtime)
    with runtime.db.begin() as conn:
        upsert_candles(conn, sid, MIN, candles(500))
        market.rebuild_levels(conn, sid)
    assert summary(runtime, sid) == counted(runtime, sid)


def test_xlsx_download_has_the_rows_and_a_long_range_is_refused_with_a_message(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = new_series(runtime)
    ingest(runtime, sid, candles(300))
    got = market.download(runtime, sid, "5m", ".xlsx", None, None)
    sheet = openpyxl.load_workbook(io.BytesIO(got.content)).active
    assert got.rows == 60
    assert sheet.max_row == 61
    assert [c.value for c in sheet[1]][:3] == ["time (UTC)", "ts", "open"]
    assert sheet.cell(2, 2).value == T0
    monkeypatch.setattr("engine.market.export.XLSX_MAX_ROWS", 100)
    with pytest.raises(market.ExportTooLargeError, match="300 candles; an Excel file takes at most 100"):
        market.download(runtime, sid, "1m", ".xlsx", None, None)


def test_candles_frame_reads_a_level_by_utc_range(runtime: Runtime) -> None:
    sid = new_series(runtime)
    ingest(runtime, sid, candles(600))
    url = runtime.db.url.render_as_string(hide_password=False)
    frame = market.candles_frame("demo", "BTC/USDT", "1h", start=T0 + 60 * MIN, database_url=url)
    assert len(frame) == 9
    assert str(frame.index.tz) == "UTC"
    assert frame.index[0].value // 1_000_000 == T0 + 60 * MIN
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame.dtypes.eq("float64").all()
    with pytest.raises(LookupError):
        market.candles_frame("demo", "ETH/USDT", "1h", database_url=url)


def test_a_repair_started_as_a_data_job_runs_in_the_background_and_the_summary_follows(runtime: Runtime) -> None:
    runtime.sources["demo"] = DemoExchange(seed=7, clock=lambda: T0 + 2 * DAY)
    sid = new_series(runtime)
    stored = DemoExchange(seed=7, clock=lambda: T0 + 2 * DAY).fetch_ohlcv("BTC/USDT", "1m", T0, 1_000)
    ingest(runtime, sid, [c for i, c in enumerate(stored) if not 200 <= i < 260])
    job_id = market.start_data_job(runtime, None, sid, "repair")
    with pytest.raises(market.DataJobError, match="busy"):
        market.start_data_job(runtime, None, sid, "repair")  # one job per series at a time
    deadline = time.monotonic() + 20
    while (job := market.data_detail(runtime, sid).series.job).status == "running":  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the repair never finished"
        time.sleep(0.05)
    assert job.job_id == job_id
    assert job.status == "done", job.message
    assert job.message == "1 gap: 60 candles filled, 0 holes recorded"
    assert summary(runtime, sid) == counted(runtime, sid)
    assert next(s for s in market.data_inventory(runtime) if s.series_id == sid).own.missing == 0  # type: ignore[union-attr]
    with pytest.raises(market.DataJobError, match="needs the day"):
        market.start_data_job(runtime, None, sid, "backfill")

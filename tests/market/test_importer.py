"""engine.market.importer: a candle file (CSV or Parquet, the project's exports, TradingView's
chart exports) read into the store with the ingest's cleaning and the pyramid; dirty rows rejected
with their reasons; unreadable files refused with a message; the data page's background import."""

from __future__ import annotations

import io
import time

import pandas as pd
import pytest
from sqlalchemy import select

from db.models import DataJob
from engine.common.timeframes import tf_ms
from engine.market import api as market
from engine.market.rollups import ingest_candles
from engine.runtime import Runtime
from tests.helpers.candles import HOUR, MIN, T0, candles, new_series, stored


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ts", "open", "high", "low", "close", "volume"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_exported_series_imports_as_the_same_candles_and_pyramid(runtime: Runtime, suffix: str) -> None:
    source = new_series(runtime, "ETH/USDT")
    with runtime.db.begin() as conn:
        ingest_candles(conn, source, "1m", candles(600))
    content = market.download(runtime, source, "1m", suffix, None, None).content
    rows = market.read_candle_file(content, suffix)
    target = market.import_series(runtime, "mydata", "eth/usdt", "1m")
    result = market.import_candles(runtime, target, rows)
    assert (result.read, result.stored, result.rejected) == (600, 600, {})
    assert stored(runtime.db, target, MIN) == stored(runtime.db, source, MIN)
    assert stored(runtime.db, target, HOUR) == stored(runtime.db, source, HOUR)  # the pyramid too
    assert market.import_series(runtime, "mydata", "ETH/USDT", "1m") == target  # the symbol upper-cased


def test_a_tradingview_export_with_epoch_seconds_and_capitalised_columns_reads() -> None:
    text = "time,open,high,low,close,Volume\n1704240000,100,101,99,100.5,12\n1704240060,100.5,102,100,101,3\n"
    rows = market.read_candle_file(text.encode(), ".csv")
    assert rows[:, 0].tolist() == [T0, T0 + MIN]
    assert rows[:, 5].tolist() == [12, 3]
    iso = "Date,Open,High,Low,Close\n2024-01-03 00:00,100,101,99,100.5\n"  # naive: UTC; no volume: 0
    assert market.read_candle_file(iso.encode(), ".csv")[0].tolist() == [T0, 100, 101, 99, 100.5, 0]


def test_dirty_rows_are_rejected_with_their_reasons_and_the_clean_ones_kept(runtime: Runtime) -> None:
    good = candles(5)
    dirty = [
        *good,
        (T0 + 5 * MIN + 7, 100, 101, 99, 100, 1),  # off the minute grid
        (T0 + 6 * MIN, 100, 98, 99, 100, 1),  # high below low
        (T0 + 7 * MIN, float("nan"), 101, 99, 100, 1),
        good[0],  # a duplicate of the first
        (int(time.time() * 1000) // MIN * MIN, 100, 101, 99, 100, 1),  # still forming
    ]
    buffer = io.BytesIO()
    frame(dirty).to_parquet(buffer)
    target = market.import_series(runtime, "mydata", "BTC/USDT", "1m")
    result = market.import_candles(runtime, target, market.read_candle_file(buffer.getvalue(), ".parquet"))
    assert result.stored == 5
    assert result.rejected == {"off_grid": 1, "high_below_low": 1, "not_finite": 1}
    assert result.dropped == 2
    assert [r[0] for r in stored(runtime.db, target, tf_ms("1m"))] == [r[0] for r in good]
    assert "5 candles stored of 10 read; 3 rejected (high_below_low 1, not_finite 1, off_grid 1)" in result.summary()


@pytest.mark.parametrize(
    ("content", "suffix", "said"),
    [
        (b"ts,open,high,low,close\n1,2,3,4,5\n", ".txt", "import a .csv or .parquet file"),
        (b"when,open,high\n1,2,3\n", ".csv", "no a time column (ts, time, timestamp or date), low, close"),
        (b"\x00\x01 not parquet", ".parquet", "cannot be read as PARQUET"),
    ],
)
def test_a_file_that_is_not_candles_is_refused_with_a_message(content: bytes, suffix: str, said: str) -> None:
    with pytest.raises(market.CandleFileError, match=said.replace("(", r"\(").replace(")", r"\)")):
        market.read_candle_file(content, suffix)


def test_an_import_needs_a_named_market_and_a_known_timeframe(runtime: Runtime) -> None:
    with pytest.raises(market.CandleFileError, match="name the exchange"):
        market.import_series(runtime, " ", "BTC/USDT", "1m")
    with pytest.raises(ValueError, match="7q"):
        market.import_series(runtime, "mydata", "BTC/USDT", "7q")


def test_the_data_pages_import_runs_as_a_job_with_its_outcome(runtime: Runtime) -> None:
    target = market.import_series(runtime, "mydata", "BTC/USDT", "1m")
    job_id = market.start_import(
        runtime, None, target, market.read_candle_file(frame(candles(300)).to_csv(index=False).encode(), ".csv")
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with runtime.sessions() as session:
            job = session.get(DataJob, job_id)
            assert job is not None
            if job.status != "running":
                break
        time.sleep(0.05)
    assert (job.kind, job.status, job.done, job.total) == ("import", "done", 300, 300)
    assert job.message == "300 candles stored of 300 read"
    with runtime.sessions() as session:
        assert session.scalars(select(DataJob.kind)).all() == ["import"]

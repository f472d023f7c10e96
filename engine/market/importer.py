"""Candles from a file (CSV or Parquet) into the store, cleaned exactly as an exchange's pages are
(engine.market.clean: off-grid, forming, non-positive, high below low... rejected or repaired,
duplicates dropped) and ingested with their pyramid, a chunk per transaction with progress.

The file's columns are found by name, case-insensitive: a time column (`ts` in epoch milliseconds
or seconds, or `time`/`timestamp`/`date`/`datetime` as ISO text or epoch numbers; naive times are
UTC), then open, high, low, close and volume (volume may be missing: 0). The project's own exports
(time, ts, open, ...) and TradingView's chart exports (time in epoch seconds) both read as they are.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from db.models import Series
from engine.common.precision import plural
from engine.common.timeframes import tf_ms
from engine.market.candles import Progress, get_or_create_series
from engine.market.clean import clean_candles
from engine.market.rollups import ingest_candles
from engine.runtime import Runtime

IMPORT_FORMATS = (".csv", ".parquet")
CHUNK = 50_000
_TIME_NAMES = ("ts", "time", "timestamp", "date", "datetime", "open_time")
_PRICES = ("open", "high", "low", "close")
_SECONDS_BELOW = 10**11  # an epoch number below this is seconds (10^11 ms is 1973; 10^11 s is year 5138)


class CandleFileError(ValueError):
    """A file that cannot be read as candles, with a message for people."""


@dataclass(frozen=True)
class ImportResult:
    series_id: int
    read: int
    stored: int
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> rows rejected
    repaired: int = 0  # high/low widened over a rounding artefact
    dropped: int = 0  # duplicates and candles still forming

    def summary(self) -> str:
        """ "43,200 candles stored of 43,210 read; 10 rejected (off_grid 10)"."""
        said = f"{plural(self.stored, 'candle')} stored of {self.read:,} read"
        if self.rejected:
            reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(self.rejected.items()))
            said += f"; {sum(self.rejected.values()):,} rejected ({reasons})"
        if self.repaired:
            said += f"; {self.repaired:,} repaired"
        if self.dropped:
            said += f"; {self.dropped:,} dropped (duplicates or still forming)"
        return said


def read_candle_file(source: Path | bytes, suffix: str) -> np.ndarray:
    """The file's candles as an (n, 6) float array (ts ms, open, high, low, close, volume), in
    file order; CandleFileError when the format or the columns are wrong."""
    suffix = suffix.lower()
    if suffix not in IMPORT_FORMATS:
        raise CandleFileError(f"import a .csv or .parquet file, not {suffix or 'a file without extension'}")
    data = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        frame = pd.read_csv(data) if suffix == ".csv" else pd.read_parquet(data)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise CandleFileError(f"the file cannot be read as {suffix[1:].upper()}: {exc}") from exc
    columns = {str(name).strip().lower(): name for name in frame.columns}
    stamp = next((columns[n] for n in _TIME_NAMES if n in columns), None)
    missing = [name for name in _PRICES if name not in columns]
    if stamp is None or missing:
        wanted = ", ".join((["a time column (ts, time, timestamp or date)"] if stamp is None else []) + missing)
        raise CandleFileError(f"the file has no {wanted}; its columns are {', '.join(map(str, frame.columns))}")
    out = np.empty((len(frame), 6), dtype="float64")
    out[:, 0] = _epoch_ms(frame[stamp])
    for i, name in enumerate(_PRICES, start=1):
        out[:, i] = pd.to_numeric(frame[columns[name]], errors="coerce")
    out[:, 5] = pd.to_numeric(frame[columns["volume"]], errors="coerce") if "volume" in columns else 0.0
    return out


def _epoch_ms(values: pd.Series) -> np.ndarray:
    """Epoch ms of a time column: numbers (ms, or seconds when small) or date text (naive = UTC)."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        ms = numbers.to_numpy(dtype="float64")
        return np.where(np.abs(ms) < _SECONDS_BELOW, ms * 1000, ms)
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    ms = stamps.dt.as_unit("ms").astype("int64").to_numpy(dtype="float64")  # parsed text may be in s
    return np.where(stamps.isna().to_numpy(), np.nan, ms)  # unreadable times are rejected as not_finite


def import_series(runtime: Runtime, exchange: str, symbol: str, timeframe: str) -> int:
    """The id of the series a file's candles go to, created if new (an unknown timeframe, or an
    empty exchange or symbol, is refused before anything is written)."""
    tf_ms(timeframe)
    if not exchange.strip() or not symbol.strip():
        raise CandleFileError("name the exchange and the symbol the candles are of")
    with runtime.sessions.begin() as session:
        return get_or_create_series(session, exchange.strip(), symbol.strip().upper(), timeframe).id


def import_candles(
    runtime: Runtime, series_id: int, rows: np.ndarray, progress: Progress | None = None
) -> ImportResult:
    """Clean and store `rows` (from read_candle_file) as candles of the series: a chunk per
    transaction, so a long file shows progress and a failure keeps what was stored before it."""
    with runtime.sessions() as session:
        series = session.get(Series, series_id)
        if series is None:
            raise CandleFileError(f"no stored series #{series_id}")
        timeframe = series.timeframe
    rejected: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    stored, total = 0, len(rows)
    now_ms = int(time.time() * 1000)
    with runtime.series_lock(series_id):
        for start in range(0, total, CHUNK):
            cleaned = clean_candles(rows[start : start + CHUNK], timeframe, now_ms)
            rejected.update(p.reason for p in cleaned.problems if p.action == "rejected")
            actions.update(p.action for p in cleaned.problems)
            if cleaned.rows:
                with runtime.db.begin() as conn:
                    ingest_candles(conn, series_id, timeframe, cleaned.rows)
                stored += len(cleaned.rows)
            if progress is not None:
                progress(min(start + CHUNK, total), total)
    return ImportResult(series_id, total, stored, dict(rejected), actions["repaired"], actions["dropped"])

"""Export a stored series to CSV or Parquet, streamed in chunks so years of 1m candles fit in memory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, text

from db.models import Series
from engine.common.timeframes import tf_ms

CHUNK = 200_000
EXPORT_FORMATS = (".csv", ".parquet")
_QUERY = text(
    "SELECT ts, open, high, low, close, volume FROM candles "
    "WHERE series_id = :series AND tf_ms = :tf AND ts >= :start AND ts < :end ORDER BY ts"
)


def export_series(
    conn: Connection, series: Series, timeframe: str, path: Path, start: int | None = None, end: int | None = None
) -> int:
    """Write the candles of `series` at pyramid level `timeframe` to `path` (.csv or .parquet).

    Columns: time (UTC ISO), ts (ms), open, high, low, close, volume. Returns the number of rows.
    """
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise ValueError(f"export to .csv or .parquet, not {suffix or 'no extension'}")
    params = {"series": series.id, "tf": tf_ms(timeframe), "start": start or 0, "end": end or 2**62}
    path.parent.mkdir(parents=True, exist_ok=True)
    rows, writer = 0, None
    try:
        for chunk in pd.read_sql(_QUERY, conn, params=params, chunksize=CHUNK):
            chunk.insert(0, "time", pd.to_datetime(chunk["ts"], unit="ms", utc=True))
            if suffix == ".csv":
                chunk.to_csv(path, mode="w" if rows == 0 else "a", header=rows == 0, index=False)
            else:
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                writer = writer or pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
            rows += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    if rows == 0:
        _write_empty(path, suffix)
    return rows


def _write_empty(path: Path, suffix: str) -> None:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in ("open", "high", "low", "close", "volume")})
    frame.insert(0, "ts", pd.Series(dtype="int64"))
    frame.insert(0, "time", pd.Series(dtype="datetime64[ms, UTC]"))
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)

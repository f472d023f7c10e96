"""Export a stored series to CSV or Parquet, streamed in chunks so years of 1m candles fit in memory,
or to a formatted Excel sheet (XlsxWriter, in its constant-memory mode) of at most XLSX_MAX_ROWS
rows: Excel stops at 1,048,576 and is slow to open long before that, so a longer range is refused
with a message that says so instead of a truncated file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter
from sqlalchemy import Connection, text

from db.models import Series
from engine.common.timeframes import tf_ms

CHUNK = 200_000
EXPORT_FORMATS = (".csv", ".parquet", ".xlsx")
XLSX_MAX_ROWS = 100_000
_COLUMNS = ("time", "ts", "open", "high", "low", "close", "volume")
_COUNT = text("SELECT COUNT(*) FROM candles WHERE series_id = :series AND tf_ms = :tf AND ts >= :start AND ts < :end")
_QUERY = text(
    "SELECT ts, open, high, low, close, volume FROM candles "
    "WHERE series_id = :series AND tf_ms = :tf AND ts >= :start AND ts < :end ORDER BY ts"
)


def export_series(
    conn: Connection, series: Series, timeframe: str, path: Path, start: int | None = None, end: int | None = None
) -> int:
    """Write the candles of `series` at pyramid level `timeframe` to `path` (.csv, .parquet or .xlsx).

    Columns: time (UTC ISO), ts (ms), open, high, low, close, volume. Returns the number of rows.
    ExportTooLargeError for an .xlsx of more than XLSX_MAX_ROWS rows (nothing is written).
    """
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise ValueError(f"export to .csv, .parquet or .xlsx, not {suffix or 'no extension'}")
    params = {"series": series.id, "tf": tf_ms(timeframe), "start": start or 0, "end": end or 2**62}
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        return _export_xlsx(conn, params, path, f"{series.symbol} {timeframe}")
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


class ExportTooLargeError(ValueError):
    """The range holds more rows than the format should carry."""


def _export_xlsx(conn: Connection, params: dict[str, int], path: Path, title: str) -> int:
    rows = conn.execute(_COUNT, params).scalar_one()
    if rows > XLSX_MAX_ROWS:
        raise ExportTooLargeError(
            f"this range holds {rows:,} candles; an Excel file takes at most {XLSX_MAX_ROWS:,}: "
            "choose a shorter range, a coarser timeframe, or CSV or Parquet"
        )
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        sheet = book.add_worksheet(title.replace("/", "-")[:31])
        bold, stamp = book.add_format({"bold": True}), book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        sheet.write_row(0, 0, ("time (UTC)", *_COLUMNS[1:]), bold)
        sheet.set_column(0, 0, 17)
        sheet.set_column(1, 1, 15)
        sheet.set_column(2, 6, 14)
        sheet.freeze_panes(1, 0)
        line = 1
        for ts, *values in conn.execute(_QUERY, params):
            sheet.write_datetime(line, 0, pd.Timestamp(ts, unit="ms").to_pydatetime(), stamp)
            sheet.write_number(line, 1, ts)
            sheet.write_row(line, 2, values)
            line += 1
    finally:
        book.close()
    return rows


def export_bytes(
    conn: Connection, series: Series, timeframe: str, suffix: str, start: int | None = None, end: int | None = None
) -> tuple[bytes, int]:
    """`export_series` into memory, for a download: (the file's bytes, rows)."""
    with tempfile.TemporaryDirectory(prefix="tradeblock-export-") as folder:
        path = Path(folder) / f"export{suffix}"
        rows = export_series(conn, series, timeframe, path, start, end)
        return path.read_bytes(), rows


def _write_empty(path: Path, suffix: str) -> None:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in ("open", "high", "low", "close", "volume")})
    frame.insert(0, "ts", pd.Series(dtype="int64"))
    frame.insert(0, "time", pd.Series(dtype="datetime64[ms, UTC]"))
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)

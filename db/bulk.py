"""Bulk candle writes: idempotent upserts by the million, inside the caller's transaction.

PostgreSQL: the rows are packed into PostgreSQL's binary COPY format with numpy (one buffer, no
per-row Python work). When the level holds nothing yet in the rows' time range they are COPYed
straight into `candles`; otherwise they go to a session-local staging table and are merged with one
`INSERT ... SELECT ... ON CONFLICT DO UPDATE`, after an anti-join has dropped the rows already
stored unchanged (far cheaper than letting ON CONFLICT find them one by one). SQLite: one
`executemany` of the same upsert. Either way an identical row is never rewritten, and the returned
count is what really changed.

This module belongs to `db/` and so imports nothing from the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
from psycopg import errors as pg_errors
from sqlalchemy import Connection, text

VALUE_COLUMNS = ("open", "high", "low", "close", "volume")
CandleRows = Sequence[Sequence[Any]] | np.ndarray
_COLS = ", ".join(VALUE_COLUMNS)
_STAGE = "candle_stage"
_SQLITE_ROWS_PER_STATEMENT = 64
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_COPY_TRAILER = b"\xff\xff"
_UPSERT_TAIL = (
    "ON CONFLICT (series_id, tf_ms, ts) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in VALUE_COLUMNS)
    + " WHERE "
    + " OR ".join(f"candles.{c} IS DISTINCT FROM excluded.{c}" for c in VALUE_COLUMNS)
)
_SAME_VALUES = " AND ".join(f"c.{col} IS NOT DISTINCT FROM s.{col}" for col in VALUE_COLUMNS)


def upsert_candles(conn: Connection, series_id: int, tf_ms: int, rows: CandleRows) -> int:
    """Insert or update `rows` (ts, open, high, low, close, volume) of one series level.

    `rows` is a sequence of 6-tuples or an (n, 6) float array. Runs in the caller's transaction. A ts
    given twice keeps the last row. Returns the number of rows inserted or changed (identical rows
    are left alone and not counted).
    """
    if len(rows) == 0:
        return 0
    if conn.dialect.name == "postgresql":
        return _upsert_postgres(conn, series_id, tf_ms, as_candle_array(rows))
    return _upsert_sqlite(conn, series_id, tf_ms, rows)


def as_candle_array(rows: CandleRows) -> np.ndarray:
    """Rows as an (n, 6) float array, sorted by ts, the last of each duplicated ts kept."""
    arr = np.asarray(rows, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 6:
        raise ValueError(f"candle rows must have 6 fields (ts, open, high, low, close, volume), got shape {arr.shape}")
    ts = arr[:, 0]
    if len(ts) > 1 and not np.all(ts[1:] > ts[:-1]):
        # Unique on the reversed rows finds each ts's last occurrence (and sorts by ts).
        _, first_in_reversed = np.unique(ts[::-1], return_index=True)
        arr = arr[len(ts) - 1 - first_in_reversed]
    return arr


def copy_payload(arr: np.ndarray, key: tuple[int, int] | None = None) -> np.ndarray:
    """The tuples of a binary COPY of an (n, 6) candle array, as one flat uint8 buffer.

    Columns: ts bigint then open..volume double precision; with `key` = (series_id, tf_ms) they are
    preceded by series_id integer and tf_ms bigint. Every tuple has the same layout, so it is a
    numpy record: a field count, then (byte length, big-endian value) per field.
    """
    formats = ([">i4", ">i8"] if key else []) + [">i8"] + [">f8"] * len(VALUE_COLUMNS)
    template = bytearray(len(formats).to_bytes(2, "big"))
    offsets = []
    for fmt in formats:
        size = int(fmt[-1])
        template += size.to_bytes(4, "big")
        offsets.append(len(template))
        template += bytes(size)
    names = [f"f{i}" for i in range(len(formats))]
    record = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": len(template)})
    packed = np.empty(len(arr), record)
    # Field count and lengths come from the template; the values are overwritten below.
    packed.view(np.uint8).reshape(len(arr), len(template))[:] = np.frombuffer(bytes(template), np.uint8)
    values = [*key] if key else []
    values += [arr[:, 0].astype(np.int64), *(arr[:, i] for i in range(1, 6))]
    for name, value in zip(names, values, strict=True):
        packed[name] = value
    return packed.view(np.uint8)


def _copy(cursor: Any, statement: str, payload: np.ndarray) -> None:
    with cursor.copy(statement) as copy:
        copy.write(_COPY_HEADER)
        copy.write(memoryview(payload))
        copy.write(_COPY_TRAILER)


def _range_is_empty(conn: Connection, series_id: int, tf_ms: int, first: int, last: int) -> bool:
    found = conn.execute(
        text("SELECT 1 FROM candles WHERE series_id = :sid AND tf_ms = :tf AND ts BETWEEN :a AND :b LIMIT 1"),
        {"sid": series_id, "tf": tf_ms, "a": first, "b": last},
    ).first()
    return found is None


def _upsert_postgres(conn: Connection, series_id: int, tf_ms: int, arr: np.ndarray) -> int:
    first, last = int(arr[0, 0]), int(arr[-1, 0])
    if _range_is_empty(conn, series_id, tf_ms, first, last):
        try:
            # A savepoint, because a concurrent writer may have filled the range since the check.
            with conn.begin_nested():
                _copy_into_candles(conn, series_id, tf_ms, arr)
            return len(arr)
        except pg_errors.UniqueViolation:
            pass
    return _merge_through_stage(conn, series_id, tf_ms, arr, first, last)


def _copy_into_candles(conn: Connection, series_id: int, tf_ms: int, arr: np.ndarray) -> None:
    with conn.connection.driver_connection.cursor() as cursor:
        statement = f"COPY candles (series_id, tf_ms, ts, {_COLS}) FROM STDIN (FORMAT BINARY)"
        _copy(cursor, statement, copy_payload(arr, (series_id, tf_ms)))


def _merge_through_stage(conn: Connection, series_id: int, tf_ms: int, arr: np.ndarray, first: int, last: int) -> int:
    with conn.connection.driver_connection.cursor() as cursor:
        # Created once per database session and emptied at every commit; truncated here too in
        # case two upserts share a transaction.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (ts bigint, open float8, high float8, low float8,"
            " close float8, volume float8) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {_STAGE}")
        _copy(cursor, f"COPY {_STAGE} (ts, {_COLS}) FROM STDIN (FORMAT BINARY)", copy_payload(arr))
        cursor.execute(f"ANALYZE {_STAGE}")  # lets the planner hash-join a big stage instead of looping
        cursor.execute(
            f"INSERT INTO candles (series_id, tf_ms, ts, {_COLS}) "
            f"SELECT %(sid)s, %(tf)s, s.ts, {', '.join(f's.{c}' for c in VALUE_COLUMNS)} FROM {_STAGE} s "
            "WHERE NOT EXISTS (SELECT 1 FROM candles c WHERE c.series_id = %(sid)s AND c.tf_ms = %(tf)s "
            f"AND c.ts BETWEEN %(first)s AND %(last)s AND c.ts = s.ts AND {_SAME_VALUES}) "
            f"ORDER BY s.ts {_UPSERT_TAIL}",
            {"sid": series_id, "tf": tf_ms, "first": first, "last": last},
        )
        return max(cursor.rowcount, 0)


def _upsert_sqlite(conn: Connection, series_id: int, tf_ms: int, rows: CandleRows) -> int:
    # Many rows per statement: the per-statement cost of sqlite3 dominates one-row inserts, and
    # SQLite applies the rows of one statement in order, so later duplicates still win.
    flat = list(chain.from_iterable(rows.tolist() if isinstance(rows, np.ndarray) else rows))
    if len(flat) != 6 * len(rows):
        raise ValueError("candle rows must have 6 fields (ts, open, high, low, close, volume)")
    width = 6 * _SQLITE_ROWS_PER_STATEMENT
    full = len(flat) - len(flat) % width
    changed = 0
    if full:
        chunks = [tuple(flat[i : i + width]) for i in range(0, full, width)]
        changed += conn.exec_driver_sql(_sqlite_upsert(series_id, tf_ms, _SQLITE_ROWS_PER_STATEMENT), chunks).rowcount
    if full < len(flat):
        rest = tuple(flat[full:])
        changed += conn.exec_driver_sql(_sqlite_upsert(series_id, tf_ms, len(rest) // 6), rest).rowcount
    return max(changed, 0)


def _sqlite_upsert(series_id: int, tf_ms: int, count: int) -> str:
    row = f"({int(series_id)}, {int(tf_ms)}, ?, ?, ?, ?, ?, ?)"  # ints we built ourselves: safe to inline
    return f"INSERT INTO candles (series_id, tf_ms, ts, {_COLS}) VALUES {', '.join([row] * count)} {_UPSERT_TAIL}"


def candle_range(conn: Connection, series_id: int, tf_ms: int) -> tuple[int, int] | None:
    """(first ts, last ts) stored for a series level, or None when it holds no candle."""
    # Two subqueries, not MIN and MAX in one SELECT: SQLite answers a lone MIN or MAX from the
    # primary key's end in microseconds, but with both it scans the level's every row (30 days of
    # 1m: ~10 ms, on every chart draw).
    level = "FROM candles WHERE series_id = :sid AND tf_ms = :tf"
    row = conn.execute(
        text(f"SELECT (SELECT MIN(ts) {level}), (SELECT MAX(ts) {level})"),
        {"sid": series_id, "tf": tf_ms},
    ).one()
    return None if row[0] is None else (int(row[0]), int(row[1]))


def delete_candles(conn: Connection, series_id: int, tf_ms: int, start: int, end: int) -> int:
    """Delete a series level's candles with start <= ts < end; returns how many went."""
    result = conn.execute(
        text("DELETE FROM candles WHERE series_id = :sid AND tf_ms = :tf AND ts >= :start AND ts < :end"),
        {"sid": series_id, "tf": tf_ms, "start": start, "end": end},
    )
    return max(result.rowcount, 0)

"""db.bulk on the real database: idempotent upserts (COPY on PostgreSQL), ranges, deletes."""

from __future__ import annotations

import numpy as np
import pytest

from db import bulk
from db.bulk import as_candle_array, candle_range, copy_payload, delete_candles, upsert_candles
from db.session import is_postgres
from engine.runtime import Runtime
from tests.helpers.candles import MIN, T0, candles, new_series, stored


def test_same_rows_twice_are_stored_once_and_not_rewritten(runtime: Runtime) -> None:
    sid = new_series(runtime)
    rows = candles(500)
    with runtime.db.begin() as conn:
        assert upsert_candles(conn, sid, MIN, rows) == 500
    with runtime.db.begin() as conn:
        assert upsert_candles(conn, sid, MIN, rows) == 0
    assert stored(runtime.db, sid, MIN) == rows


def test_a_changed_row_is_updated_and_counted(runtime: Runtime) -> None:
    sid = new_series(runtime)
    rows = candles(100)
    with runtime.db.begin() as conn:
        upsert_candles(conn, sid, MIN, rows)
    changed = list(rows)
    changed[40] = (rows[40][0], 1.0, 2.0, 0.5, 1.5, 7.0)
    with runtime.db.begin() as conn:
        assert upsert_candles(conn, sid, MIN, changed) == 1
    assert stored(runtime.db, sid, MIN) == changed


def test_new_and_overlapping_rows_in_one_call(runtime: Runtime) -> None:
    sid = new_series(runtime)
    rows = candles(300)
    with runtime.db.begin() as conn:
        upsert_candles(conn, sid, MIN, rows[:200])
    with runtime.db.begin() as conn:
        assert upsert_candles(conn, sid, MIN, rows[100:]) == 100
    assert stored(runtime.db, sid, MIN) == rows


def test_duplicates_in_one_batch_keep_the_last(runtime: Runtime) -> None:
    sid = new_series(runtime)
    rows = candles(20)
    later = (rows[3][0], 5.0, 6.0, 4.0, 5.5, 1.0)
    with runtime.db.begin() as conn:
        upsert_candles(conn, sid, MIN, [*rows, later])
    assert stored(runtime.db, sid, MIN)[3] == later
    # Also when the range is already stored (PostgreSQL's staging path).
    again = (rows[3][0], 9.0, 9.5, 8.5, 9.0, 2.0)
    with runtime.db.begin() as conn:
        upsert_candles(conn, sid, MIN, [again, rows[4], again])
    assert stored(runtime.db, sid, MIN)[3] == again


def test_large_batches_match_on_every_database_and_use_copy_on_postgres(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = new_series(runtime)
    rows = candles(25_000)
    copies: list[str] = []
    if is_postgres(runtime.db):
        import psycopg

        real_copy = psycopg.Cursor.copy

        def recording_copy(self, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
            copies.append(str(statement))
            return real_copy(self, statement, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "copy", recording_copy)
    with runtime.db.begin() as conn:
        assert upsert_candles(conn, sid, MIN, rows) == 25_000
        # A second batch over the same range: 10 changed, the rest identical.
        changed = [(ts, o * 1.01, h * 1.01, lo * 1.01, c * 1.01, v) for ts, o, h, lo, c, v in rows[:10]]
        assert upsert_candles(conn, sid, MIN, changed + rows[10:20_000]) == 10
    assert stored(runtime.db, sid, MIN) == changed + rows[10:]
    if is_postgres(runtime.db):
        # New rows straight into candles, the overlapping batch through the staging table.
        assert [c.split(" (")[0] for c in copies] == ["COPY candles", "COPY candle_stage"]


def test_a_range_filled_behind_our_back_falls_back_to_the_merge(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if another writer stored the rows between the emptiness check and the COPY.
    sid = new_series(runtime)
    rows = candles(40)
    with runtime.db.begin() as conn:
        upsert_candles(conn, sid, MIN, rows[:30])
    monkeypatch.setattr(bulk, "_range_is_empty", lambda *args: True)
    with runtime.db.begin() as conn:
        assert upsert_candles(conn, sid, MIN, rows) == 10
        assert candle_range(conn, sid, MIN) == (T0, T0 + 39 * MIN)  # the transaction is still usable
    assert stored(runtime.db, sid, MIN) == rows


def test_numpy_arrays_are_accepted(runtime: Runtime) -> None:
    sid = new_series(runtime)
    rows = candles(50)
    with runtime.db.begin() as conn:
        assert upsert_candles(conn, sid, MIN, np.array(rows, dtype=np.float64)) == 50
    assert stored(runtime.db, sid, MIN) == rows


def test_upsert_joins_the_callers_transaction(runtime: Runtime) -> None:
    sid = new_series(runtime)
    conn = runtime.db.connect()
    transaction = conn.begin()
    upsert_candles(conn, sid, MIN, candles(30))
    transaction.rollback()
    conn.close()
    assert stored(runtime.db, sid, MIN) == []


def test_levels_and_series_are_kept_apart(runtime: Runtime) -> None:
    a, b = new_series(runtime, "BTC/USDT"), new_series(runtime, "ETH/USDT")
    rows = candles(10)
    with runtime.db.begin() as conn:
        upsert_candles(conn, a, MIN, rows)
        upsert_candles(conn, a, 5 * MIN, rows[:2])
        upsert_candles(conn, b, MIN, rows[:3])
        assert candle_range(conn, a, MIN) == (T0, T0 + 9 * MIN)
        assert candle_range(conn, a, 5 * MIN) == (T0, T0 + MIN)
        assert candle_range(conn, b, 5 * MIN) is None
        assert delete_candles(conn, a, MIN, T0 + 2 * MIN, T0 + 5 * MIN) == 3
        assert candle_range(conn, b, MIN) == (T0, T0 + 2 * MIN)
    assert [r[0] for r in stored(runtime.db, a, MIN)] == [T0 + i * MIN for i in (0, 1, 5, 6, 7, 8, 9)]


def test_empty_and_malformed_input() -> None:
    assert as_candle_array([(3, 1, 1, 1, 1, 1), (1, 2, 2, 2, 2, 2), (3, 9, 9, 9, 9, 9)])[:, :2].tolist() == [
        [1, 2],
        [3, 9],
    ]
    with pytest.raises(ValueError, match="6 fields"):
        as_candle_array([(1, 2, 3)])


def test_copy_payload_layout() -> None:
    payload = copy_payload(np.array([[T0, 1.5, 2.0, 1.0, 1.25, 10.0]]), key=(7, MIN)).tobytes()
    assert payload[:2] == (8).to_bytes(2, "big")  # field count
    assert payload[2:10] == (4).to_bytes(4, "big") + (7).to_bytes(4, "big")  # length, series_id
    assert payload[10:22] == (8).to_bytes(4, "big") + MIN.to_bytes(8, "big")  # length, tf_ms
    assert payload[26:34] == T0.to_bytes(8, "big")
    assert np.frombuffer(payload[38:46], ">f8")[0] == 1.5
    assert len(payload) == 2 + 8 * 4 + 4 + 7 * 8

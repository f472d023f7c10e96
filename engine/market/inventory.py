"""The data inventory: what the store holds per series and pyramid level (first and last candle,
rows, missing candles, exchange holes), with its backfill state and latest data job.

Counting candles to answer that would scan millions of rows, so every write keeps a small summary
row per series level (`candle_levels`): `track_level` wraps each write to a level (ingest at the
series' own level, each rollup level, gap repair, which ingests too) and adds the rows the write
added in its own range, counted before and after with two index range counts. Missing candles then
follow from the summary: the grid points between the first and the last candle less the rows, less
the candles of known exchange holes (`data_holes`). Which candles are missing is
engine.market.gaps's job (`series_detail` asks it for one series).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, TextClause, text

from engine.common.timeframes import PYRAMID, bucket_offset, levels_above, tf_ms
from engine.market.gaps import Gap, find_gaps, known_holes

_COUNT_SQL = text("SELECT COUNT(*) FROM candles WHERE series_id = :sid AND tf_ms = :tf AND ts >= :lo AND ts < :hi")
_SPAN_SQL = text(
    "SELECT COUNT(*), MIN(ts), MAX(ts) FROM candles WHERE series_id = :sid AND tf_ms = :tf AND ts >= :lo AND ts < :hi"
)
# A new level starts with what the write stored; an existing one widens its span and adds the rows.
_NOTE_SQL = text(
    """
    INSERT INTO candle_levels (series_id, tf_ms, first_ts, last_ts, rows, updated_at)
    VALUES (:sid, :tf, :first, :last, :after, :now)
    ON CONFLICT (series_id, tf_ms) DO UPDATE SET
        first_ts = CASE WHEN excluded.first_ts < candle_levels.first_ts THEN excluded.first_ts
                        ELSE candle_levels.first_ts END,
        last_ts = CASE WHEN excluded.last_ts > candle_levels.last_ts THEN excluded.last_ts
                       ELSE candle_levels.last_ts END,
        rows = candle_levels.rows + :delta,
        updated_at = excluded.updated_at
    """
)
_INVENTORY_SQL = """
    SELECT s.id, s.exchange, s.symbol, s.timeframe, s.backfill_status, s.backfill_done, s.backfill_total,
           s.backfill_error, s.last_error, l.tf_ms, l.first_ts, l.last_ts, l.rows
    FROM series s LEFT JOIN candle_levels l ON l.series_id = s.id {where}
    ORDER BY s.exchange, s.symbol, s.id, l.tf_ms
"""
_HOLES_SQL = "SELECT series_id, start_ts, end_ts FROM data_holes {where} ORDER BY series_id, start_ts"
_JOBS_SQL = (
    "SELECT id, series_id, kind, status, done, total, message, started_at, finished_at FROM data_jobs "
    "WHERE id IN (SELECT MAX(id) FROM data_jobs {where} GROUP BY series_id)"
)
_REBUILD_SQL = text(
    "INSERT INTO candle_levels (series_id, tf_ms, first_ts, last_ts, rows, updated_at) "
    "SELECT series_id, tf_ms, MIN(ts), MAX(ts), COUNT(*), :now FROM candles WHERE series_id = :sid "
    "GROUP BY series_id, tf_ms"
)


@contextmanager
def track_level(conn: Connection, series_id: int, step: int, lo: int, hi: int) -> Iterator[None]:
    """Keep the summary of level `step` right across a write confined to [lo, hi) in the body.

    Writes only add or change candles (never delete), so the rows added are the range's count
    after less its count before, and the span can only widen to the range's first and last.
    """
    params = {"sid": series_id, "tf": step, "lo": lo, "hi": hi}
    before = conn.execute(_COUNT_SQL, params).scalar_one()
    yield
    after, first, last = conn.execute(_SPAN_SQL, params).one()
    if after == before:
        return  # nothing added: the span cannot have moved either
    conn.execute(
        _NOTE_SQL,
        {**params, "first": first, "last": last, "after": after, "delta": after - before, "now": datetime.now(UTC)},
    )


def rebuild_levels(conn: Connection, series_id: int) -> None:
    """Recount a series' summary from its candles (for data written around the tracked paths,
    e.g. straight through db.bulk)."""
    conn.execute(text("DELETE FROM candle_levels WHERE series_id = :sid"), {"sid": series_id})
    conn.execute(_REBUILD_SQL, {"sid": series_id, "now": datetime.now(UTC)})


@dataclass(frozen=True)
class LevelInventory:
    timeframe: str
    first_ts: int
    last_ts: int  # open time of the newest candle
    rows: int
    missing: int  # grid points between first and last with no candle, known holes left out
    in_holes: int  # grid points inside known exchange holes (never refetched)


@dataclass(frozen=True)
class JobView:
    job_id: int
    kind: str  # repair, backfill
    status: str  # running, done, failed
    done: int
    total: int
    message: str | None
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class SeriesInventory:
    series_id: int
    exchange: str
    symbol: str
    timeframe: str
    levels: tuple[LevelInventory, ...]  # finest first; only levels holding candles
    holes: int  # known exchange holes
    backfill_status: str
    backfill_done: int
    backfill_total: int
    backfill_error: str | None
    last_error: str | None
    job: JobView | None  # the latest repair/backfill started from the data page

    @property
    def own(self) -> LevelInventory | None:
        """The series' own level (its timeframe), the one fetched from the exchange."""
        return next((level for level in self.levels if level.timeframe == self.timeframe), None)


def level_name(series_timeframe: str, step: int) -> str:
    """The timeframe string of a stored level of a series (its own timeframe or a pyramid level)."""
    for name in (series_timeframe, *levels_above(series_timeframe), *PYRAMID):
        if tf_ms(name) == step:
            return name
    return f"{step // 60_000}m"


def _covered(holes: list[tuple[int, int]], timeframe: str, first: int, last: int) -> int:
    """Grid points of `timeframe` in [first, last] whose whole bucket lies inside a known hole."""
    step, offset = tf_ms(timeframe), bucket_offset(timeframe)
    total, reach = 0, first
    for start, end in holes:  # sorted by start; overlapping holes are counted once
        start, end = max(start, reach, first), min(end, last + step)
        lo = -((offset - start) // step) * step + offset  # first bucket starting at or after `start`
        hi = (end - offset) // step * step + offset  # buckets must end by `end`
        if hi > lo:
            total += (hi - lo) // step
            reach = hi
    return total


def _level(timeframe: str, first: int, last: int, rows: int, holes: list[tuple[int, int]]) -> LevelInventory:
    in_holes = _covered(holes, timeframe, first, last) if holes else 0
    grid = (last - first) // tf_ms(timeframe) + 1
    return LevelInventory(timeframe, first, last, rows, max(0, grid - rows - in_holes), in_holes)


def _job(row: tuple) -> JobView:
    started, finished = row[7], row[8]
    return JobView(row[0], row[2], row[3], row[4], row[5], row[6], aware(started), aware(finished))


def aware(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):  # SQLite hands back text from raw SQL
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _query(sql: str, column: str, series_id: int | None) -> tuple[TextClause, dict[str, int]]:
    if series_id is None:
        return text(sql.format(where="")), {}
    return text(sql.format(where=f"WHERE {column} = :sid")), {"sid": series_id}


def inventory(conn: Connection, series_id: int | None = None) -> list[SeriesInventory]:
    """Every stored series (or the one `series_id`) with its levels, holes, backfill state and
    latest job: three queries over the summary tables, whatever the number of candles."""
    holes: dict[int, list[tuple[int, int]]] = {}
    for sid, start, end in conn.execute(*_query(_HOLES_SQL, "series_id", series_id)):
        holes.setdefault(sid, []).append((int(start), int(end)))
    jobs = {row[1]: _job(tuple(row)) for row in conn.execute(*_query(_JOBS_SQL, "series_id", series_id))}
    found: dict[int, tuple[tuple, list[LevelInventory]]] = {}
    for row in conn.execute(*_query(_INVENTORY_SQL, "s.id", series_id)):
        sid, timeframe = row[0], row[3]
        _head, levels = found.setdefault(sid, (tuple(row[:9]), []))
        if row[9] is not None:
            name = level_name(timeframe, int(row[9]))
            levels.append(_level(name, int(row[10]), int(row[11]), int(row[12]), holes.get(sid, [])))
    return [
        SeriesInventory(
            series_id=sid,
            exchange=head[1],
            symbol=head[2],
            timeframe=head[3],
            levels=tuple(levels),
            holes=len(holes.get(sid, [])),
            backfill_status=str(head[4]),
            backfill_done=int(head[5] or 0),
            backfill_total=int(head[6] or 0),
            backfill_error=head[7],
            last_error=head[8],
            job=jobs.get(sid),
        )
        for sid, (head, levels) in found.items()
    ]


@dataclass(frozen=True)
class SeriesDetail:
    series: SeriesInventory
    gaps: tuple[Gap, ...]  # of the own level, oldest first, at most `gap_limit`
    gaps_total: int
    holes: tuple[tuple[int, int], ...]  # known exchange holes [start, end)


def series_detail(conn: Connection, series_id: int, gap_limit: int = 50) -> SeriesDetail | None:
    """One series' inventory with its gaps (engine.market.gaps) and known holes; None if unknown."""
    found = inventory(conn, series_id)
    if not found:
        return None
    entry = found[0]
    gaps = find_gaps(conn, series_id, entry.timeframe)
    return SeriesDetail(entry, tuple(gaps[:gap_limit]), len(gaps), tuple(known_holes(conn, series_id)))

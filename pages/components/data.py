"""Components of the data page (pages/data.py): the inventory grid's columns and rows, one series'
detail (its levels, gaps and exchange holes), the latest job's progress, and reading the download
form.

Layout only: the figures come from engine.market.api (data_inventory, data_detail). Times are
shown in the user's timezone, counts with thousands separators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from engine.common.precision import plural
from engine.market.api import EXPORT_FORMATS, JobView, LevelInventory, SeriesDetail, SeriesInventory
from engine.portfolio.api import zone

FORMAT_LABELS = {".csv": "CSV", ".parquet": "Parquet", ".xlsx": "Excel (xlsx)"}
_NUMBER = {"type": "rightAligned", "cellClass": "font-monospace"}


def columns(tz: str) -> list[dict[str, Any]]:
    """The grid's columns; the time columns name the user's timezone."""
    return [
        {"field": "exchange", "headerName": "Exchange", "width": 110, "filter": True},
        {"field": "symbol", "headerName": "Symbol", "width": 130, "filter": True},
        {"field": "timeframe", "headerName": "TF", "width": 60},
        {"field": "levels", "headerName": "Levels", "width": 120},
        {"field": "first", "headerName": f"First ({tz})", "width": 150},
        {"field": "last", "headerName": f"Last ({tz})", "width": 150},
        {"field": "rows", "headerName": "Candles", "width": 100, **_NUMBER},
        {"field": "missing", "headerName": "Missing", "width": 90, **_NUMBER},
        {"field": "holes", "headerName": "Holes", "width": 80, **_NUMBER},
        {"field": "backfill", "headerName": "Backfill", "width": 110},
        {"field": "job", "headerName": "Latest job", "flex": 1, "minWidth": 180, "tooltipField": "job"},
    ]


def day_start_ms(day: date, tz: str) -> int:
    """When `day` starts in the user's zone, as epoch ms."""
    return int(datetime.combine(day, time(), zone(tz)).timestamp() * 1000)


def moment(ms: int, tz: str) -> str:
    """An epoch-ms time in the user's zone, to the minute: "2026-11-01 14:05"."""
    return f"{datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone(tz)):%Y-%m-%d %H:%M}"


def count(value: int) -> str:
    return f"{value:,}"


def backfill_text(entry: SeriesInventory) -> str:
    """The series' own backfill (from the watchlist): "done", "running 40 %", "failed"."""
    if entry.backfill_status == "running" and entry.backfill_total:
        return f"running {min(100, 100 * entry.backfill_done // entry.backfill_total)} %"
    return entry.backfill_status


def job_text(job: JobView | None, tz: str) -> str:
    """The latest data job in a line: "repair done 2026-11-01 14:05: 3 gaps: 30 candles filled, 0 holes"."""
    if job is None:
        return "no job yet"
    if job.status == "running":
        share = f" {job_percent(job)} %" if job.total else ""
        return f"{job.kind} running{share}"
    when = moment(int(job.finished_at.timestamp() * 1000), tz) if job.finished_at else ""
    return f"{job.kind} {job.status} {when}: {job.message or ''}".rstrip(": ")


def job_percent(job: JobView) -> int:
    if job.status != "running":
        return 100
    return min(100, 100 * job.done // job.total) if job.total else 0


def levels_text(levels: Sequence[LevelInventory]) -> str:
    """The pyramid in a few characters: "1m–1w (10)", "1m" for one level, "—" for none."""
    if len(levels) > 1:
        return f"{levels[0].timeframe}–{levels[-1].timeframe} ({len(levels)})"
    return levels[0].timeframe if levels else "—"


def grid_row(entry: SeriesInventory, tz: str) -> dict[str, Any]:
    """One series as a grid row; a series without candles yet shows dashes."""
    own = entry.own
    return {
        "row_id": str(entry.series_id),
        "series_id": entry.series_id,
        "exchange": entry.exchange,
        "symbol": entry.symbol,
        "timeframe": entry.timeframe,
        "levels": levels_text(entry.levels),
        "first": moment(own.first_ts, tz) if own else "—",
        "last": moment(own.last_ts, tz) if own else "—",
        "rows": count(own.rows) if own else "0",
        "missing": count(own.missing) if own else "—",
        "holes": count(entry.holes),
        "backfill": backfill_text(entry),
        "job": job_text(entry.job, tz),
    }


def summary(entries: Sequence[SeriesInventory]) -> str:
    """The page's headline: "3 series · 129,600 candles · 12 missing" (the series' own levels)."""
    rows = sum(entry.own.rows for entry in entries if entry.own)
    missing = sum(entry.own.missing for entry in entries if entry.own)
    return f"{plural(len(entries), 'series', 'series')} · {plural(rows, 'candle')} · {count(missing)} missing"


def series_name(entry: SeriesInventory) -> str:
    return f"{entry.exchange} {entry.symbol} {entry.timeframe}"


def _level_row(level: LevelInventory, tz: str) -> html.Tr:
    cells = (level.timeframe, moment(level.first_ts, tz), moment(level.last_ts, tz),
             count(level.rows), count(level.missing), count(level.in_holes))  # fmt: skip
    return html.Tr(
        [html.Td(cell, className="text-end font-monospace" if n >= 3 else None) for n, cell in enumerate(cells)]
    )


def levels_table(entry: SeriesInventory, tz: str) -> dbc.Table | html.P:
    if not entry.levels:
        return html.P("No candles stored yet.", className="text-body-secondary small")
    names = ("Level", f"First ({tz})", f"Last ({tz})", "Candles", "Missing", "In holes")
    head = html.Thead(html.Tr([html.Th(h, className="text-end" if n >= 3 else None) for n, h in enumerate(names)]))
    body = html.Tbody([_level_row(level, tz) for level in entry.levels])
    return dbc.Table([head, body], size="sm", striped=True, class_name="mb-2", id="dt-levels")


def _span(start_ms: int, end_ms: int, tz: str) -> str:
    return f"{moment(start_ms, tz)} – {moment(end_ms, tz)}"


def gaps_list(detail: SeriesDetail, tz: str) -> html.Div:
    """The own level's gaps (the first ones, and how many in all) and the exchange's holes."""
    if not detail.gaps:
        gaps: Any = html.P("No gaps.", className="small mb-2", id="dt-no-gaps")
    else:
        items = [html.Li(f"{_span(g.start_ts, g.end_ts, tz)} ({plural(g.missing, 'candle')})") for g in detail.gaps]
        more = detail.gaps_total - len(detail.gaps)
        tail = [html.Li(f"… and {plural(more, 'more gap')}")] if more > 0 else []
        gaps = html.Ul(items + tail, className="small mb-2", id="dt-gaps")
    holes = [html.Li(_span(start, end, tz)) for start, end in detail.holes]
    hole_note = (
        html.Ul(holes, className="small mb-0", id="dt-holes")
        if holes
        else html.P("The exchange has returned data for every range asked.", className="small mb-0 text-body-secondary")
    )
    return html.Div(
        [
            html.H3(f"Gaps ({count(detail.gaps_total)})", className="h6"),
            gaps,
            html.H3(f"Holes the exchange has no data for ({count(len(detail.holes))})", className="h6"),
            hole_note,
        ]
    )


def progress(job: JobView | None) -> tuple[int, str, str, bool]:
    """(percent, label, colour, hidden) of the progress bar of a series' latest job."""
    if job is None:
        return 0, "", "info", True
    colour = {"running": "info", "done": "success", "failed": "danger"}.get(job.status, "secondary")
    label = f"{count(job.done)} / {count(job.total)}" if job.status == "running" and job.total else job.status
    return job_percent(job), label, colour, False


def backfill_default(entry: SeriesInventory, tz: str, days: int) -> str:
    """The backfill form's first day: `days` before the first candle (or before today)."""
    own = entry.own
    first = datetime.fromtimestamp(own.first_ts / 1000, UTC).astimezone(zone(tz)).date() if own else None
    return ((first or datetime.now(zone(tz)).date()) - timedelta(days=days)).isoformat()


def level_options(entry: SeriesInventory) -> list[dict[str, str]]:
    names = [level.timeframe for level in entry.levels] or [entry.timeframe]
    return [{"label": name, "value": name} for name in names]


def format_options() -> list[dict[str, str]]:
    return [{"label": FORMAT_LABELS.get(suffix, suffix), "value": suffix} for suffix in EXPORT_FORMATS]


@dataclass(frozen=True)
class DownloadAsk:
    timeframe: str
    suffix: str
    start_ms: int | None
    end_ms: int | None  # exclusive: the day after the last day chosen


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise ValueError(f"not a day: {value!r}") from exc


def download_ask(timeframe: Any, suffix: Any, first: Any, last: Any, tz: str) -> DownloadAsk:
    """The download form read into a request; days are the user's, the last one included.
    ValueError with a message for people when it is incomplete."""
    if not isinstance(timeframe, str) or not timeframe:
        raise ValueError("choose the level to download")
    if suffix not in EXPORT_FORMATS:
        raise ValueError("choose CSV, Parquet or xlsx")
    first_day, last_day = _day(first), _day(last)
    start = day_start_ms(first_day, tz) if first_day else None
    end = day_start_ms(last_day + timedelta(days=1), tz) if last_day else None
    return DownloadAsk(timeframe, suffix, start, end)


def backfill_start(value: Any, tz: str) -> int:
    """The backfill form's day as the epoch ms it starts at, in the user's zone."""
    day = _day(value)
    if day is None:
        raise ValueError("choose the day the backfill starts from")
    return day_start_ms(day, tz)

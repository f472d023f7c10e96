"""The watchlist panel of the chart page: one row per series with its backfill progress, a button
to show it and one to remove it (pattern-matching ids carry the series id)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from db.enums import BackfillStatus
from engine.market.api import WatchEntry

SELECT = "watch-select"
REMOVE = "watch-remove"


def label(entry: WatchEntry) -> str:
    return f"{entry.symbol} · {entry.timeframe}"


def progress_bar(entry: WatchEntry, bar_id: str | None = None) -> dbc.Progress:
    percent = round(100 * entry.progress)
    return dbc.Progress(
        value=percent,
        label=f"{percent}%",
        striped=True,
        animated=True,
        class_name="mt-1",
        style={"height": "14px"},
        **({"id": bar_id} if bar_id else {}),
    )


def backfilling(entry: WatchEntry) -> bool:
    return entry.backfill_status in (BackfillStatus.IDLE, BackfillStatus.RUNNING)


def row(entry: WatchEntry, selected: bool) -> dbc.ListGroupItem:
    status: list = []
    if backfilling(entry):
        status.append(progress_bar(entry))
    elif entry.backfill_status is BackfillStatus.FAILED:
        status.append(
            html.Div(f"backfill failed: {entry.backfill_error or 'unknown error'}", className="small text-danger")
        )
    return dbc.ListGroupItem(
        [
            html.Div(
                [
                    html.Button(
                        [
                            html.Div(entry.symbol, className="fw-semibold"),
                            html.Div(f"{entry.timeframe} · {entry.exchange}", className="small text-body-secondary"),
                        ],
                        id={"type": SELECT, "series": entry.series_id},
                        className="btn btn-link p-0 text-start text-decoration-none text-reset flex-grow-1",
                        n_clicks=0,
                    ),
                    html.Button(
                        "×",
                        id={"type": REMOVE, "series": entry.series_id},
                        className="btn btn-sm btn-outline-secondary py-0 px-2",
                        title=f"Remove {label(entry)} from the watchlist",
                        n_clicks=0,
                    ),
                ],
                className="d-flex align-items-center gap-2",
            ),
            *status,
        ],
        active=selected,
        class_name="watch-row",
        id=f"watch-row-{entry.series_id}",
    )


def panel(entries: list[WatchEntry], selected_id: int | None) -> list:
    if not entries:
        return [
            html.P("Your watchlist is empty: pick a symbol above and add it.", className="text-body-secondary small")
        ]
    return [dbc.ListGroup([row(e, e.series_id == selected_id) for e in entries], flush=True)]

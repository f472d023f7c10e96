"""The data page's import card (traders and admins): a CSV or Parquet file of candles uploaded for
an exchange, symbol and timeframe the user names, read and checked at once (a file that is not
candles is refused at the upload), then cleaned and stored in the background
(engine.market.api.start_import) with its progress followed by the card's own poll. When it ends,
the page's grid is read again.

Files travel in the browser's upload; a file beyond MAX_UPLOAD_BYTES is refused by the upload
itself, and `python -m engine import` takes a file of any size.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import PurePath
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from engine.common.timeframes import PYRAMID
from engine.market import api as market
from pages.components import data as dc
from pages.components.deferred import Deferred
from web.auth import TRADERS, current_runtime, current_view, require_role

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
CALLBACKS = Deferred()  # registered by pages/data.py
POLL, JOB, VERSION = "dt-import-poll", "dt-import-job", "dt-version"


def import_card() -> dbc.Card:
    timeframes = [{"label": tf, "value": tf} for tf in PYRAMID]
    fields = dbc.Row(
        [
            dbc.Col(dbc.Input(id="dt-import-exchange", placeholder="Exchange (e.g. mydata)", size="sm"), md=3),
            dbc.Col(dbc.Input(id="dt-import-symbol", placeholder="Symbol (e.g. BTC/USDT)", size="sm"), md=3),
            dbc.Col(dbc.Select(id="dt-import-timeframe", options=timeframes, value="1m", size="sm"), md=2),
            dbc.Col(
                dcc.Upload(
                    dbc.Button("Choose a CSV or Parquet file", size="sm", color="secondary", outline=True),
                    id="dt-import-file",
                    accept=".csv,.parquet",
                    max_size=MAX_UPLOAD_BYTES,
                ),
                md="auto",
            ),
            dbc.Col(dbc.Button("Import", id="dt-import", size="sm", color="primary", n_clicks=0), md="auto"),
        ],
        class_name="g-2 align-items-center",
    )
    return dbc.Card(
        [
            dbc.CardHeader("Import candles"),
            dbc.CardBody(
                [
                    html.P(
                        "Columns by name: a time (ts in ms or s, or time/date), open, high, low, close and "
                        "optionally volume. Rows are cleaned like an exchange's; the file's name shows below.",
                        className="small text-body-secondary mb-2",
                    ),
                    fields,
                    html.Div(id="dt-import-filename", className="small mt-1"),
                    dbc.Progress(id="dt-import-progress", value=0, class_name="mt-2 d-none"),
                    html.Div(id="dt-import-message", className="mt-2"),
                    dcc.Store(id=JOB),
                    dcc.Interval(id=POLL, interval=1_000, disabled=True),
                ]
            ),
        ],
        class_name="mt-3",
        id="dt-import-card",
    )


def decode_upload(contents: Any, filename: Any) -> tuple[bytes, str]:
    """The uploaded file's bytes and suffix; ValueError with a message for people."""
    if not isinstance(contents, str) or "," not in contents or not isinstance(filename, str):
        raise ValueError("choose a file first")
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True), PurePath(filename).suffix
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the upload arrived damaged: choose the file again") from exc


def _alert(text: str, colour: str, ident: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, class_name="py-2 small", id=ident)


@CALLBACKS.callback(
    Output("dt-import-filename", "children"), Input("dt-import-file", "filename"), prevent_initial_call=True
)
@require_role(*TRADERS)
def import_file_name(filename: Any) -> str:
    return filename if isinstance(filename, str) else ""


@CALLBACKS.callback(
    Output("dt-import-message", "children"),
    Output(JOB, "data"),
    Output(POLL, "disabled"),
    Input("dt-import", "n_clicks"),
    State("dt-import-file", "contents"),
    State("dt-import-file", "filename"),
    State("dt-import-exchange", "value"),
    State("dt-import-symbol", "value"),
    State("dt-import-timeframe", "value"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def import_start(
    clicks: Any, contents: Any, filename: Any, exchange: Any, symbol: Any, timeframe: Any
) -> tuple[Any, ...]:
    if not clicks:
        return no_update, no_update, no_update
    runtime = current_runtime()
    try:
        content, suffix = decode_upload(contents, filename)
        rows = market.read_candle_file(content, suffix)
        series_id = market.import_series(runtime, str(exchange or ""), str(symbol or ""), str(timeframe or ""))
        job_id = market.start_import(runtime, current_view().id, series_id, rows)
    except ValueError as refused:  # CandleFileError, DataJobError (busy), an unknown timeframe
        return _alert(str(refused), "warning", "dt-import-refused"), no_update, no_update
    said = f"Importing {len(rows):,} rows of {filename}…"
    return _alert(said, "info", "dt-import-started"), job_id, False


@CALLBACKS.callback(
    Output("dt-import-progress", "value"),
    Output("dt-import-progress", "label"),
    Output("dt-import-progress", "class_name"),
    Output("dt-import-message", "children", allow_duplicate=True),
    Output(POLL, "disabled", allow_duplicate=True),
    Output(VERSION, "data", allow_duplicate=True),
    Input(POLL, "n_intervals"),
    State(JOB, "data"),
    State(VERSION, "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def import_follow(_tick: Any, job_id: Any, version: Any) -> tuple[Any, ...]:
    job = market.data_job(current_runtime(), job_id) if isinstance(job_id, int) else None
    if job is None:
        return 0, "", "mt-2 d-none", no_update, True, no_update
    percent, label, _colour, _hidden = dc.progress(job)
    if job.status == "running":
        return percent, label, "mt-2", no_update, False, no_update
    colour = "success" if job.status == "done" else "danger"
    outcome = _alert(f"Import {job.status}: {job.message or ''}", colour, f"dt-import-{job.status}")
    bump = (version if isinstance(version, int) else 0) + 1  # the grid lists the new candles
    return 100, job.status, "mt-2", outcome, True, bump

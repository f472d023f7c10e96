"""The backtest page's form and runs list (pure builders, no callbacks): the upload of a blocks
file, the exchange, timeframe, period and fill variant, reading those fields into a checked ask
(a bad field is a message, never a half-made run), the progress label, the parse errors as a list,
and the grid rows of the user's runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from engine.common.precision import format_money, format_number
from engine.common.timeframes import PYRAMID
from engine.replay.api import FillVariant, RowError, RunSummary

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # a blocks file is a few hundred rows; 8 MB is far beyond
MAX_SLIPPAGE_BPS = Decimal(1000)
SAMPLE_CSV = "/assets/backtest-sample.csv"
DAY_MS = 86_400_000


@dataclass(frozen=True)
class RunAsk:
    """What the form asks for, checked: the job gets exactly these (in its grant)."""

    exchange: str
    timeframe: str
    start_ms: int | None
    end_ms: int | None
    name: str | None
    trade_through: bool
    slippage_bps: str  # a Decimal as text: it travels in the grant's JSON

    def variant(self) -> FillVariant:
        return FillVariant(limit_requires_trade_through=self.trade_through, slippage_bps=Decimal(self.slippage_bps))

    def as_params(self) -> dict[str, Any]:
        return dict(self.__dict__)


def form(exchanges: list[str]) -> dbc.Card:
    """The new-backtest card; `exchanges`: those with stored series (the first is chosen)."""
    options = [{"label": e, "value": e} for e in exchanges]
    upload = dcc.Upload(
        dbc.Button("Choose a blocks CSV", size="sm", color="secondary", outline=True),
        id="bt-file",
        accept=".csv,.parquet",
        max_size=MAX_UPLOAD_BYTES,
    )
    fields = dbc.Row(
        [
            dbc.Col(upload, md="auto"),
            dbc.Col(html.Span(id="bt-filename", className="small"), md="auto"),
            dbc.Col(
                dbc.Select(id="bt-exchange", options=options, value=exchanges[0] if exchanges else None, size="sm"),
                md=2,
            ),
            dbc.Col(
                dbc.Select(
                    id="bt-timeframe", options=[{"label": t, "value": t} for t in PYRAMID], value="1m", size="sm"
                ),
                md=1,
            ),
            dbc.Col(
                dcc.DatePickerRange(
                    id="bt-period",
                    clearable=True,
                    display_format="YYYY-MM-DD",
                    first_day_of_week=1,
                    start_date_placeholder_text="From (all)",
                    end_date_placeholder_text="To (all)",
                ),
                md="auto",
            ),
            dbc.Col(dbc.Input(id="bt-name", placeholder="Name (optional)", size="sm", maxLength=80), md=2),
        ],
        class_name="g-2 align-items-center",
    )
    variant = dbc.Row(
        [
            dbc.Col(
                dbc.Switch(id="bt-trade-through", label="Limits fill only when traded through", value=True), md="auto"
            ),
            dbc.Col(html.Label("Slippage (bps)", htmlFor="bt-slippage", className="small"), md="auto"),
            dbc.Col(dbc.Input(id="bt-slippage", value="0", size="sm", style={"width": "6rem"}), md="auto"),
            dbc.Col(html.Div(id="bt-slippage-error", className="small text-danger"), md="auto"),
            dbc.Col(
                [
                    dbc.Button("Run backtest", id="bt-run", size="sm", color="primary", n_clicks=0),
                    dbc.Button(
                        "Cancel",
                        id="bt-cancel",
                        size="sm",
                        color="secondary",
                        n_clicks=0,
                        disabled=True,
                        class_name="ms-2",
                    ),
                ],
                md="auto",
                class_name="ms-auto",
            ),
        ],
        class_name="g-2 align-items-center mt-2",
    )
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span("New backtest"),
                    html.A(
                        "Download sample CSV",
                        href=SAMPLE_CSV,
                        download="backtest-sample.csv",
                        id="bt-sample",
                        className="small float-end",
                    ),
                ]
            ),
            dbc.CardBody(
                [
                    html.P(
                        "One block per row: time (ISO or epoch ms, UTC), symbol, side, entry_type, entry_price, "
                        'stop_price, targets ("price:share;price:share"), size_mode, size_value. Each is placed on '
                        "the run's own replay account at its time and traded bar by bar on the stored history.",
                        className="small text-body-secondary mb-2",
                    ),
                    fields,
                    variant,
                    dbc.Progress(
                        id="bt-progress", value=0, label="", class_name="mt-2 d-none", style={"height": "1.4rem"}
                    ),
                    html.Div(id="bt-message", className="mt-2"),
                    html.Div(id="bt-cancel-message", className="small"),
                ]
            ),
        ],
        class_name="mb-3",
    )


def decode_upload(contents: Any, filename: Any) -> tuple[bytes, str]:
    """The uploaded file's bytes and name; ValueError with a message for people."""
    if not isinstance(contents, str) or "," not in contents or not isinstance(filename, str) or not filename:
        raise ValueError("Choose a blocks file first.")
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True), filename
    except (binascii.Error, ValueError) as exc:
        raise ValueError("The upload arrived damaged: choose the file again.") from exc


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _day_ms(value: Any, end: bool) -> int | None:
    """A picked day as ms (UTC midnight; the end day is included, so its next midnight)."""
    if not value:
        return None
    day = date.fromisoformat(str(value)[:10])
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    return start + DAY_MS if end else start


def read_ask(
    exchange: Any, timeframe: Any, first: Any, last: Any, name: Any, trade_through: Any, slippage: Any
) -> tuple[RunAsk | None, dict[str, str]]:
    """The checked ask, or None and a message per bad field ("slippage", "period", "exchange")."""
    errors: dict[str, str] = {}
    if not isinstance(exchange, str) or not exchange:
        errors["exchange"] = "Choose an exchange with stored history (see Data)."
    if timeframe not in PYRAMID:
        errors["timeframe"] = "Choose a timeframe."
    try:
        bps = Decimal(str(slippage if slippage not in (None, "") else "0").strip().replace(",", "."))
        if not bps.is_finite() or bps < 0 or bps > MAX_SLIPPAGE_BPS:
            raise InvalidOperation
    except InvalidOperation:
        errors["slippage"] = f"Slippage is a number of basis points from 0 to {MAX_SLIPPAGE_BPS}."
        bps = Decimal(0)
    try:
        start_ms, end_ms = _day_ms(first, end=False), _day_ms(last, end=True)
    except ValueError:
        errors["period"], start_ms, end_ms = "The period's days are not dates.", None, None
    if start_ms is not None and end_ms is not None and end_ms <= start_ms:
        errors["period"] = "The period ends before it starts."
    if errors:
        return None, errors
    label = name.strip()[:80] if isinstance(name, str) and name.strip() else None
    return RunAsk(str(exchange), str(timeframe), start_ms, end_ms, label, trade_through is not False, str(bps)), {}


def ask_from_params(params: dict[str, Any]) -> RunAsk:
    """The ask a grant carries (written by `RunAsk.as_params`, signed: trusted as it is)."""
    return RunAsk(**{k: params[k] for k in RunAsk.__dataclass_fields__})


def row_errors(errors: list[RowError]) -> dbc.Alert:
    """Parse errors as a list people can fix the file from: "line 4 stop: ..."."""
    items = [html.Li(f"line {e.line} {e.field}: {e.message}") for e in errors[:50]]
    more = [html.Li(f"... and {len(errors) - 50:,} more")] if len(errors) > 50 else []
    return dbc.Alert(
        [html.Div("The file has errors; no run was made:"), html.Ul([*items, *more], className="mb-0")],
        color="danger",
        class_name="py-2 small",
        id="bt-row-errors",
    )


def progress_label(done: int, total: int) -> tuple[int, str]:
    """The bar's percent and label: "12,345 / 525,600 bars"."""
    percent = int(done * 100 / total) if total > 0 else 0
    return max(0, min(100, percent)), f"{done:,} / {total:,} bars"


def period_text(start_ms: int, end_ms: int) -> str:
    def day(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")

    return f"{day(start_ms)} – {day(max(start_ms, end_ms - 1))}"


def run_row(run: RunSummary) -> dict[str, Any]:
    return {
        "row_id": str(run.id),
        "run_id": run.id,
        "name": run.name,
        "kind": str(run.kind),
        "period": period_text(run.start_ms, run.end_ms),
        "market": f"{run.exchange} {', '.join(run.symbols)} {run.timeframe}",
        "status": str(run.status),
        "trades": run.trades_closed,
        "net_pnl": format_money(run.net_pnl),
        "bars": f"{format_number(Decimal(run.bars_done))} / {format_number(Decimal(run.bars_total))}",
    }


RUN_COLUMNS = [
    {"field": "name", "headerName": "Name", "checkboxSelection": False, "flex": 2},
    {"field": "kind", "headerName": "Kind", "width": 100},
    {"field": "period", "headerName": "Period", "flex": 2},
    {"field": "market", "headerName": "Market", "flex": 2},
    {"field": "status", "headerName": "Status", "width": 110},
    {"field": "trades", "headerName": "Trades", "width": 100, "type": "rightAligned"},
    {"field": "net_pnl", "headerName": "Net P&L", "width": 130, "type": "rightAligned"},
    {"field": "bars", "headerName": "Bars", "flex": 1, "type": "rightAligned"},
]

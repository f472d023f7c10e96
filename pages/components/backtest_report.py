"""A backtest run's report and two runs side by side (pure builders): the statistics, the equity
curve over its drawdown (plotly, themed like the page's other panels), the trades as an AG Grid,
and a link to the run's account in the calendar. Money in cents, percentages to 0.01.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html
from plotly.subplots import make_subplots

from engine.common.precision import format_money, format_number
from engine.replay.api import RunReport, RunTrade
from pages.components.backtest import period_text
from pages.components.layout import panel_layout

PCT = Decimal("0.01")
COLOURS = ("#0d6efd", "#fd7e14")  # run A, run B
FILLS = ("rgba(13, 110, 253, 0.25)", "rgba(253, 126, 20, 0.25)")  # their drawdowns, both seen where they overlap


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _pct(value: Decimal | None) -> str:
    return "–" if value is None else f"{format_number(value, PCT)} %"


def statistics(report: RunReport) -> list[tuple[str, str]]:
    """(label, value) rows of a run's statistics, in the order shown."""
    run = report.summary
    factor = report.profit_factor
    return [
        ("Trades", f"{len(report.trades):,}"),
        ("Win rate", _pct(report.win_rate)),
        ("Profit factor", "–" if factor is None else format_number(factor, PCT)),
        ("Net P&L", format_money(run.net_pnl)),
        ("Max drawdown", _pct(-abs(report.max_drawdown_pct))),
        ("Starting equity", format_money(report.starting_equity)),
        ("Status", str(run.status)),
    ]


def stats_table(report: RunReport, ident: str) -> dbc.Table:
    rows = [
        html.Tr([html.Th(label, className="fw-normal"), html.Td(value, className="text-end")])
        for label, value in statistics(report)
    ]
    return dbc.Table(html.Tbody(rows), size="sm", class_name="small mb-0", id=ident)


def trade_row(trade: RunTrade) -> dict[str, Any]:
    return {
        "row_id": str(trade.trade_id),
        "block": trade.block_id,
        "symbol": trade.symbol,
        "side": trade.side,
        "opened": _time(trade.opened_ms),
        "closed": _time(trade.closed_ms),
        "entry": format_number(trade.entry_price),
        "exit": format_number(trade.exit_price),
        "amount": format_number(trade.amount),
        "net_pnl": format_money(trade.net_pnl),
        "reason": trade.close_reason,
    }


TRADE_COLUMNS = [
    {"field": "block", "headerName": "Block", "width": 90},
    {"field": "symbol", "headerName": "Symbol", "width": 120},
    {"field": "side", "headerName": "Side", "width": 80},
    {"field": "opened", "headerName": "Opened (UTC)", "width": 150},
    {"field": "closed", "headerName": "Closed (UTC)", "width": 150},
    {"field": "entry", "headerName": "Entry", "type": "rightAligned", "flex": 1},
    {"field": "exit", "headerName": "Exit", "type": "rightAligned", "flex": 1},
    {"field": "amount", "headerName": "Amount", "type": "rightAligned", "flex": 1},
    {"field": "net_pnl", "headerName": "Net P&L", "type": "rightAligned", "flex": 1},
    {"field": "reason", "headerName": "Reason", "width": 100},
]


def equity_figure(reports: Sequence[RunReport], dark: bool | None) -> go.Figure:
    """Each run's equity after every closed trade over its drawdown (%) below: one run, or two
    runs compared on the same axes."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.04)
    for report, colour, fill in zip(reports, COLOURS, FILLS, strict=False):
        name = report.summary.name
        xs = [_axis(ms) for ms, _ in report.equity]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[float(v) for _, v in report.equity],
                name=name,
                mode="lines",
                line={"color": colour, "width": 2, "shape": "hv"},
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[_axis(ms) for ms, _ in report.drawdown],
                y=[float(v) for _, v in report.drawdown],
                name=f"{name} drawdown",
                mode="lines",
                fill="tozeroy",
                fillcolor=fill,
                showlegend=False,
                line={"color": colour, "width": 1, "shape": "hv"},
            ),
            row=2,
            col=1,
        )
    layout = panel_layout(dark, hovermode="x unified", height=380, showlegend=len(reports) > 1)
    fig.update_layout(**layout, legend={"orientation": "h", "y": 1.08, "x": 0})
    fig.update_yaxes(title_text="equity", tickformat=",.2f", row=1, col=1)
    fig.update_yaxes(title_text="drawdown %", tickformat=".1f", row=2, col=1)
    return fig


def _axis(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _head(report: RunReport) -> html.Div:
    run = report.summary
    return html.Div(
        [
            html.H2(run.name, className="h6 mb-0", id=f"bt-report-title-{run.id}"),
            html.Span(
                f"{period_text(run.start_ms, run.end_ms)} · {run.exchange} {run.timeframe}",
                className="small text-body-secondary",
            ),
            dcc.Link(
                "Open in calendar",
                href=f"/calendar?account={run.account_id}",
                className="small ms-auto",
                id={"type": "bt-calendar-link", "run": run.id},
            ),
        ],
        className="d-flex align-items-baseline gap-3 mb-2",
    )


def report_view(report: RunReport, dark: bool | None) -> html.Div:
    """One run: head, statistics beside the equity curve, then its trades."""
    grid = dag.AgGrid(
        id="bt-trades",
        columnDefs=TRADE_COLUMNS,
        rowData=[trade_row(t) for t in report.trades],
        getRowId="params.data.row_id",
        dashGridOptions={"animateRows": False},
        defaultColDef={"sortable": True, "resizable": True},
        style={"height": "34vh"},
    )
    return html.Div(
        [
            _head(report),
            dbc.Row(
                [
                    dbc.Col(stats_table(report, "bt-stats"), lg=3),
                    dbc.Col(
                        dcc.Graph(
                            id="bt-equity", figure=equity_figure([report], dark), config={"displayModeBar": False}
                        ),
                        lg=9,
                    ),
                ]
            ),
            html.H3("Trades", className="h6 mt-2"),
            grid,
        ],
        id="bt-report",
    )


def compare_view(first: RunReport, second: RunReport, dark: bool | None) -> html.Div:
    """Two runs: their statistics in two columns, both equity curves on one chart."""
    left, right = statistics(first), statistics(second)
    head = html.Thead(
        html.Tr(
            [
                html.Th(""),
                *(
                    html.Th(r.summary.name, className="text-end", style={"color": c})
                    for r, c in zip((first, second), COLOURS, strict=True)
                ),
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Th(a[0], className="fw-normal"),
                    html.Td(a[1], className="text-end"),
                    html.Td(b[1], className="text-end"),
                ]
            )
            for a, b in zip(left, right, strict=True)
        ]
    )
    links = html.Div([_head(first), _head(second)])
    return html.Div(
        [
            html.H2("Two runs side by side", className="h6"),
            links,
            dbc.Row(
                [
                    dbc.Col(dbc.Table([head, body], size="sm", class_name="small", id="bt-compare-stats"), lg=4),
                    dbc.Col(
                        dcc.Graph(
                            id="bt-compare-equity",
                            figure=equity_figure([first, second], dark),
                            config={"displayModeBar": False},
                        ),
                        lg=8,
                    ),
                ]
            ),
        ],
        id="bt-compare",
    )

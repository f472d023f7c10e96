"""Desk overview (admins only): users active in the last day and week, each user's blocks, volume
and realized P&L over a chosen period, and the desk's P&L over time (a chart). Replay and backtest
accounts are practice and count nowhere here (engine.portfolio.api.desk_overview), as the page says.

Admins only at three levels, as pages/admin_users.py: the Flask guard refuses /admin/* to others,
this layout renders nothing for them, and the callback is wrapped in `require_role(ADMIN)`.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from engine.portfolio import api as portfolio
from pages.components import admin_overview as ov
from pages.components.calendar_page import today_for
from pages.components.layout import THEME_SWITCH
from web.auth import ADMINS, current_runtime, current_view, has_role, require_role

dash.register_page(
    __name__,
    path="/admin/overview",
    title="Desk overview · Tradeblock",
    name="Overview",
    roles=ADMINS,
    order=4,  # with the P&L overview (same order: by name, "Overview" first)
    nav=True,
)


def layout(**_query: Any) -> html.Div:
    if not has_role(*ADMINS):
        return html.Div(dbc.Alert("Admins only.", color="warning"), id="admin-denied")
    period = dbc.Select(
        id="ov-period",
        options=[{"label": label, "value": value} for value, label in ov.PERIODS.items()],
        value=ov.DEFAULT_PERIOD,
        size="sm",
        style={"width": "12rem"},
    )
    return html.Div(
        [
            html.Div(
                [html.H1("Desk overview", className="h4 mb-0"), period, html.Span(id="ov-range", className="small")],
                className="d-flex align-items-center gap-3 mb-1",
            ),
            html.P(
                "Live and paper accounts only: replays and backtests are not counted.",
                className="small text-body-secondary mb-3",
                id="ov-scope",
            ),
            dcc.Loading(html.Div(id="ov-summary"), type="dot", delay_show=300),
            html.H2("Realized P&L over time", className="h6"),
            dcc.Graph(id="ov-chart", config={"displayModeBar": False}),
            html.H2("Users", className="h6 mt-3"),
            html.Div(id="ov-table"),
        ]
    )


@callback(
    Output("ov-summary", "children"),
    Output("ov-chart", "figure"),
    Output("ov-table", "children"),
    Output("ov-range", "children"),
    Input("ov-period", "value"),
    Input(THEME_SWITCH, "value"),
)
@require_role(*ADMINS)
def desk_overview(period: Any, dark: Any) -> tuple[Any, ...]:
    tz = current_view().timezone
    first, last = ov.period_range(period, today_for(tz))
    view = portfolio.desk_overview(current_runtime(), first, last)
    shown = f"{first:%d %b %Y} – {last:%d %b %Y} ({tz})"
    return ov.summary_cards(view), ov.totals_figure(view, bool(dark)), ov.users_table(view, tz), shown

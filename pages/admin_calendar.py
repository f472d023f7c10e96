"""P&L overview (admins only): every user's month side by side with totals, and any one user's
calendar, statistics and day trades, with that user's exports and account report.

Admins only at three levels, as pages/admin_users.py: the Flask guard refuses /admin/* to others,
this layout renders nothing for them, and every callback is wrapped in `require_role(ADMIN)`. The
chosen user is a plain id from the page; only admins can ask for it, and it is checked to exist.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from engine.portfolio import api as portfolio
from engine.users.api import UserView, list_users, load_user
from pages.components import calendar as calc
from pages.components.calendar_downloads import (
    EXPORTS,
    download_buttons,
    export_file,
    report_file,
    report_running,
    targets,
)
from pages.components.calendar_page import controls, parse_day, render, step_anchor, today_for
from pages.components.layout import THEME_SWITCH
from web.auth import ADMINS, current_runtime, current_view, has_role, require_role

dash.register_page(
    __name__,
    path="/admin/calendar",
    title="P&L overview · Tradeblock",
    name="P&L overview",
    roles=ADMINS,
    order=4,
    nav=True,
)

DAY_TYPE = "adm-cal-day"


def layout(**_query: Any) -> html.Div:
    if not has_role(*ADMINS):
        return html.Div(dbc.Alert("Admins only.", color="warning"), id="admin-denied")
    users = list_users(current_runtime())
    me = current_view()
    picker = dbc.Row(
        [
            dbc.Col(html.Label("User", htmlFor="adm-cal-user", className="col-form-label-sm"), width="auto"),
            dbc.Col(
                dbc.Select(
                    id="adm-cal-user",
                    options=[{"label": u.username, "value": str(u.id)} for u in users],
                    value=str(me.id),
                    size="sm",
                ),
                width="auto",
            ),
            dbc.Col(download_buttons("adm-cal"), width="auto", class_name="ms-auto"),
        ],
        class_name="g-2 align-items-center mb-2",
    )
    return html.Div(
        [
            dcc.Store(id="adm-cal-anchor"),
            *targets("adm-cal"),
            controls("adm-cal"),
            html.H2("All users", className="h6"),
            dcc.Loading(html.Div(id="adm-cal-overview"), type="dot", delay_show=300),
            html.Hr(),
            picker,
            html.Div(id="adm-cal-body"),
            dbc.Card(dbc.CardBody(html.Div(id="adm-cal-day-detail", className="small")), class_name="my-3"),
            html.Div(id="adm-cal-stats"),
            dcc.Graph(id="adm-cal-equity", config={"displayModeBar": False}),
        ]
    )


def _chosen(value: Any) -> UserView | None:
    try:
        return load_user(current_runtime(), int(value))
    except (TypeError, ValueError):
        return None


@callback(
    Output("adm-cal-anchor", "data"),
    Input("adm-cal-prev", "n_clicks"),
    Input("adm-cal-next", "n_clicks"),
    Input("adm-cal-today", "n_clicks"),
    State("adm-cal-anchor", "data"),
    State("adm-cal-view", "value"),
)
@require_role(*ADMINS)
def admin_navigate(_prev: int, _next: int, _today: int, anchor: Any, view: Any) -> str:
    return step_anchor(ctx.triggered_id, anchor, view, current_view().timezone)


@callback(
    Output("adm-cal-overview", "children"),
    Output("adm-cal-title", "children"),
    Input("adm-cal-anchor", "data"),
)
@require_role(*ADMINS)
def admin_overview(anchor: Any) -> tuple[Any, Any]:
    """The overview is always a month: the one the anchor is in."""
    day = parse_day(anchor)
    if day is None:
        return no_update, no_update
    rows = portfolio.overview(current_runtime(), day.year, day.month)
    return calc.overview_table(rows), f"{day:%B %Y}"


@callback(
    Output("adm-cal-body", "children"),
    Output("adm-cal-stats", "children"),
    Output("adm-cal-equity", "figure"),
    Input("adm-cal-user", "value"),
    Input("adm-cal-anchor", "data"),
    Input("adm-cal-view", "value"),
    Input("adm-cal-mode", "value"),
    Input(THEME_SWITCH, "value"),
)
@require_role(*ADMINS)
def admin_user_calendar(user_id: Any, anchor: Any, view: Any, mode: Any, dark: Any) -> tuple[Any, ...]:
    user, day = _chosen(user_id), parse_day(anchor)
    if user is None or day is None:
        return no_update, no_update, no_update
    mode = mode if mode in calc.MODE_LABELS else "money"
    today = today_for(user.timezone)
    page = portfolio.calendar_page(current_runtime(), user.id, user.timezone, str(view), day, mode, today)
    title = html.H2(f"{user.username} · {page.title} · {user.timezone}", className="h6", id="adm-cal-user-title")
    body = html.Div([title, render(page, mode, DAY_TYPE)])
    return body, calc.stats_panel(page.stats), calc.equity_figure(page.curve, dark)


@callback(
    Output("adm-cal-day-detail", "children"),
    Input({"type": DAY_TYPE, "day": ALL}, "n_clicks"),
    State("adm-cal-user", "value"),
)
@require_role(*ADMINS)
def admin_day(_clicks: list[int], user_id: Any) -> Any:
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0].get("value"):
        return html.Span("Click a day to list its trades.", className="text-body-secondary")
    user, day = _chosen(user_id), parse_day(trigger.get("day"))
    if user is None or day is None:
        return no_update
    runtime = current_runtime()
    trades = portfolio.day_trades(runtime, user.id, user.timezone, day)
    return calc.day_table(day, trades, portfolio.day_funding(runtime, user.id, user.timezone, day))


@callback(
    Output("adm-cal-download", "data"),
    Output("adm-cal-download-xlsx", "data"),
    *(Input(f"adm-cal-{suffix}", "n_clicks") for suffix, *_ in EXPORTS),
    State("adm-cal-user", "value"),
    State("adm-cal-anchor", "data"),
    State("adm-cal-view", "value"),
    prevent_initial_call=True,
)
@require_role(*ADMINS)
def admin_export(*args: Any) -> tuple[Any, Any]:
    user_id, anchor, view = args[-3:]
    user = _chosen(user_id)
    if user is None or not ctx.triggered or not ctx.triggered[0].get("value"):
        return no_update, no_update
    sent = export_file(user, ctx.triggered_id, "adm-cal", anchor, view)
    return (no_update, sent) if str(ctx.triggered_id).endswith("-xlsx") else (sent, no_update)


@callback(
    Output("adm-cal-download-report", "data"),
    Input("adm-cal-report", "n_clicks"),
    State("adm-cal-user", "value"),
    State("adm-cal-anchor", "data"),
    State("adm-cal-view", "value"),
    prevent_initial_call=True,
    running=report_running("adm-cal"),
)
@require_role(*ADMINS)
def admin_report(clicks: int, user_id: Any, anchor: Any, view: Any) -> Any:
    user = _chosen(user_id)
    if not clicks or user is None:
        return no_update
    return report_file(user, anchor, view)

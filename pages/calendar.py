"""P&L calendar (every signed-in user, their own figures only): a month, week or year of realized
P&L in money, % of the day's starting equity or R; a day's trades on click; statistics, the equity
curve with drawdown, open positions, the trades and daily P&L as CSV or xlsx, and the view's
account report as PDF; of the live and paper accounts, or of the one account picked
(pages/components/calendar_accounts; `/calendar?account=<id>`), a replay's too.

Every callback reads the user from the server session (web.auth.current_view); the browser only
keeps which period and account are shown, and the engine refuses an account that is not the
user's (AccountAccessError: the page then says so). Figures come from engine.portfolio.api.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from engine.common.precision import format_number
from engine.portfolio import api as portfolio
from engine.portfolio.api import open_positions
from engine.users.api import AccountAccessError
from pages.components import calendar as calc
from pages.components import calendar_accounts as accounts
from pages.components import calendar_sample
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
from web.auth import READERS, current_runtime, current_view, require_role

dash.register_page(
    __name__, path="/calendar", title="P&L calendar · Tradeblock", name="Calendar", roles=READERS, order=1, nav=True
)

DAY_TYPE = "cal-day"
calendar_sample.CALLBACKS.register()

# The picked account into the address bar (`?account=<id>`, dropped for all live and paper), so the
# view can be bookmarked; replaceState, since a dcc.Location would make Dash pages rebuild the page.
clientside_callback(
    """function (value) {
        if (window.location.pathname !== "/calendar") { return window.dash_clientside.no_update; }
        var query = new URLSearchParams(window.location.search);
        if (value && value !== "all") { query.set("account", value); } else { query.delete("account"); }
        var search = query.toString() ? "?" + query.toString() : "";
        if (search !== window.location.search) {
            window.history.replaceState(window.history.state, "", window.location.pathname + search);
        }
        return value;
    }""",
    Output("cal-account-url", "data"),
    Input("cal-account", "value"),
)


def layout(account: Any = None, anchor: Any = None, **_query: Any) -> html.Div:
    me = current_view()
    day = parse_day(anchor)  # `?anchor=2024-01-15`: open on that day's month (the sample's trades)
    return html.Div(
        [
            dcc.Store(id="cal-anchor", data=day.isoformat() if day else None),
            dcc.Store(id="cal-account-url"),
            *targets("cal"),
            controls("cal"),
            accounts.picker(current_runtime(), me.id, account),
            calendar_sample.sample_box(),
            dcc.Loading(html.Div(id="cal-body"), type="dot", delay_show=300),
            dbc.Card(dbc.CardBody(html.Div(id="cal-day-detail", className="small")), class_name="my-3"),
            html.H2("Statistics", className="h6 mt-3", id="cal-stats-title"),
            html.Div(id="cal-stats"),
            dcc.Graph(id="cal-equity", config={"displayModeBar": False}),
            dbc.Row(
                [
                    dbc.Col(html.H2("Open positions", className="h6 mb-0"), width="auto"),
                    dbc.Col(download_buttons("cal"), width="auto", class_name="ms-auto"),
                ],
                class_name="align-items-center mt-2 mb-1",
            ),
            html.Div(id="cal-positions", className="small"),
        ]
    )


@callback(
    Output("cal-anchor", "data"),
    Input("cal-prev", "n_clicks"),
    Input("cal-next", "n_clicks"),
    Input("cal-today", "n_clicks"),
    State("cal-anchor", "data"),
    State("cal-view", "value"),
)
@require_role(*READERS)
def navigate(_prev: int, _next: int, _today: int, anchor: Any, view: Any) -> str:
    return step_anchor(ctx.triggered_id, anchor, view, current_view().timezone)


@callback(
    Output("cal-title", "children"),
    Output("cal-body", "children"),
    Output("cal-stats", "children"),
    Output("cal-equity", "figure"),
    Output("cal-account-note", "children"),
    Input("cal-anchor", "data"),
    Input("cal-view", "value"),
    Input("cal-mode", "value"),
    Input(THEME_SWITCH, "value"),
    Input("cal-account", "value"),
)
@require_role(*READERS)
def show_calendar(anchor: Any, view: Any, mode: Any, dark: Any, account: Any) -> tuple[Any, ...]:
    if parse_day(anchor) is None:
        return no_update, no_update, no_update, no_update, no_update  # navigate() sets the anchor first
    me = current_view()
    today = today_for(me.timezone)
    day, runtime = parse_day(anchor) or today, current_runtime()
    note = ""
    try:
        page = portfolio.calendar_page(runtime, me.id, me.timezone, str(view), day, str(mode), today,
                                       accounts.account_id(account))  # fmt: skip
    except AccountAccessError:  # a value the picker never offered: the default, and a word at the field
        page = portfolio.calendar_page(runtime, me.id, me.timezone, str(view), day, str(mode), today)
        note = accounts.NOT_YOURS
    mode = mode if mode in calc.MODE_LABELS else "money"
    figure = calc.equity_figure(page.curve, dark)
    return page.title, render(page, mode, DAY_TYPE), calc.stats_panel(page.stats), figure, note


@callback(
    Output("cal-day-detail", "children"),
    Input({"type": DAY_TYPE, "day": ALL}, "n_clicks"),
    Input("cal-account", "value"),
)
@require_role(*READERS)
def show_day(_clicks: list[int], account: Any) -> Any:
    trigger = ctx.triggered_id
    hint = html.Span("Click a day to list its trades.", className="text-body-secondary")
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0].get("value"):
        return hint  # also when the account changes: the day shown was another account's
    day = parse_day(trigger.get("day"))
    if day is None:
        return no_update
    me = current_view()
    runtime, account_id = current_runtime(), accounts.account_id(account)
    try:
        trades = portfolio.day_trades(runtime, me.id, me.timezone, day, account_id)
        funding = portfolio.day_funding(runtime, me.id, me.timezone, day, account_id)
    except AccountAccessError:
        return html.Span(accounts.NOT_YOURS, className="text-danger")
    return calc.day_table(day, trades, funding)


@callback(Output("cal-positions", "children"), Input("cal-anchor", "data"), Input("cal-account", "value"))
@require_role(*READERS)
def show_positions(_anchor: Any, account: Any) -> Any:
    try:
        positions = open_positions(current_runtime(), current_view().id, accounts.account_id(account))
    except AccountAccessError:
        return html.Span(accounts.NOT_YOURS, className="text-danger")
    if not positions:
        return html.Span("No open positions.", className="text-body-secondary")
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Block", "Symbol", "Side", "Amount", "Entry", "Last", "Unrealized")])
    )
    rows = [
        html.Tr(
            [
                html.Td(f"#{p.block_id}"),
                html.Td(p.symbol),
                html.Td(p.side.value),
                html.Td(format_number(p.amount, p.ticks.amount)),
                html.Td(format_number(p.entry_average, p.ticks.price)),
                html.Td(format_number(p.last_price, p.ticks.price) if p.last_price is not None else "—"),
                html.Td(calc.fmt_money(p.unrealized_pnl)),
            ]
        )
        for p in positions
    ]
    return dbc.Table([head, html.Tbody(rows)], size="sm", id="positions")


@callback(
    Output("cal-download", "data"),
    Output("cal-download-xlsx", "data"),
    *(Input(f"cal-{suffix}", "n_clicks") for suffix, *_ in EXPORTS),
    State("cal-anchor", "data"),
    State("cal-view", "value"),
    State("cal-account", "value"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def export(*args: Any) -> tuple[Any, Any]:
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        return no_update, no_update
    anchor, view, account = args[-3:]
    # The signed-in user's own figures, whatever the browser sends (another's account: nothing).
    try:
        sent = export_file(current_view(), ctx.triggered_id, "cal", anchor, view, accounts.account_id(account))
    except AccountAccessError:
        return no_update, no_update
    xlsx = str(ctx.triggered_id).endswith("-xlsx")
    return (no_update, sent) if xlsx else (sent, no_update)


@callback(
    Output("cal-download-report", "data"),
    Input("cal-report", "n_clicks"),
    State("cal-anchor", "data"),
    State("cal-view", "value"),
    State("cal-account", "value"),
    prevent_initial_call=True,
    running=report_running("cal"),  # the button is disabled with a spinner while the PDF renders
)
@require_role(*READERS)
def report_pdf(clicks: int, anchor: Any, view: Any, account: Any) -> Any:
    if not clicks:
        return no_update
    try:  # the signed-in user's own report
        return report_file(current_view(), anchor, view, accounts.account_id(account))
    except AccountAccessError:
        return no_update

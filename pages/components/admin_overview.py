"""Components of the admins' desk overview (pages/admin_overview.py): the period choice, the
activity and totals cards, the per-user table and the chart of the desk's realized P&L over time.

Layout only: the figures come from engine.portfolio.api.desk_overview. Money is shown to the cent
(engine.common.precision.format_money), signed where it is a P&L; times in the admin's timezone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

from engine.common.precision import CENTS, format_money, quantize_to_tick
from engine.portfolio.api import DeskOverview, UserFigures, zone
from pages.components.layout import plotly_template

# The period choices: its number of days, ending today (the admin's today).
PERIODS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days", "365": "Last 365 days"}
DEFAULT_PERIOD = "30"
GREEN, RED, BLUE = "rgba(25, 135, 84, 0.75)", "rgba(220, 53, 69, 0.75)", "#0d6efd"


def period_range(choice: object, today: date) -> tuple[date, date]:
    """(first, last) day of a period choice; anything unknown is the default."""
    days = int(choice if isinstance(choice, str) and choice in PERIODS else DEFAULT_PERIOD)
    return today - timedelta(days=days - 1), today


def signed_money(value: Decimal) -> str:
    """A P&L to the cent with its sign: +12.35, -0.28, and 0.00 for what rounds to nothing."""
    rounded = quantize_to_tick(value, CENTS, ROUND_HALF_UP)
    if rounded == 0:
        return format_money(abs(rounded))
    return ("+" if rounded > 0 else "") + format_money(rounded)


def volume_text(volume: Sequence[tuple[str, Decimal]]) -> str:
    """Volume per currency, to the cent: "12,345.68 USDT · 0.20 BTC"; "—" for none."""
    shown = [f"{format_money(value)} {currency}" for currency, value in volume if value]
    return " · ".join(shown) or "—"


def seen_text(moment: datetime | None, tz: str) -> str:
    """When a user was last seen, in the admin's timezone ("2026-03-31 14:05"); "never"."""
    if moment is None:
        return "never"
    return f"{moment.astimezone(zone(tz)):%Y-%m-%d %H:%M}"


def _tone(value: Decimal) -> str:
    rounded = quantize_to_tick(value, CENTS, ROUND_HALF_UP)
    return " text-success" if rounded > 0 else " text-danger" if rounded < 0 else ""


def _card(label: str, value: str, ident: str, tone: str = "") -> dbc.Col:
    body = dbc.CardBody(
        [html.Div(label, className="small text-body-secondary"), html.Div(value, className="fs-5" + tone, id=ident)],
        class_name="py-2",
    )
    return dbc.Col(dbc.Card(body), xs=6, md=4, xl=2)


def summary_cards(view: DeskOverview) -> dbc.Row:
    """Activity and the period's totals at a glance."""
    return dbc.Row(
        [
            _card("Active in the last day", str(view.active["day"]), "ov-active-day"),
            _card("Active in the last week", str(view.active["week"]), "ov-active-week"),
            _card("Users", f"{view.enabled} enabled", "ov-users"),
            _card("Disabled", str(view.disabled), "ov-disabled"),
            _card("Realized P&L", signed_money(view.pnl), "ov-pnl", _tone(view.pnl)),
            _card("Volume", volume_text(view.volume), "ov-volume"),
        ],
        class_name="g-2 mb-3",
    )


def _user_row(u: UserFigures, tz: str) -> html.Tr:
    status = dbc.Badge("active", color="success") if u.is_active else dbc.Badge("disabled", color="secondary")
    cells = [
        html.Td(u.username),
        html.Td(u.role),
        html.Td(status),
        html.Td(seen_text(u.last_seen_at, tz), className="text-nowrap"),
        html.Td(str(u.blocks), className="text-end"),
        html.Td(str(u.live_blocks), className="text-end"),
        html.Td(str(u.opened_blocks), className="text-end"),
        html.Td(str(u.closed_blocks), className="text-end"),
        html.Td(volume_text(u.volume), className="text-end text-nowrap"),
        html.Td(signed_money(u.pnl), className="text-end text-nowrap" + _tone(u.pnl)),
    ]
    return html.Tr(cells, id=f"ov-user-{u.username}")


def users_table(view: DeskOverview, tz: str) -> dbc.Table:
    """One row per user: status, last seen, blocks, volume and P&L of the period; a total row."""
    heads = ["User", "Role", "Status", f"Last seen ({tz})", "Blocks", "Live", "Placed", "Closed", "Volume", "P&L"]
    head = html.Thead(html.Tr([html.Th(h, className="text-end" if i >= 4 else "") for i, h in enumerate(heads)]))
    if not view.users:
        return dbc.Table([head, html.Tbody(html.Tr(html.Td("No users.", colSpan=len(heads))))], id="ov-users-table")
    body = [_user_row(u, tz) for u in view.users]
    total = html.Tr(
        [
            html.Th("Total", colSpan=4),
            html.Th(str(sum(u.blocks for u in view.users)), className="text-end"),
            html.Th(str(sum(u.live_blocks for u in view.users)), className="text-end"),
            html.Th(str(sum(u.opened_blocks for u in view.users)), className="text-end"),
            html.Th(str(sum(u.closed_blocks for u in view.users)), className="text-end"),
            html.Th(volume_text(view.volume), className="text-end text-nowrap", id="ov-total-volume"),
            html.Th(signed_money(view.pnl), className="text-end text-nowrap" + _tone(view.pnl), id="ov-total-pnl"),
        ]
    )
    return dbc.Table([head, html.Tbody([*body, total])], size="sm", hover=True, responsive=True, id="ov-users-table")


def totals_figure(view: DeskOverview, dark: bool | None) -> go.Figure:
    """The desk's realized P&L per day (bars, green and red) and its running total (a line) over the
    period; an empty state that says so when nothing was realized."""
    fig = go.Figure()
    layout: dict = {
        "template": plotly_template(dark),
        "margin": {"l": 70, "r": 20, "t": 30, "b": 40},
        "height": 300,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
    }
    if not any(t.pnl for t in view.totals):
        hidden = {"visible": False}
        note = {"text": "No realized P&L in this period", "showarrow": False, "xref": "paper", "yref": "paper"}
        fig.update_layout(**layout, xaxis=hidden, yaxis=hidden, annotations=[note | {"x": 0.5, "y": 0.5}])
        return fig
    xs = [t.day.isoformat() for t in view.totals]
    fig.add_trace(
        go.Bar(
            x=xs,
            y=[float(t.pnl) for t in view.totals],
            name="Daily P&L",
            marker_color=[GREEN if t.pnl > 0 else RED for t in view.totals],
            customdata=[signed_money(t.pnl) for t in view.totals],  # cents, as the tables show it
            hovertemplate="%{customdata}<extra>day</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[float(t.cumulative) for t in view.totals],
            name="Cumulative",
            mode="lines+markers" if len(xs) == 1 else "lines",
            line={"color": BLUE, "width": 2},
            customdata=[signed_money(t.cumulative) for t in view.totals],
            hovertemplate="%{customdata}<extra>cumulative</extra>",
        )
    )
    xaxis: dict = {"type": "date", "tickformat": "%d %b"}
    if len(xs) < 15:  # a tick a day, never hours around a midnight
        xaxis |= {"dtick": 86_400_000}
    fig.update_layout(**layout, xaxis=xaxis, yaxis={"title": "P&L", "tickformat": ",.2f", "zeroline": True})
    return fig

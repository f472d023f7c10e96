"""The parts the calendar page and the admins' P&L overview share: the view, unit and navigation
controls, moving the shown period, and rendering one view of engine.portfolio.api.CalendarPage (the
download buttons are pages/components/calendar_downloads)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from engine.portfolio import api as portfolio
from engine.portfolio.api import day_of
from pages.components import calendar as calc


def controls(prefix: str) -> dbc.Row:
    """View, unit and navigation controls (ids prefixed, so the admin page has its own)."""
    return dbc.Row(
        [
            dbc.Col(
                dbc.ButtonGroup(
                    [
                        dbc.Button("‹", id=f"{prefix}-prev", color="secondary", outline=True, n_clicks=0),
                        dbc.Button("Today", id=f"{prefix}-today", color="secondary", outline=True, n_clicks=0),
                        dbc.Button("›", id=f"{prefix}-next", color="secondary", outline=True, n_clicks=0),
                    ],
                    size="sm",
                ),
                width="auto",
            ),
            dbc.Col(html.H1(id=f"{prefix}-title", className="h5 mb-0"), width="auto"),
            dbc.Col(
                dbc.RadioItems(
                    id=f"{prefix}-view",
                    options=[{"label": v.capitalize(), "value": v} for v in portfolio.VIEWS],
                    value="month",
                    inline=True,
                    class_name="btn-group cal-toggle",
                    input_class_name="btn-check",
                    label_class_name="btn btn-outline-primary btn-sm",
                    label_checked_class_name="active",
                ),
                width="auto",
                class_name="ms-auto",
            ),
            dbc.Col(
                dbc.RadioItems(
                    id=f"{prefix}-mode",
                    options=[{"label": label, "value": v} for v, label in calc.MODE_LABELS.items()],
                    value="money",
                    inline=True,
                    class_name="btn-group cal-toggle",
                    input_class_name="btn-check",
                    label_class_name="btn btn-outline-primary btn-sm",
                    label_checked_class_name="active",
                ),
                width="auto",
            ),
        ],
        class_name="g-2 align-items-center mb-3",
    )


def parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def today_for(tz: str) -> date:
    return day_of(time.time_ns() // 1_000_000, tz)


def step_anchor(trigger: Any, anchor: Any, view: Any, tz: str) -> str:
    """The new anchor after a navigation click (a missing or bad anchor is today)."""
    today = today_for(tz)
    current = parse_day(anchor) or today
    view = view if view in portfolio.VIEWS else "month"
    if trigger and str(trigger).endswith("-prev"):
        return portfolio.shift(current, view, -1).isoformat()
    if trigger and str(trigger).endswith("-next"):
        return portfolio.shift(current, view, 1).isoformat()
    if trigger and str(trigger).endswith("-today"):
        return today.isoformat()
    return current.isoformat()


def render(page: portfolio.CalendarPage, mode: str, day_type: str) -> html.Div:
    if page.month is not None:
        return html.Div([calc.month_total(page.month, mode), calc.month_grid(page.month, mode, day_type)])
    if page.week is not None:
        return html.Div(calc.week_grid(page.week, mode, day_type))
    months = page.months or []
    return html.Div([calc.year_total(months, mode), calc.year_grid(months, mode, day_type)])

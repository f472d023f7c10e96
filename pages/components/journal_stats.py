"""The journal's statistics tables, one row per symbol, setup or tag (engine.portfolio.api.group_stats):
trades, wins and losses, win rate, net P&L and fees to cents, profit factor, expectancy, average R."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import html

from engine.portfolio.api import GroupStats
from pages.components.calendar import fmt_money, fmt_ratio, fmt_value

HEADERS = ("Trades", "Won", "Lost", "Win rate", "P&L", "Fees", "Profit factor", "Expectancy", "Avg R")


def stats_row(g: GroupStats) -> list[str]:
    """The row's cells after its key, as shown."""
    return [
        str(g.trades),
        str(g.wins),
        str(g.losses),
        fmt_ratio(g.win_rate, pct=True),
        fmt_money(g.pnl),
        fmt_money(g.fees, sign=False),
        fmt_ratio(g.profit_factor),
        fmt_money(g.expectancy),
        fmt_value(g.avg_r, "r"),
    ]


def stats_table(groups: Sequence[GroupStats], key: str, ident: str) -> html.Div | dbc.Table:
    if not groups:
        return html.Div("No closed trades in this period.", className="small text-body-secondary", id=ident)
    head = html.Thead(html.Tr([html.Th(key)] + [html.Th(h, className="text-end") for h in HEADERS]))
    body = []
    for g in groups:
        tone = "text-success" if g.pnl > 0 else "text-danger" if g.pnl < 0 else ""
        cells = [
            html.Td(value, className="text-end" + (f" {tone}" if i == 4 else ""))
            for i, value in enumerate(stats_row(g))
        ]
        body.append(html.Tr([html.Td(g.key), *cells]))
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True, class_name="small", id=ident)

"""The account report as one HTML document with its print stylesheet (A4, running footer with page
numbers), which engine.reports.pdf hands to WeasyPrint: a title block (user, accounts, period,
currency), headline figures, the equity curve and drawdown (engine.reports.svg), the calendar grids
with every day's P&L tinted as on the calendar page (engine.reports.grids), the statistics, and the
by-symbol and by-setup tables. Every number goes through the formatters below: money to cents, ratios to 2 places."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from html import escape
from pathlib import Path

from engine.common.precision import CENTS, format_money, plural
from engine.portfolio import api as portfolio
from engine.reports import grids, svg
from engine.reports.content import ReportData

STYLE = (Path(__file__).parent / "report.css").read_text(encoding="utf-8")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
GREEN, RED, BLUE = "#198754", "#dc3545", "#0d6efd"
DASH = "—"
WIDE, MINI = 680, 330  # px: the page's width, a half of it (two months side by side)


# --- numbers as people read them ---


def money(value: Decimal | None, sign: bool = True) -> str:
    """Cents with thousands separators, "+" on gains; a value that rounds to 0.00 is "0.00", never "-0.00"."""
    if value is None:
        return DASH
    cents = value.quantize(CENTS)
    if cents == 0:
        return "0.00"
    text = format_money(value)
    return f"+{text}" if sign and cents > 0 else text


def ratio(value: Decimal | float | None) -> str:
    if value is None:
        return DASH
    return f"{Decimal(str(value)).quantize(CENTS):,}"


def share(value: Decimal | None) -> str:
    """A fraction as a percentage to one place: 0.5 -> "50.0%"."""
    if value is None:
        return DASH
    return f"{(value * 100).quantize(Decimal('0.1'))}%"


def r_multiple(value: Decimal | None) -> str:
    if value is None:
        return DASH
    return f"{value.quantize(CENTS):+}R"


def tone(value: Decimal | None) -> str:
    if value is None or value.quantize(CENTS) == 0:
        return ""
    return "pos" if value > 0 else "neg"


def _span(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


# --- the parts ---


def title_block(data: ReportData) -> str:
    accounts = "<br>".join(escape(a) for a in data.accounts) or DASH
    rows = [
        ("Trader", escape(data.username)),
        ("Account(s)", accounts),
        ("Period", f"{_span(data.first)} – {_span(data.last)}"),
        ("Currency", escape(data.currency)),
        ("Timezone", escape(data.timezone)),
        ("Made on", _span(data.today)),
    ]
    meta = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        f'<header class="title"><div class="brand">Tradeblock</div><h1>Account report · {escape(data.title)}</h1>'
        f'<table class="meta">{meta}</table></header>'
    )


def headline(stats: portfolio.Stats) -> str:
    cards = [
        ("Net P&L", money(stats.net_pnl), tone(stats.net_pnl)),
        ("Trades", str(stats.trades), ""),
        ("Win rate", share(stats.win_rate), ""),
        ("Profit factor", ratio(stats.profit_factor), ""),
        ("Max drawdown", money(stats.max_drawdown, sign=False), ""),
        ("Fees", money(stats.fees, sign=False), ""),
    ]
    cells = "".join(f'<div class="kpi"><div class="label">{k}</div><div class="value {t}">{v}</div></div>'
                    for k, v, t in cards)  # fmt: skip
    return f'<section class="kpis">{cells}</section>'


def charts(curve: Sequence[portfolio.CurvePoint]) -> str:
    level = max((abs(p.equity) for p in curve), default=Decimal(0))
    equity = svg.chart([(p.day, p.equity) for p in curve], level, BLUE)
    drawdown = svg.chart([(p.day, p.drawdown) for p in curve], level, RED, height=130, drawdown=True)
    return (
        f'<section class="chart"><h2>Equity curve</h2>{equity}</section>'
        f'<section class="chart"><h2>Drawdown</h2>{drawdown}</section>'
    )


def month_block(month: portfolio.Month, big: bool) -> str:
    trades = plural(month.trades, "trade")
    total = f'<span class="{tone(month.pnl)}">{money(month.pnl)}</span> · {trades}' if month.trades else "no trades"
    drawing = grids.grid_svg(month.weeks, money, WIDE if big else MINI, big)
    return (
        f'<div class="month {"wide" if big else ""}"><div class="mhead"><b>{escape(month.title)}</b>'
        f'<span class="mtotal">{total}</span></div>{drawing}</div>'
    )


def calendar(data: ReportData) -> str:
    if data.week is not None:
        body = grids.grid_svg([data.week], money, WIDE, big=True)
    else:
        big = len(data.months) == 1
        body = "".join(month_block(m, big) for m in data.months)
    return f'<section class="calendar"><h2>Calendar</h2>{body}</section>'


def statistics(stats: portfolio.Stats) -> str:
    drawdown = f"{money(stats.max_drawdown, sign=False)} ({share(stats.max_drawdown_pct)})"
    rows = [
        ("Net P&L", money(stats.net_pnl)), ("Trades", str(stats.trades)), ("Win rate", share(stats.win_rate)),
        ("Win/loss ratio", ratio(stats.win_loss_ratio)), ("Average win", money(stats.average_win)),
        ("Average loss", money(stats.average_loss)), ("Largest win", money(stats.largest_win)),
        ("Largest loss", money(stats.largest_loss)), ("Profit factor", ratio(stats.profit_factor)),
        ("Expectancy", money(stats.expectancy)), ("Max drawdown", drawdown),
        ("Streaks W/L", f"{stats.longest_win_streak} / {stats.longest_loss_streak}"),
        ("Sharpe", ratio(stats.sharpe)), ("Sortino", ratio(stats.sortino)), ("Fees", money(stats.fees, sign=False)),
        ("Funding", money(stats.funding)),  # perpetual funding, in the net P&L
    ]  # fmt: skip
    half = (len(rows) + 1) // 2
    columns = "".join(
        '<table class="kv">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in part) + "</table>"
        for part in (rows[:half], rows[half:])
    )
    weekdays = "".join(
        f'<tr><th>{k}</th><td class="{tone(v)}">{money(v)}</td></tr>' for k, v in stats.by_weekday.items()
    )
    weekday = f'<h3>P&amp;L by weekday</h3><table class="kv narrow">{weekdays}</table>' if weekdays else ""
    return f'<section class="stats"><h2>Statistics</h2><div class="cols">{columns}</div>{weekday}</section>'


def group_table(title: str, key: str, groups: Sequence[portfolio.GroupStats]) -> str:
    head = "".join(f"<th>{h}</th>" for h in (key, "Trades", "Won / lost", "Win rate", "P&amp;L", "Fees", "Avg R",
                                             "Profit factor", "Expectancy"))  # fmt: skip
    rows = "".join(
        f"<tr><td class='key'>{escape(g.key)}</td><td>{g.trades}</td><td>{g.wins} / {g.losses}</td>"
        f"<td>{share(g.win_rate)}</td><td class='{tone(g.pnl)}'>{money(g.pnl)}</td><td>{money(g.fees, sign=False)}</td>"
        f"<td>{r_multiple(g.avg_r)}</td><td>{ratio(g.profit_factor)}</td><td>{money(g.expectancy)}</td></tr>"
        for g in groups
    )
    return f'<section class="groups"><h2>{title}</h2><table class="table"><tr>{head}</tr>{rows}</table></section>'


def no_trades(data: ReportData) -> str:
    return (
        '<section class="empty"><h2>No trades</h2><p>No trade closed between '
        f"{_span(data.first)} and {_span(data.last)}, so there is no P&amp;L, statistic or curve to report "
        "for this period.</p></section>"
    )


def html_document(data: ReportData) -> str:
    """The report's HTML, stylesheet included."""
    footer = escape(f"Tradeblock · {data.username} · {data.title}")
    parts = [title_block(data)]
    if data.empty:
        parts.append(no_trades(data))
    else:
        parts += [
            headline(data.stats),
            charts(data.curve),
            calendar(data),
            statistics(data.stats),
            group_table("By symbol", "Symbol", data.by_symbol),
            group_table("By setup", "Setup", data.by_setup),
        ]
    style = STYLE.replace("FOOTER", footer.replace('"', "'"))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{footer}</title>'
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )

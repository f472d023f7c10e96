"""Components of the P&L calendar pages: month, week and year grids, a day's trades, the statistics
panel, the equity curve with drawdown shading, and the admins' side-by-side month overview.

Layout only: the figures come from engine.portfolio.api. Colours are tints of Bootstrap's green
and red (engine.portfolio.api.colour) over the theme's own background, so both themes read well;
neutral days keep the theme's colours. Day boxes carry an id {"type": <day_type>, "day": ISO date}
so a page can list a day's trades when one is clicked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

from engine.common.axes import equity_span
from engine.common.precision import format_number, plural
from engine.portfolio import api as portfolio
from engine.portfolio.api import CurvePoint, DayFunding, DayTrade, Stats, UserMonth
from pages.components.layout import empty_panel, panel_layout

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MODE_LABELS = {"money": "Money", "percent": "%", "r": "R"}


def fmt_money(value: Decimal | None, sign: bool = True) -> str:
    if value is None:
        return "—"
    return f"{value:+,.2f}" if sign else f"{value:,.2f}"


def places_for(value: Decimal | float, places: int) -> int:
    """The decimal places that show `value` truthfully: `places`, or as many as its first
    significant digit needs when it is not zero but would round to 0 (-0.0028 at 2 places is
    "-0.003", never "-0.00"). The one rule for every percentage and R on the calendar pages."""
    exact = Decimal(str(value)) if isinstance(value, float) else value
    # Rounded as format() rounds (half to even), so 0.005 at 2 places, which prints 0.00, counts as zero.
    if exact == 0 or not exact.is_finite() or exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN) != 0:
        return places
    return max(places, -exact.adjusted())


def fmt_value(value: Decimal | None, mode: str) -> str:
    """A day's figure in the chosen unit: +12.34, +1.23% or +0.49R (small ones: +0.004%)."""
    if value is None:
        return "—"
    if mode == "percent":
        return f"{value:+.{places_for(value, 2)}f}%"
    if mode == "r":
        return f"{value:+.{places_for(value, 2)}f}R"
    return fmt_money(value)


def fmt_ratio(value: Decimal | float | None, digits: int = 2, pct: bool = False) -> str:
    if value is None:
        return "—"
    if pct:
        scaled = Decimal(str(value)) * 100
        return f"{scaled:.{places_for(scaled, 1)}f}%"
    return f"{float(value):.{digits}f}"


def _tint(level: float) -> dict[str, str]:
    background = portfolio.colour(level)
    if background is None:
        return {}
    style = {"backgroundColor": background}
    if portfolio.strong(level):
        style["color"] = "#fff"
    return style


def _tone(value: Decimal | None) -> str:
    if value is None or value == 0:
        return ""
    return " text-success" if value > 0 else " text-danger"


def day_box(cell: portfolio.DayCell, mode: str, day_type: str) -> html.Div:
    """One day of a month or week grid: its date, P&L in the chosen unit, the other unit, trades."""
    classes = "cal-day"
    if not cell.in_period:
        classes += " cal-outside"
    children: list = [html.Div(str(cell.day.day), className="cal-date")]
    if cell.in_period and cell.active:
        second = fmt_value(cell.pct, "percent") if mode != "percent" else fmt_money(cell.pnl)
        children += [
            html.Div(fmt_value(cell.value(mode), mode), className="cal-pnl"),
            html.Div(second, className="cal-sub"),
            html.Div(plural(cell.trades, "trade"), className="cal-sub"),
        ]
        classes += " cal-active"
    style = _tint(cell.intensity) if cell.in_period else {}
    return html.Div(
        children,
        id={"type": day_type, "day": cell.day.isoformat()},
        className=classes,
        style=style,
        n_clicks=0,
        title=f"{cell.day:%a %d %b %Y}",
        **{"data-pnl": str(cell.pnl), "data-level": f"{cell.intensity:.3f}"},
    )


def _week_total(week: portfolio.Week, mode: str) -> html.Div:
    value = {"money": week.pnl, "percent": week.pct, "r": week.r}.get(mode, week.pnl)
    return html.Div(
        [
            html.Div("Week", className="cal-date"),
            html.Div(fmt_value(value, mode) if week.trades else "—", className="cal-pnl" + _tone(value)),
            html.Div(plural(week.trades, "trade") if week.trades else "", className="cal-sub"),
        ],
        className="cal-week-total",
    )


def month_grid(month: portfolio.Month, mode: str, day_type: str = "cal-day") -> html.Div:
    """The Monday-to-Sunday grid with a weekly totals column."""
    header = [html.Div(name, className="cal-head") for name in WEEKDAY_NAMES] + [
        html.Div("Total", className="cal-head")
    ]
    rows = []
    for week in month.weeks:
        rows += [day_box(c, mode, day_type) for c in week.cells] + [_week_total(week, mode)]
    return html.Div(header + rows, className="cal-grid", id="cal-month-grid")


def week_grid(week: portfolio.Week, mode: str, day_type: str = "cal-day") -> html.Div:
    header = [html.Div(f"{WEEKDAY_NAMES[i]} {c.day:%d %b}", className="cal-head") for i, c in enumerate(week.cells)]
    cells = [day_box(c, mode, day_type) for c in week.cells]
    return html.Div(
        [*header, html.Div("Total", className="cal-head"), *cells, _week_total(week, mode)],
        className="cal-grid cal-week",
        id="cal-week-grid",
    )


def month_total(month: portfolio.Month, mode: str) -> html.Div:
    value = {"money": month.pnl, "percent": month.pct, "r": month.r}.get(mode, month.pnl)
    return html.Div(
        [
            html.Span("Month ", className="text-body-secondary"),
            html.Strong(fmt_value(value, mode), className=_tone(value).strip(), id="cal-month-total"),
            html.Span(f" · {plural(month.trades, 'trade')} · ", className="text-body-secondary"),
            html.Span(plural(month.win_days, "win day"), className="text-success", id="cal-win-days"),
            html.Span(" · ", className="text-body-secondary"),
            html.Span(plural(month.loss_days, "loss day"), className="text-danger", id="cal-loss-days"),
            html.Span(f" · fees {fmt_money(month.fees, sign=False)}", className="text-body-secondary"),
        ],
        className="mb-2",
    )


def _mini_month(month: portfolio.Month, mode: str, day_type: str) -> html.Div:
    cells = []
    for week in month.weeks:
        for c in week.cells:
            if not c.in_period:
                cells.append(html.Div(className="cal-mini cal-outside"))
                continue
            tip = f"{c.day:%a %d %b}: {fmt_value(c.value(mode), mode)}, {plural(c.trades, 'trade')}" if c.active else ""
            cells.append(
                html.Div(
                    id={"type": day_type, "day": c.day.isoformat()},
                    className="cal-mini" + (" cal-active" if c.active else ""),
                    style=_tint(c.intensity),
                    title=tip or f"{c.day:%a %d %b}",
                    n_clicks=0,
                )
            )
    value = {"money": month.pnl, "percent": month.pct, "r": month.r}.get(mode, month.pnl)
    return html.Div(
        [
            html.Div(
                [
                    html.Span(month.title.split()[0][:3], className="fw-semibold"),
                    html.Span(fmt_value(value, mode) if month.trades else "—", className="small" + _tone(value)),
                ],
                className="d-flex justify-content-between mb-1",
            ),
            html.Div(cells, className="cal-mini-grid"),
        ],
        className="cal-mini-month",
    )


def year_grid(months: Sequence[portfolio.Month], mode: str, day_type: str = "cal-day") -> html.Div:
    """Twelve small months on the year's colour scale."""
    return html.Div([_mini_month(m, mode, day_type) for m in months], className="cal-year", id="cal-year-grid")


def year_total(months: Sequence[portfolio.Month], mode: str) -> html.Div:
    pnl = sum((m.pnl for m in months), Decimal(0))
    trades = sum(m.trades for m in months)
    wins, losses = sum(m.win_days for m in months), sum(m.loss_days for m in months)
    return html.Div(
        [
            html.Span("Year ", className="text-body-secondary"),
            html.Strong(fmt_money(pnl), className=_tone(pnl).strip(), id="cal-year-total"),
            html.Span(f" · {plural(trades, 'trade')} · ", className="text-body-secondary"),
            html.Span(plural(wins, "win day"), className="text-success"),
            html.Span(" · ", className="text-body-secondary"),
            html.Span(plural(losses, "loss day"), className="text-danger"),
        ],
        className="mb-2",
    )


def _money_cell(value: Decimal | None) -> html.Td:
    if value is None:
        return html.Td("")
    return html.Td(fmt_money(value), className=_tone(value).strip())


def day_table(day: date, trades: Sequence[DayTrade], funding: Sequence[DayFunding] = ()) -> html.Div:
    """The trades that booked P&L on `day`: block, side, entry, exits, P&L and R; and the funding
    of each block that day in its own column, on the block's first trade row (a block open all
    day without an exit, or funding paid while no block was open, gets a row of its own)."""
    title = html.H2(f"{day:%A %d %B %Y}", className="h6")
    if not trades and not funding:
        return html.Div(
            [title, html.P("No trades closed (in part or whole) this day.", className="text-body-secondary")]
        )
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Block", "Symbol", "Side", "Amount", "Entry", "Exits", "P&L", "R", "Funding")])
    )
    paid = {(f.block_id, f.symbol): f.amount for f in funding if f.block_id is not None}
    rows = []
    for t in trades:
        b = t.booking
        amount, price = t.ticks.amount, t.ticks.price
        exits = ", ".join(f"{format_number(e.amount, amount)} @ {format_number(e.price, price)}" for e in t.exits)
        rows.append(
            html.Tr(
                [
                    html.Td(f"#{b.block_id}"),
                    html.Td(b.symbol),
                    html.Td(b.side.value),
                    html.Td(format_number(b.amount, amount)),
                    html.Td(format_number(b.entry_average, price) if b.entry_average is not None else "—"),
                    html.Td(exits or "—"),
                    _money_cell(b.pnl),
                    html.Td(fmt_value(b.r, "r")),
                    _money_cell(paid.pop((b.block_id, b.symbol), None)),
                ],
                id=f"day-trade-{b.trade_id}",
            )
        )
    for f in funding:
        if f.block_id is not None and (f.block_id, f.symbol) not in paid:
            continue  # shown on its block's trade row
        block = f"#{f.block_id}" if f.block_id is not None else "—"
        ident = f"day-funding-{f.block_id}" if f.block_id is not None else f"day-funding-{f.account_id}-{f.symbol}"
        rows.append(
            html.Tr(
                [html.Td(block), html.Td(f.symbol), *(html.Td("") for _ in range(6)), _money_cell(f.amount)],
                id=ident,
            )
        )
    table = dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, class_name="mb-0", id="cal-day-trades")
    return html.Div([title, table])


def _stat(label: str, value: str, tone: str = "", ident: str | None = None) -> dbc.Col:
    body = html.Div(
        [html.Div(label, className="small text-body-secondary"), html.Div(value, className="fw-semibold" + tone)],
        className="border rounded px-2 py-1 h-100",
        id=ident or f"stat-{label.lower().replace(' ', '-').replace('/', '-')}",
    )
    return dbc.Col(body, xs=6, md=3, lg=2, class_name="mb-2")


def stats_panel(stats: Stats) -> html.Div:
    """The statistics cards and breakdowns; P&L figures in the stats' unit (the money/%/R switch)."""
    s, unit = stats, stats.unit

    def pnl(value: Decimal | None) -> str:
        return fmt_value(value, unit)

    if unit == "money":
        dd = f"{fmt_money(s.max_drawdown, sign=False)} ({fmt_ratio(s.max_drawdown_pct, pct=True)})"
    else:  # a fall: shown as its size, without a sign
        dd = fmt_value(s.max_drawdown, unit).lstrip("+") if s.max_drawdown is not None else "—"
    cards = [
        _stat("Net P&L", pnl(s.net_pnl), _tone(s.net_pnl), "stat-net"),
        _stat("Trades", str(s.trades)),
        _stat("Win rate", fmt_ratio(s.win_rate, pct=True)),
        _stat("Win/loss ratio", fmt_ratio(s.win_loss_ratio)),
        _stat("Average win", pnl(s.average_win)),
        _stat("Average loss", pnl(s.average_loss)),
        _stat("Largest win", pnl(s.largest_win)),
        _stat("Largest loss", pnl(s.largest_loss)),
        _stat("Profit factor", fmt_ratio(s.profit_factor)),
        _stat("Expectancy", pnl(s.expectancy)),
        _stat("Max drawdown", dd),
        _stat("Streaks W/L", f"{s.longest_win_streak} / {s.longest_loss_streak}"),
        _stat("Sharpe", fmt_ratio(s.sharpe)),
        _stat("Sortino", fmt_ratio(s.sortino)),
        _stat("Fees", fmt_money(s.fees, sign=False)),  # paid in money whatever the unit
        _stat("Funding", fmt_money(s.funding), _tone(s.funding)),  # money too; in the net P&L in money
    ]
    return html.Div(
        [
            dbc.Row(cards, class_name="g-2"),
            dbc.Row(
                [
                    dbc.Col(_breakdown("P&L by symbol", s.by_symbol, "stats-by-symbol", unit), md=6),
                    dbc.Col(_breakdown("P&L by weekday", s.by_weekday, "stats-by-weekday", unit), md=6),
                ],
                class_name="g-2 mt-1",
            ),
        ],
        id="cal-stats-panel",
    )


def _breakdown(title: str, values: dict[str, Decimal], ident: str, unit: str) -> html.Div:
    rows = [
        html.Tr([html.Td(k), html.Td(fmt_value(v, unit), className="text-end" + _tone(v))]) for k, v in values.items()
    ]
    body = html.Tbody(rows or [html.Tr(html.Td("—", colSpan=2, className="text-body-secondary"))])
    return html.Div([html.Div(title, className="small fw-semibold"), dbc.Table(body, size="sm", id=ident)])


def equity_axes(curve: Sequence[CurvePoint]) -> tuple[list[str], list[float], str]:
    """(x range, y range, y tick format) of a non-empty curve: a single day gets a day either side
    (not milliseconds around midnight); the y range is engine.common.axes's equity span (plotly's
    autorange would shade a 0.28 dip on 10,000 as a crash), with ticks carrying as many decimals as
    that span needs."""
    first, last = curve[0].day, curve[-1].day
    if first == last:
        first, last = first - timedelta(days=1), last + timedelta(days=1)
    levels = [p.equity for p in curve] + [p.equity - p.drawdown for p in curve]
    low, high = min(levels), max(levels)
    span = equity_span(low, high, max(abs(low), abs(high)))
    pad = (span - (high - low)) / 2 + span / 20
    decimals = max(0, -math.floor(math.log10(float(span) / 10)))  # about five ticks, each a distinct label
    return [first.isoformat(), last.isoformat()], [float(low - pad), float(high + pad)], f",.{decimals}f"


def equity_figure(curve: Sequence[CurvePoint], dark: bool | None) -> go.Figure:
    """Equity at each day's end; the drawdown (the fall below the running peak) shaded red between
    the peak and the curve. Without data: an empty state that says so, not a bare axis."""
    fig = go.Figure()
    layout = panel_layout(dark, hovermode="x")
    if not curve:
        return empty_panel(fig, layout, "No equity data for this period")
    xs = [p.day.isoformat() for p in curve]
    peak = [float(p.equity - p.drawdown) for p in curve]
    mode = "lines+markers" if len(curve) == 1 else "lines"  # one day is a point, not an invisible line
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=peak,
            name="Peak",
            mode="lines",
            line={"color": "rgba(128, 128, 128, 0.6)", "width": 1, "dash": "dot"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[float(p.equity) for p in curve],
            name="Equity",
            mode=mode,
            line={"color": "#0d6efd", "width": 2},
            fill="tonexty",  # down to the peak line: the drawdown
            fillcolor="rgba(220, 53, 69, 0.3)",
            customdata=[float(p.drawdown) for p in curve],
            hovertemplate="%{x}<br>equity %{y:,.2f}<br>drawdown %{customdata:,.2f}<extra></extra>",
        )
    )
    x_range, y_range, tick = equity_axes(curve)
    xaxis: dict = {"type": "date", "range": x_range}
    if len(curve) == 1:  # one tick a day, labelled as a day: no "23:59:59.999" around a midnight
        xaxis |= {"dtick": 86_400_000, "tickformat": "%d %b %Y"}
    fig.update_layout(**layout, xaxis=xaxis, yaxis={"title": "equity", "tickformat": tick, "range": y_range})
    return fig


def overview_table(rows: Sequence[UserMonth]) -> dbc.Table:
    """Every user's month side by side: a strip of the month's days and the month's totals."""
    if not rows:
        return dbc.Table(html.Tbody(html.Tr(html.Td("No users."))), id="overview")
    days = rows[0].month.days()
    head = html.Thead(
        html.Tr(
            [html.Th("User"), html.Th([html.Span(str(c.day.day), className="cal-strip-head") for c in days])]
            + [html.Th(h, className="text-end") for h in ("P&L", "%", "Trades", "Win days", "Loss days", "Fees")]
        )
    )
    body = []
    totals = {"pnl": Decimal(0), "trades": 0, "wins": 0, "losses": 0, "fees": Decimal(0)}
    for r in rows:
        m = r.month
        strip = [
            html.Span(className="cal-strip", style=_tint(c.intensity), title=f"{c.day:%d %b}: {fmt_money(c.pnl)}")
            for c in m.days()
        ]
        body.append(
            html.Tr(
                [
                    html.Td(r.username),
                    html.Td(strip, className="text-nowrap"),
                    html.Td(fmt_money(m.pnl), className="text-end" + _tone(m.pnl)),
                    html.Td(fmt_value(m.pct, "percent"), className="text-end"),
                    html.Td(str(m.trades), className="text-end"),
                    html.Td(str(m.win_days), className="text-end"),
                    html.Td(str(m.loss_days), className="text-end"),
                    html.Td(fmt_money(m.fees, sign=False), className="text-end"),
                ],
                id=f"overview-{r.username}",
            )
        )
        totals["pnl"] += m.pnl
        totals["fees"] += m.fees
        totals["trades"] += m.trades
        totals["wins"] += m.win_days
        totals["losses"] += m.loss_days
    body.append(
        html.Tr(
            [
                html.Th("Total"),
                html.Td(""),
                html.Th(fmt_money(totals["pnl"]), className="text-end" + _tone(totals["pnl"]), id="overview-total"),
                html.Td(""),
                html.Th(str(totals["trades"]), className="text-end"),
                html.Th(str(totals["wins"]), className="text-end"),
                html.Th(str(totals["losses"]), className="text-end"),
                html.Th(fmt_money(totals["fees"], sign=False), className="text-end"),
            ]
        )
    )
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True, id="overview")

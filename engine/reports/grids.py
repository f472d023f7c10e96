"""The report's calendar grids as inline SVG: one rectangle per day, tinted with the calendar page's
own colour scale (engine.portfolio.api.colour / strong), the day number and its P&L in cents.

SVG rather than an HTML table: WeasyPrint lays out a year of HTML table cells (500 of them) in about
two seconds, the same grids drawn as SVG in a tenth of that (bench/report.py), and a user-year must
render within three seconds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from engine.common.precision import plural
from engine.portfolio import api as portfolio

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BORDER, MUTED, TEXT, WHITE = "#dee2e6", "#6c757d", "#212529", "#ffffff"
HEAD = 12.0  # the weekday row (px)


def grid_svg(
    weeks: Sequence[portfolio.Week], money: Callable[[Decimal | None], str], width: float, big: bool = False
) -> str:
    """The weeks as a Monday-to-Sunday grid `width` px wide; `big` (a month or a week on its own)
    adds each day's trade count and a column of week totals."""
    columns = 8 if big else 7
    cell_w = width / columns
    cell_h = 58.0 if big else 30.0
    gap = 2.0
    height = HEAD + cell_h * len(weeks)
    size = (7.5, 10.5) if big else (6.0, 6.6)  # day number, P&L
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}">']
    for i, name in enumerate(WEEKDAYS + (("Week",) if big else ())):
        out.append(f'<text x="{i * cell_w + cell_w / 2:.1f}" y="8" font-size="6.5" fill="{MUTED}" '
                   f'text-anchor="middle">{name}</text>')  # fmt: skip
    for row, week in enumerate(weeks):
        top = HEAD + row * cell_h
        for col, cell in enumerate(week.cells):
            if not cell.in_period:
                continue
            x, w, h = col * cell_w + gap / 2, cell_w - gap, cell_h - gap
            fill = portfolio.colour(cell.intensity)
            ink = WHITE if fill and portfolio.strong(cell.intensity) else TEXT
            out.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{w:.1f}" height="{h:.1f}" rx="2" '
                       f'fill="{fill or WHITE}" stroke="{BORDER}" stroke-width="0.6"/>')  # fmt: skip
            out.append(f'<text x="{x + 2.5:.1f}" y="{top + size[0] + 1:.1f}" font-size="{size[0]}" '
                       f'fill="{ink if fill else MUTED}">{cell.day.day}</text>')  # fmt: skip
            middle = x + w / 2
            if cell.active:
                out.append(f'<text x="{middle:.1f}" y="{top + h * 0.62:.1f}" font-size="{size[1]}" fill="{ink}" '
                           f'text-anchor="middle">{money(cell.pnl)}</text>')  # fmt: skip
            if big and cell.trades:
                count = plural(cell.trades, "trade")
                out.append(f'<text x="{middle:.1f}" y="{top + h - 5:.1f}" font-size="7" fill="{ink}" '
                           f'text-anchor="middle">{count}</text>')  # fmt: skip
        if big and week.trades:
            colour = "#146c43" if week.pnl > 0 else "#b02a37" if week.pnl < 0 else TEXT
            out.append(f'<text x="{width - 3:.1f}" y="{top + cell_h * 0.58:.1f}" font-size="9.5" font-weight="bold" '
                       f'fill="{colour}" text-anchor="end">{money(week.pnl)}</text>')  # fmt: skip
    out.append("</svg>")
    return "".join(out)

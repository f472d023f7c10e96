"""The report's charts as inline SVG: the equity curve and its drawdown, drawn straight from the
curve's points (no plotting library: two polylines and their axes render in milliseconds, and the
PDF keeps them as vectors).

Coordinates are floats (geometry); every label is a Decimal tick formatted with
engine.common.precision.format_number at the tick step, so axes read "10,050" or "-0.25", never
float noise. The value axes span as engine.common.axes says, as on the calendar page's chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from html import escape

from engine.common.axes import drawdown_floor, equity_span
from engine.common.precision import format_number

NICE = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LEFT, RIGHT, TOP, BOTTOM = 64.0, 12.0, 10.0, 22.0  # plot margins (px) for the axis labels
TICK = 'font-size="9" fill="#5c636a"'  # axis labels


def nice_step(span: Decimal, ticks: int = 4) -> Decimal:
    """A round tick step (1, 2, 2.5 or 5 x 10^n) giving about `ticks` intervals over `span`."""
    raw = span / ticks
    exponent = raw.adjusted()
    for base in NICE:
        step = base.scaleb(exponent)
        if step >= raw:
            return step
    return Decimal(10).scaleb(exponent)  # pragma: no cover - NICE ends at 10


def value_range(values: Sequence[Decimal], level: Decimal, floor_zero: bool = False) -> tuple[Decimal, Decimal]:
    """(low, high) of the value axis: the values' equity span around their middle, or for a
    drawdown 0 at the top and its floor below (engine.common.axes)."""
    low, high = min(values), max(values)
    if floor_zero:
        return drawdown_floor(min(low, Decimal(0)), level), Decimal(0)
    span = equity_span(low, high, level)
    middle = (low + high) / 2
    return middle - span / 2, middle + span / 2


def ticks(low: Decimal, high: Decimal) -> tuple[list[Decimal], Decimal]:
    step = nice_step(high - low)
    first = (low / step).to_integral_value(rounding="ROUND_CEILING") * step
    out = []
    at = first
    while at <= high:
        out.append(at)
        at += step
    return out, step


def _day_ticks(first: date, last: date) -> list[date]:
    """Month starts for a long range, else about six evenly spaced days."""
    days = (last - first).days
    if days > 62:
        out, at = [], date(first.year, first.month, 1)
        while at <= last:
            if at >= first:
                out.append(at)
            at = date(at.year + at.month // 12, at.month % 12 + 1, 1)
        return out
    step = max(1, days // 6)
    return [first + timedelta(days=i) for i in range(0, days + 1, step)]


def chart(
    points: Sequence[tuple[date, Decimal]],
    level: Decimal,
    colour: str,
    width: int = 680,
    height: int = 200,
    drawdown: bool = False,
) -> str:
    """An SVG line chart of (day, value) points, filled below the line (to the bottom, or to 0 for
    a drawdown); `level` (the equity) sets the minimum span. Empty points give an empty frame."""
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    x0, x1, y0, y1 = LEFT, width - RIGHT, TOP, height - BOTTOM
    if not points:
        svg.append(f'<text x="{width / 2}" y="{height / 2}" {TICK} text-anchor="middle">No data</text></svg>')
        return "".join(svg)
    first, last = points[0][0], points[-1][0]
    if first == last:  # one day: a day either side, not milliseconds around midnight
        first, last = first - timedelta(days=1), last + timedelta(days=1)
    low, high = value_range([v for _, v in points], level, floor_zero=drawdown)
    days, span = (last - first).days, high - low

    def x(d: date) -> float:
        return x0 + (x1 - x0) * (d - first).days / days

    def y(v: Decimal) -> float:
        return y1 - (y1 - y0) * float((v - low) / span)

    values, step = ticks(low, high)
    for v in values:
        svg.append(f'<line x1="{x0}" x2="{x1}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e3e6ea" stroke-width="0.6"/>')
        label = escape(format_number(v, step.normalize() if step != step.to_integral() else Decimal(1)))
        svg.append(f'<text x="{x0 - 6}" y="{y(v) + 3:.1f}" text-anchor="end" {TICK}>{label}</text>')
    long_range = days > 62
    for d in _day_ticks(first, last):
        label = MONTHS[d.month - 1] if long_range else f"{d.day} {MONTHS[d.month - 1]}"
        svg.append(f'<text x="{x(d):.1f}" y="{height - 6}" text-anchor="middle" {TICK}>{label}</text>')
    line = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points)
    base = y(Decimal(0)) if drawdown else y1
    area = f"{x(points[0][0]):.1f},{base:.1f} {line} {x(points[-1][0]):.1f},{base:.1f}"
    svg.append(f'<polygon points="{area}" fill="{colour}" fill-opacity="0.15" stroke="none"/>')
    svg.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
    svg.append(f'<line x1="{x0}" x2="{x0}" y1="{y0}" y2="{y1}" stroke="#9aa1a9" stroke-width="0.8"/>')
    svg.append(f'<line x1="{x0}" x2="{x1}" y1="{y1}" y2="{y1}" stroke="#9aa1a9" stroke-width="0.8"/></svg>')
    return "".join(svg)

"""The P&L calendar as plain data: month grids (Monday to Sunday), a week, a year of twelve months,
each day with its P&L in money, in % of the equity at the start of the day and in R, its trade count,
and a colour on a diverging red-to-green scale centred on zero. Pure functions; pages render them.

The scale of a month: |value| / s, capped at 1, where s is the 90th percentile of the |values| of
the month's trading days (the largest one with fewer than five days), so one outlier day does not
wash the others out. Days without trades are neutral.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from engine.common.precision import wide_context
from engine.portfolio.bookings import WIDE, DayTotal

ZERO, ONE, HUNDRED = Decimal(0), Decimal(1), Decimal(100)
MODES = ("money", "percent", "r")
ROBUST_PERCENTILE = 0.9
ROBUST_MIN_DAYS = 5
# Bootstrap's success and danger colours: the box is tinted with them at an alpha that follows
# the intensity, so the same cell reads well over the light and the dark body background.
GREEN = (25, 135, 84)
RED = (220, 53, 69)
MIN_ALPHA, MAX_ALPHA = 0.18, 0.9


@dataclass(frozen=True)
class DayCell:
    day: date
    in_period: bool  # False for the leading/trailing days of the neighbouring months
    pnl: Decimal
    pct: Decimal | None  # P&L / equity at the start of the day x 100
    r: Decimal | None
    trades: int
    fees: Decimal
    start_equity: Decimal | None
    intensity: float  # -1 .. 1 on the period's scale; 0 for days without trades

    @property
    def active(self) -> bool:
        return self.trades > 0 or self.pnl != 0

    def value(self, mode: str) -> Decimal | None:
        return {"money": self.pnl, "percent": self.pct, "r": self.r}.get(mode, self.pnl)


@dataclass(frozen=True)
class Week:
    cells: tuple[DayCell, ...]  # Monday .. Sunday
    pnl: Decimal  # of the days inside the period
    r: Decimal | None
    pct: Decimal | None  # compounded from the days' percentages
    trades: int


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    weeks: tuple[Week, ...]
    pnl: Decimal
    r: Decimal | None
    pct: Decimal | None
    trades: int
    win_days: int
    loss_days: int
    fees: Decimal

    @property
    def title(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    def days(self) -> list[DayCell]:
        return [c for w in self.weeks for c in w.cells if c.in_period]


def percent(pnl: Decimal, equity: Decimal | None) -> Decimal | None:
    if equity is None or equity <= 0:
        return None
    return WIDE.multiply(WIDE.divide(pnl, equity), HUNDRED)


def robust_scale(values: Iterable[Decimal | None]) -> Decimal:
    """The magnitude that maps to full colour: the 90th percentile of the non-zero |values| (nearest
    rank), or their largest with fewer than five of them; 0 when there are none."""
    mags = sorted(abs(v) for v in values if v is not None and v != 0)
    if not mags:
        return ZERO
    if len(mags) < ROBUST_MIN_DAYS:
        return mags[-1]
    rank = max(1, -(-len(mags) * 9 // 10))  # ceil(0.9 n), nearest-rank percentile
    return mags[rank - 1]


def intensity(value: Decimal | None, scale: Decimal) -> float:
    """Signed intensity in [-1, 1]; symmetric: intensity(-v) == -intensity(v)."""
    if value is None or value == 0 or scale <= 0:
        return 0.0
    magnitude = min(WIDE.divide(abs(value), scale), ONE)
    return float(magnitude) if value > 0 else -float(magnitude)


def colour(level: float) -> str | None:
    """CSS colour of an intensity: None (neutral, the theme's own background) at 0."""
    if level == 0:
        return None
    rgb = GREEN if level > 0 else RED
    alpha = MIN_ALPHA + (MAX_ALPHA - MIN_ALPHA) * min(abs(level), 1.0)
    text = f"{alpha:.2f}".rstrip("0").rstrip(".")  # as browsers write it back: 0.9, not 0.90
    return f"rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {text})"


def strong(level: float) -> bool:
    """Whether the tint is dark enough that the box's text should be white."""
    return abs(level) > 0.55


def compound(pcts: Sequence[Decimal]) -> Decimal | None:
    """A run of percentages compounded: (prod(1 + p/100) - 1) x 100; None for none."""
    if not pcts:
        return None
    growth = Decimal(1)
    with wide_context():
        for p in pcts:
            growth *= 1 + p / 100
        return (growth - 1) * 100


def _r_total(cells: Sequence[DayCell]) -> Decimal | None:
    rs = [c.r for c in cells if c.r is not None]
    with wide_context():
        return sum(rs, ZERO) if rs else None


def cells_for(
    days: Sequence[date],
    totals: dict[date, DayTotal],
    equity: dict[date, Decimal | None],
    mode: str,
    period: tuple[date, date],
) -> list[DayCell]:
    """Cells of `days`; intensities scaled over the days inside `period` in the chosen `mode`."""
    first, last = period
    raw = []
    for d in days:
        total, start = totals.get(d), equity.get(d)
        if total is None:
            raw.append((d, None, None, start, None))
            continue
        pct = percent(total.pnl, start)
        value = total.pnl if mode not in ("percent", "r") else pct if mode == "percent" else total.r
        raw.append((d, total, pct, start, value))
    scale = robust_scale(v for d, t, _, _, v in raw if t is not None and first <= d <= last)
    cells = []
    for d, total, pct, start, value in raw:
        inside = first <= d <= last
        if total is None:
            cells.append(DayCell(d, inside, ZERO, None, None, 0, ZERO, start, 0.0))
            continue
        level = intensity(value, scale) if total.trades or total.pnl else 0.0
        cells.append(DayCell(d, inside, total.pnl, pct, total.r, total.trades, total.fees, start, level))
    return cells


def _week(cells: Sequence[DayCell]) -> Week:
    inside = [c for c in cells if c.in_period]
    with wide_context():
        pnl = sum((c.pnl for c in inside), ZERO)
    pcts = [c.pct for c in inside if c.pct is not None]
    return Week(tuple(cells), pnl, _r_total(inside), compound(pcts), sum(c.trades for c in inside))


def month_days(year: int, month: int) -> list[date]:
    """Every day of the month's Monday-to-Sunday grid (leading and trailing days included)."""
    first = date(year, month, 1)
    start = first - timedelta(days=first.weekday())
    last = date(year, month, calendar.monthrange(year, month)[1])
    end = last + timedelta(days=6 - last.weekday())
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def build_month(
    year: int, month: int, totals: dict[date, DayTotal], equity: dict[date, Decimal | None], mode: str = "money"
) -> Month:
    cells = cells_for(month_days(year, month), totals, equity, mode, month_range(year, month))
    return _month_of(year, month, cells)


def _month_of(year: int, month: int, cells: list[DayCell]) -> Month:
    weeks = tuple(_week(cells[i : i + 7]) for i in range(0, len(cells), 7))
    inside = [c for c in cells if c.in_period]
    with wide_context():
        pnl = sum((c.pnl for c in inside), ZERO)
        fees = sum((c.fees for c in inside), ZERO)
    return Month(
        year=year,
        month=month,
        weeks=weeks,
        pnl=pnl,
        r=_r_total(inside),
        pct=compound([c.pct for c in inside if c.pct is not None]),
        trades=sum(c.trades for c in inside),
        win_days=sum(1 for c in inside if c.active and c.pnl > 0),
        loss_days=sum(1 for c in inside if c.active and c.pnl < 0),
        fees=fees,
    )


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build_week(
    monday: date, totals: dict[date, DayTotal], equity: dict[date, Decimal | None], mode: str = "money"
) -> Week:
    days = [monday + timedelta(days=i) for i in range(7)]
    return _week(cells_for(days, totals, equity, mode, (days[0], days[-1])))


def build_year(
    year: int, totals: dict[date, DayTotal], equity: dict[date, Decimal | None], mode: str = "money"
) -> list[Month]:
    """Twelve months; their colours share the YEAR's scale, so months compare with each other."""
    grid = [*cal_days(month_days(year, 1)[0], month_days(year, 12)[-1])]
    by_day = {c.day: c for c in cells_for(grid, totals, equity, mode, (date(year, 1, 1), date(year, 12, 31)))}
    months = []
    for m in range(1, 13):
        first, last = month_range(year, m)
        cells = [by_day[d] if first <= d <= last else replace(by_day[d], in_period=False) for d in month_days(year, m)]
        months.append(_month_of(year, m, cells))
    return months


def cal_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]

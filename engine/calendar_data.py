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

from engine.pnl_days import DayTotal
from engine.precision import wide_context

ZERO = Decimal(0)
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
    with wide_context():
        return pnl / equity * 100


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
    with wide_context():
        magnitude = min(abs(value) / scale, Decimal(1))
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


def _compound(pcts: Sequence[Decimal]) -> Decimal | None:
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
        total = totals.get(d)
        pnl = total.pnl if total else ZERO
        start = equity.get(d)
        raw.append((d, total, pnl, percent(pnl, start) if total else None, start))
    inside = [(d, t, p, pct) for d, t, p, pct, _ in raw if first <= d <= last and t is not None]
    by_mode = {"money": [p for _, _, p, _ in inside], "percent": [x for *_, x in inside]}
    by_mode["r"] = [t.r for _, t, _, _ in inside if t is not None]
    scale = robust_scale(by_mode.get(mode, by_mode["money"]))
    cells = []
    for d, total, pnl, pct, start in raw:
        r = total.r if total else None
        value = {"money": pnl, "percent": pct, "r": r}.get(mode, pnl)
        trades = total.trades if total else 0
        level = intensity(value, scale) if total is not None and (trades or pnl) else 0.0
        cells.append(
            DayCell(
                day=d,
                in_period=first <= d <= last,
                pnl=pnl,
                pct=pct,
                r=r,
                trades=trades,
                fees=total.fees if total else ZERO,
                start_equity=start,
                intensity=level,
            )
        )
    return cells


def _week(cells: Sequence[DayCell]) -> Week:
    inside = [c for c in cells if c.in_period]
    with wide_context():
        pnl = sum((c.pnl for c in inside), ZERO)
    pcts = [c.pct for c in inside if c.pct is not None]
    return Week(tuple(cells), pnl, _r_total(inside), _compound(pcts), sum(c.trades for c in inside))


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
        pct=_compound([c.pct for c in inside if c.pct is not None]),
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
    year_cells = {
        c.day: c for c in cells_for(_year_days(year), totals, equity, mode, (date(year, 1, 1), date(year, 12, 31)))
    }
    months = []
    for m in range(1, 13):
        month = build_month(year, m, totals, equity, mode)
        weeks = tuple(replace(w, cells=tuple(_rescaled(c, year_cells) for c in w.cells)) for w in month.weeks)
        months.append(replace(month, weeks=weeks))
    return months


def _year_days(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [start + timedelta(days=i) for i in range((date(year + 1, 1, 1) - start).days)]


def _rescaled(cell: DayCell, year_cells: dict[date, DayCell]) -> DayCell:
    other = year_cells.get(cell.day)
    return cell if other is None or not cell.in_period else replace(cell, intensity=other.intensity)

"""What the calendar pages ask for, per user and period: the bookings (engine.portfolio.bookings, one SQL
query), equity at the start of each day (from the snapshots), the calendar grids
(engine.portfolio.calendar), statistics (engine.portfolio.stats), a day's trades, CSV exports, and the admins'
month overview of every user. Callers pass the user's id and timezone; a user's own pages pass the
signed-in user, so nobody reads another user's figures except through the admin pages. An optional
`account_id` narrows a user's figures to one of their accounts (engine.portfolio.scope: by default
live and paper accounts count, replay accounts do not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from db.enums import EXIT_ROLES
from db.models import Block, ExchangeAccount, Fill, User
from engine.common.precision import wide_context
from engine.market.api import Ticks, ticks
from engine.portfolio import calendar as cal
from engine.portfolio.bookings import Booking, as_decimal, bookings, day_start_ms
from engine.portfolio.exports import Table, csv_text, daily_table, trades_table
from engine.portfolio.periods import Period, days_between, load_period, load_periods
from engine.portfolio.scope import resolve
from engine.portfolio.stats import StatDay, Stats, TradeResult, summarize
from engine.runtime import Runtime

ZERO = Decimal(0)


# --- calendar views ---


def month_view(runtime: Runtime, user_id: int, tz: str, year: int, month: int, mode: str = "money") -> cal.Month:
    grid = cal.month_days(year, month)
    period = load_period(runtime, user_id, tz, grid[0], grid[-1])
    return cal.build_month(year, month, period.totals, period.equity, mode)


def week_view(runtime: Runtime, user_id: int, tz: str, monday: date, mode: str = "money") -> cal.Week:
    period = load_period(runtime, user_id, tz, monday, monday + timedelta(days=6))
    return cal.build_week(monday, period.totals, period.equity, mode)


def year_view(
    runtime: Runtime, user_id: int, tz: str, year: int, mode: str = "money"
) -> tuple[list[cal.Month], Period]:
    """The twelve months and the year's period (the stats and the curve reuse its one query)."""
    first = cal.month_days(year, 1)[0]
    last = cal.month_days(year, 12)[-1]
    period = load_period(runtime, user_id, tz, first, last)
    return cal.build_year(year, period.totals, period.equity, mode), period


# --- statistics and the equity curve ---


def trade_results(rows: Sequence[Booking], equity: dict[date, Decimal | None] | None = None) -> list[TradeResult]:
    """One result per trade that exited in the period: its exit fills' P&L and the fees charged to
    them, in money, in % of the equity at the start of each day it booked on (`equity`), and in R."""
    acc: dict[int, list[Booking]] = {}
    for b in rows:
        if b.exits:
            acc.setdefault(b.trade_id, []).append(b)
    out = []
    with wide_context():
        for trade_id, items in acc.items():
            pcts = [cal.percent(b.pnl, (equity or {}).get(b.day)) for b in items]
            rs = [b.r for b in items]
            pct = None if any(p is None for p in pcts) else sum((p for p in pcts if p is not None), ZERO)
            r = None if any(x is None for x in rs) else sum((x for x in rs if x is not None), ZERO)
            out.append(
                TradeResult(
                    trade_id,
                    items[0].symbol,
                    max(b.day for b in items),
                    sum((b.pnl for b in items), ZERO),
                    sum((b.fees for b in items), ZERO),
                    pct=pct,
                    r=r,
                )
            )
    return out


def stat_days(period: Period, first: date, last: date, today: date | None = None) -> list[date]:
    """The days statistics run over: the period, from its first booking at the earliest, to today at
    the latest (days not yet lived are not days of zero return)."""
    booked = [d for d in period.totals if first <= d <= last]
    start = max(first, min(booked)) if booked else first
    end = min(last, today) if today is not None else last
    return days_between(start, end) if end >= start else []


def period_stats(period: Period, first: date, last: date, today: date | None = None, unit: str = "money") -> Stats:
    """The statistics of first..last with P&L figures in `unit` (the page's money/%/R switch)."""
    rows = [b for b in period.bookings if first <= b.day <= last]
    days = stat_days(period, first, last, today)
    with wide_context():
        fees = sum((b.fees for b in rows), ZERO)
    series = []
    for d in days:
        total, equity = period.totals.get(d), period.equity.get(d)
        pnl = total.pnl if total else ZERO
        series.append(StatDay(d, pnl, equity, cal.percent(pnl, equity), total.r if total else None))
    start = period.equity.get(days[0]) if days else None
    funding = [(f.symbol, f.amount) for f in period.funding if first <= f.day <= last]
    unit = unit if unit in cal.MODES else "money"
    return summarize(trade_results(rows, period.equity), series, fees, start, unit, funding)


@dataclass(frozen=True)
class CurvePoint:
    day: date
    equity: Decimal  # at the end of the day (realized); cumulative P&L when equity is unknown
    drawdown: Decimal  # equity - running peak (<= 0)


def curve_start(period: Period, first: date) -> date | None:
    """The first day of the equity curve: `first`, or later when the account's history starts later
    (its first snapshot, or an earlier booking): an account opened in December has no flat line from
    January. Without snapshots, `first` (what came before is unknown); None with nothing at all."""
    booked = min(period.totals, default=None)
    if period.first_close is None:
        return first if booked is not None else None
    begins = min(period.first_close, booked) if booked is not None else period.first_close
    return max(first, begins)


def equity_curve(period: Period, first: date, last: date) -> list[CurvePoint]:
    """Equity at the end of each day from the curve's start to `last`; empty without any data."""
    start = curve_start(period, first)
    days = days_between(start, last) if start is not None else []
    if not days:
        return []
    base = period.equity.get(days[0])
    level = base if base is not None else ZERO
    peak, out = level, []
    with wide_context():
        for d in days:
            total = period.totals.get(d)
            level += total.pnl if total else ZERO
            peak = max(peak, level)
            out.append(CurvePoint(d, level, level - peak))
    return out


# --- one day's trades ---


@dataclass(frozen=True)
class ExitFill:
    ts: int
    price: Decimal
    amount: Decimal
    pnl: Decimal


@dataclass(frozen=True)
class DayTrade:
    booking: Booking
    exits: tuple[ExitFill, ...]
    ticks: Ticks  # the market's precision, to show prices and amounts in


def day_trades(runtime: Runtime, user_id: int, tz: str, day: date, account_id: int | None = None) -> list[DayTrade]:
    """The trades that booked P&L on `day` with their exit fills of that day (live and paper
    accounts, or `account_id` alone: AccountAccessError when it is not the user's)."""
    start, end = day_start_ms(day, tz), day_start_ms(day + timedelta(days=1), tz)
    with runtime.sessions() as s:
        scope = resolve(s, [user_id], account_id)
        rows = [b for b in bookings(s, [user_id], tz, day, day, scope)[user_id] if b.exits]
        ids = [b.trade_id for b in rows]
        fills = s.execute(
            select(Fill.trade_id, Fill.ts, Fill.price, Fill.amount, Fill.realized_pnl)
            .where(Fill.trade_id.in_(ids), Fill.role.in_(EXIT_ROLES), Fill.ts >= start, Fill.ts < end)
            .order_by(Fill.ts, Fill.id)
        ).all()
        exchange = dict(
            s.execute(
                select(Block.id, ExchangeAccount.exchange)
                .join(ExchangeAccount, ExchangeAccount.id == Block.account_id)
                .where(Block.id.in_({b.block_id for b in rows}))
            ).all()
        )
        precision = ticks(s, {(exchange[b.block_id], b.symbol) for b in rows})
    by_trade: dict[int, list[ExitFill]] = {}
    for trade_id, ts, price, amount, pnl in fills:
        by_trade.setdefault(trade_id, []).append(ExitFill(ts, price, amount, as_decimal(pnl)))
    return [DayTrade(b, tuple(by_trade.get(b.trade_id, ())), precision[exchange[b.block_id], b.symbol]) for b in rows]


# --- the admins' overview ---


@dataclass(frozen=True)
class UserMonth:
    user_id: int
    username: str
    role: str
    month: cal.Month
    best_day: Decimal | None
    worst_day: Decimal | None


def overview(runtime: Runtime, year: int, month: int) -> list[UserMonth]:
    """Every user's month, side by side (disabled users too: their history still counts), of their
    live and paper accounts (replays are practice)."""
    first, last = cal.month_range(year, month)
    with runtime.sessions() as s:
        users = s.execute(select(User.id, User.username, User.role, User.timezone).order_by(User.username)).all()
        periods = load_periods(s, [(u.id, u.timezone) for u in users], first, last)
    out = []
    for u in users:
        p = periods[u.id]
        m = cal.build_month(year, month, p.totals, p.equity, "money")
        pnls = [t.pnl for t in p.totals.values() if t.trades]
        out.append(UserMonth(u.id, u.username, str(u.role), m,
                             max(pnls, default=None), min(pnls, default=None)))  # fmt: skip
    return out


# --- one call per page render ---

VIEWS = ("month", "week", "year")


def shift(anchor: date, view: str, step: int) -> date:
    """The anchor moved by `step` months, weeks or years (a month keeps day 1)."""
    if view == "week":
        return anchor + timedelta(weeks=step)
    if view == "year":
        return date(anchor.year + step, 1, 1)
    index = anchor.year * 12 + anchor.month - 1 + step
    return date(index // 12, index % 12 + 1, 1)


def view_range(anchor: date, view: str) -> tuple[date, date]:
    """The days a view covers (its statistics and exports): the month, the week or the year."""
    if view == "week":
        monday = cal.week_start(anchor)
        return monday, monday + timedelta(days=6)
    if view == "year":
        return date(anchor.year, 1, 1), date(anchor.year, 12, 31)
    return cal.month_range(anchor.year, anchor.month)


@dataclass(frozen=True)
class CalendarPage:
    view: str
    title: str
    first: date
    last: date
    month: cal.Month | None
    week: cal.Week | None
    months: list[cal.Month] | None
    stats: Stats
    curve: list[CurvePoint]
    period: Period


def calendar_page(
    runtime: Runtime,
    user_id: int,
    tz: str,
    view: str,
    anchor: date,
    mode: str,
    today: date | None = None,
    account_id: int | None = None,
) -> CalendarPage:
    """Everything the calendar page shows for one view, from ONE bookings query: of the user's live
    and paper accounts, or of `account_id` alone (AccountAccessError when it is not theirs)."""
    view = view if view in VIEWS else "month"
    mode = mode if mode in cal.MODES else "money"
    first, last = view_range(anchor, view)
    if view == "month":
        grid = cal.month_days(anchor.year, anchor.month)
        grid_first, grid_last = grid[0], grid[-1]
    elif view == "year":
        grid_first, grid_last = cal.month_days(anchor.year, 1)[0], cal.month_days(anchor.year, 12)[-1]
    else:
        grid_first, grid_last = first, last
    period = load_period(runtime, user_id, tz, grid_first, grid_last, account_id)
    month = week = months = None
    if view == "month":
        month = cal.build_month(anchor.year, anchor.month, period.totals, period.equity, mode)
        title = month.title
    elif view == "week":
        week = cal.build_week(first, period.totals, period.equity, mode)
        title = f"Week of {first:%d %b %Y}"
    else:
        months = cal.build_year(anchor.year, period.totals, period.equity, mode)
        title = str(anchor.year)
    return CalendarPage(
        view=view,
        title=title,
        first=first,
        last=last,
        month=month,
        week=week,
        months=months,
        stats=period_stats(period, first, last, today, mode),
        curve=equity_curve(period, first, min(last, today) if today else last),
        period=period,
    )


def export_table(
    runtime: Runtime,
    user_id: int,
    tz: str,
    view: str,
    anchor: date,
    kind: str,
    today: date | None = None,
    account_id: int | None = None,
) -> tuple[str, Table]:
    """(file name without its extension, table) of the view's trades ("trades") or daily P&L
    ("daily", up to `today`, the user's today: the calendar's own days), of the accounts
    calendar_page counts."""
    first, last = view_range(anchor, view if view in VIEWS else "month")
    period = load_period(runtime, user_id, tz, first, last, account_id)
    table = trades_table(period) if kind == "trades" else daily_table(period, today)
    return f"tradeblock-{table.kind}-{first.isoformat()}-{last.isoformat()}", table


def export(
    runtime: Runtime,
    user_id: int,
    tz: str,
    view: str,
    anchor: date,
    kind: str,
    today: date | None = None,
    account_id: int | None = None,
) -> tuple[str, str]:
    """(file name, CSV text) of export_table."""
    stem, table = export_table(runtime, user_id, tz, view, anchor, kind, today, account_id)
    return f"{stem}.csv", csv_text(table)

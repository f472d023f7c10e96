"""The portfolio package's public surface: balances, equity snapshots and perpetual funding
(engine jobs), open positions, and what the calendar pages show: realized P&L booked per trading day in the user's
timezone, month/week/year grids, statistics, the equity curve, exports, statistics grouped by symbol,
setup or tag, the admins' month overview, and their desk overview (activity, blocks, volume and
P&L per user, the desk's P&L over time). A user's figures count their live and paper accounts;
`account_id=` (calendar_page, day_trades, export, export_table, group_stats, open_positions,
equity_at_day_start) narrows them to one of the user's accounts, a replay's included
(engine/portfolio/scope.py; another user's account raises engine.users.api.AccountAccessError)."""

from engine.portfolio.balances import PortfolioReport, Position, open_positions, snapshot_equity, sync_balances
from engine.portfolio.bookings import Booking, day_of, day_totals, start_equity, zone
from engine.portfolio.calendar import DayCell, Month, Week, build_year, colour, month_days, percent, strong
from engine.portfolio.day_equity import equity_at_day_start
from engine.portfolio.exports import Table, csv_text
from engine.portfolio.funding import FundingReport, book_funding
from engine.portfolio.funding_days import DayFunding, day_funding
from engine.portfolio.groups import GroupBy, GroupStats, group_stats
from engine.portfolio.overview import DeskOverview, TotalDay, UserFigures, desk_overview
from engine.portfolio.stats import Stats
from engine.portfolio.views import (
    VIEWS,
    CalendarPage,
    CurvePoint,
    DayTrade,
    Period,
    UserMonth,
    calendar_page,
    day_trades,
    export,
    export_table,
    overview,
    period_stats,
    shift,
)

__all__ = [
    "VIEWS",
    "Booking",
    "CalendarPage",
    "CurvePoint",
    "DayCell",
    "DayFunding",
    "DayTrade",
    "DeskOverview",
    "FundingReport",
    "GroupBy",
    "GroupStats",
    "Month",
    "Period",
    "PortfolioReport",
    "Position",
    "Stats",
    "Table",
    "TotalDay",
    "UserFigures",
    "UserMonth",
    "Week",
    "book_funding",
    "build_year",
    "calendar_page",
    "colour",
    "csv_text",
    "day_funding",
    "day_of",
    "day_totals",
    "day_trades",
    "desk_overview",
    "equity_at_day_start",
    "export",
    "export_table",
    "group_stats",
    "month_days",
    "open_positions",
    "overview",
    "percent",
    "period_stats",
    "shift",
    "snapshot_equity",
    "start_equity",
    "strong",
    "sync_balances",
    "zone",
]

"""The journal page's pieces that unit tests reach (pages/journal.py registers the page): the
filters read from the browser, a trade as a grid row (prices and amounts in the market's precision,
money to cents, % and R as the calendar shows them), the cumulative-profit figure, the statistics
tables by setup and tag, and the page's paging arithmetic."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go

from db.enums import Side, TradeStatus
from engine.common.precision import format_number
from engine.journal.api import OUTCOMES, STATUSES, JournalTrade, ProfitPoint, TradeFilter
from pages.components.calendar import fmt_money, fmt_value
from pages.components.calendar_page import parse_day
from pages.components.chart_focus import chart_href, timeframe_for
from pages.components.layout import empty_panel, panel_layout

SIDES = {s.value: s for s in Side}
REPLAY_BADGE = "replay"  # the account column of a replay's or backtest's trade (a badge: assets/10-tradeblock.css)


def _choice(value: Any, allowed: Sequence[str] | None = None, limit: int = 64) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        return None
    return value if allowed is None or value in allowed else None


def parse_filter(
    status: Any, symbol: Any, side: Any, setup: Any, tag: Any, outcome: Any, first: Any, last: Any, replay: Any = False
) -> TradeFilter:
    """The filters as the browser sent them; anything malformed filters nothing (and replays stay
    out unless the switch is plainly on)."""
    return TradeFilter(
        status=_choice(status, list(STATUSES)) or "all",
        symbol=_choice(symbol),
        side=SIDES.get(side) if isinstance(side, str) else None,
        setup=_choice(setup),
        tag=_choice(tag, limit=40),
        outcome=_choice(outcome, OUTCOMES),
        first=parse_day(first),
        last=parse_day(last),
        replay=replay is True,
    )


def next_page(trigger: Any, current: Any) -> int:
    """The page index after a click on prev/next; any filter change goes back to the first page."""
    page = current if isinstance(current, int) and current >= 0 else 0
    if trigger == "jr-next":
        return page + 1
    if trigger == "jr-prev":
        return max(0, page - 1)
    return 0 if trigger is not None else page


def fmt_duration(value: timedelta | None) -> str:
    """3d 4h, 5h 12m, 7m, 40s: the two largest units."""
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def _price(value: Decimal | None, tick: Decimal | None) -> str:
    return "" if value is None else format_number(value, tick)


def _local(moment: datetime | None, tz: str) -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _pnl(t: JournalTrade) -> str:
    """Realized P&L; an open trade's unrealized part at the engine's last price, said so."""
    if t.status is TradeStatus.CLOSED:
        return fmt_money(t.pnl)
    if t.unrealized_pnl is None:
        return "open"
    return f"{fmt_money(t.pnl + t.unrealized_pnl)} (open)"


def _moment_ms(t: JournalTrade) -> int:
    moment = t.closed_at or t.opened_at
    return int(moment.timestamp() * 1000) if moment is not None else 0


def link(t: JournalTrade, now: datetime) -> str:
    """The chart at the trade's time with its block, on a timeframe that shows its whole life."""
    start, end = t.opened_at, t.closed_at or now
    duration = int((end - start).total_seconds() * 1000) if start is not None else None
    middle = (start + (end - start) / 2) if start is not None else end
    return chart_href(t.exchange, t.symbol, timeframe_for(duration), int(middle.timestamp() * 1000), t.block_id)


def grid_row(t: JournalTrade, now: datetime, tz: str) -> dict[str, Any]:
    running = t.duration if t.status is TradeStatus.CLOSED else (now - t.opened_at if t.opened_at else None)
    return {
        "row_id": str(t.trade_id),
        "trade_id": t.trade_id,
        "block_id": t.block_id,
        "symbol": t.symbol,
        "account": REPLAY_BADGE if t.replay else "",
        "side": t.side.value,
        "target": f"T{t.index + 1}",
        "status": t.status.value,
        "entry_time": _local(t.opened_at, tz),
        "entry": _price(t.entry_price, t.price_tick),
        "exit_time": _local(t.closed_at, tz),
        "exit": _price(t.exit_price, t.price_tick),
        "amount": _price(t.amount, t.amount_tick),
        "pnl": _pnl(t),
        "pct": fmt_value(t.pct, "percent") if t.pct is not None else "",
        "r": fmt_value(t.r, "r") if t.r is not None and t.status is TradeStatus.CLOSED else "",
        "duration": fmt_duration(running) + ("" if t.status is TradeStatus.CLOSED or running is None else " (open)"),
        "fees": fmt_money(t.fees, sign=False),
        "reason": t.close_reason.value if t.close_reason else "",
        "setup": t.setup or "",
        "tags": ", ".join(t.tags),
        "chart": link(t, now),
        "at": _moment_ms(t),
    }


COLUMNS: list[dict[str, Any]] = [
    {"field": "entry_time", "headerName": "Entry time", "width": 140},
    {"field": "symbol", "width": 110},
    {"field": "account", "headerName": "Account", "width": 90, "cellClass": "jr-account"},
    {"field": "side", "width": 75},
    {"field": "block_id", "headerName": "Block", "width": 80},
    {"field": "target", "headerName": "Target", "width": 80},
    {"field": "status", "width": 85},
    {"field": "entry", "width": 100, "type": "rightAligned"},
    {"field": "exit_time", "headerName": "Exit time", "width": 140},
    {"field": "exit", "width": 100, "type": "rightAligned"},
    {"field": "amount", "width": 95, "type": "rightAligned"},
    {"field": "pnl", "headerName": "P&L", "width": 120, "type": "rightAligned"},
    {"field": "pct", "headerName": "%", "width": 85, "type": "rightAligned"},
    {"field": "r", "headerName": "R", "width": 80, "type": "rightAligned"},
    {"field": "duration", "width": 110},
    {"field": "fees", "width": 85, "type": "rightAligned"},
    {"field": "reason", "headerName": "Exit reason", "width": 110},
    {"field": "setup", "width": 120},
    {"field": "tags", "flex": 1, "minWidth": 120},
]


def profit_figure(points: Sequence[ProfitPoint], dark: bool | None) -> go.Figure:
    """The running sum of the filtered closed trades' P&L, one step per trade; an empty state
    that says so when there are none."""
    fig = go.Figure()
    layout = panel_layout(dark)
    if not points:
        return empty_panel(fig, layout, "No closed trades match these filters")
    fig.add_trace(
        go.Scatter(
            x=[p.at.isoformat() for p in points],
            y=[float(p.cumulative) for p in points],
            mode="lines+markers" if len(points) < 60 else "lines",
            line={"color": "#0d6efd", "width": 2, "shape": "hv"},
            customdata=[[fmt_money(p.pnl), fmt_money(p.cumulative), p.trade_id] for p in points],
            hovertemplate="%{x|%Y-%m-%d %H:%M}<br>trade %{customdata[2]}: %{customdata[0]}"
            "<br>total %{customdata[1]}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": "rgba(128,128,128,0.6)", "width": 1, "dash": "dot"})
    fig.update_layout(**layout, yaxis={"tickformat": ",.2f", "zeroline": False}, xaxis={"type": "date"})
    return fig


def summary(total: int, page: int, pages: int) -> str:
    if not total:
        return "No trades match these filters."
    noun = "trade" if total == 1 else "trades"
    return f"{total:,} {noun} · page {page + 1} of {pages}"

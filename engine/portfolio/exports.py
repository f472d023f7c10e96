"""The calendar's exports as tables: a period's closed trades and its daily P&L, built once with
typed cells (dates, ints, text, Decimals rounded as the screen shows them) and written by two
writers, the CSV here and the xlsx in engine.reports, so both files carry the same rows and columns.

The rows are the calendar's own: a trade is a row on each day it exited on (entry fills without an
exit are not a closed trade), a day is a row up to the user's today (days not yet lived have no P&L).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal

from engine.common.precision import CENTS, quantize_to_tick
from engine.portfolio import calendar as cal

if TYPE_CHECKING:  # periods and views import this module: the type only, to avoid a cycle
    from engine.portfolio.periods import Period

# A column's kind tells a writer how to show it: "exact" Decimals (prices, amounts) as they are;
# "money" to the quote's cents, "percent" to 4 places, "r" to 2, as the screen rounds them.
Kind = Literal["date", "int", "text", "exact", "money", "percent", "r"]
PLACES: dict[str, Decimal] = {"money": CENTS, "percent": Decimal("0.0001"), "r": Decimal("0.01")}
ZERO = Decimal(0)


@dataclass(frozen=True)
class Table:
    kind: str  # "trades" or "daily"
    columns: tuple[tuple[str, Kind], ...]
    rows: tuple[tuple[Any, ...], ...]  # None is an empty cell

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


TRADE_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("day", "date"), ("trade_id", "int"), ("block_id", "int"), ("symbol", "text"), ("side", "text"),
    ("amount", "exact"), ("entry_average", "exact"), ("exit_average", "exact"), ("exit_fills", "int"),
    ("pnl", "money"), ("fees", "money"), ("r", "r"),
)  # fmt: skip
DAY_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("day", "date"), ("pnl", "money"), ("pct_of_start_equity", "percent"), ("r", "r"), ("trades", "int"),
    ("fees", "money"), ("start_equity", "money"),
)  # fmt: skip


def _rounded(row: tuple[Any, ...], columns: tuple[tuple[str, Kind], ...]) -> tuple[Any, ...]:
    """The row with its money, % and R cells rounded half up to their places."""
    return tuple(
        quantize_to_tick(v, PLACES[kind], ROUND_HALF_UP) if kind in PLACES and v is not None else v
        for v, (_, kind) in zip(row, columns, strict=True)
    )


def trades_table(period: Period) -> Table:
    """One row per trade and day it exited on."""
    rows = []
    for b in period.bookings:
        if b.exits:
            cells = (b.day, b.trade_id, b.block_id, b.symbol, b.side.value, b.amount, b.entry_average,
                     b.exit_average, b.exits, b.pnl, b.fees, b.r)  # fmt: skip
            rows.append(_rounded(cells, TRADE_COLUMNS))
    return Table("trades", TRADE_COLUMNS, tuple(rows))


def daily_table(period: Period, today: date | None = None) -> Table:
    """One row per day of the period up to `today`."""
    last = min(period.last, today) if today is not None else period.last
    rows = []
    for i in range((last - period.first).days + 1):
        d = period.first + timedelta(days=i)
        t, equity = period.totals.get(d), period.equity.get(d)
        pnl = t.pnl if t else ZERO
        pct = cal.percent(pnl, equity) if t else None
        rows.append(_rounded((d, pnl, pct, t.r if t else None, t.trades if t else 0, t.fees if t else ZERO, equity),
                             DAY_COLUMNS))  # fmt: skip
    return Table("daily", DAY_COLUMNS, tuple(rows))


def csv_field(value: Any, kind: Kind) -> str:
    """A CSV field: dates in ISO form, Decimals in plain notation (a whole exact value without its
    trailing zeros: 100, not 100.000000), empty for None."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        whole = kind == "exact" and value == value.to_integral()
        return format(value.normalize() if whole else value, "f")
    return str(value)


def csv_text(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.names)
    kinds = [kind for _, kind in table.columns]
    for row in table.rows:
        writer.writerow([csv_field(v, k) for v, k in zip(row, kinds, strict=True)])
    return out.getvalue()

"""Realized P&L bucketed into the user's trading days, in SQL, with exact Decimal sums.

A trading day is the local calendar day [00:00, next 00:00) in `users.timezone` (docs/pnl.md): 24
hours most days, 23 on a spring-forward day and 25 on a fall-back day. P&L is booked by EXIT fills
on the day each fill happened (`fills.ts`), not the day the trade closed.

How the SQL buckets by local day, right across DST: for the requested range, Python (zoneinfo)
finds the instants the zone's UTC offset changes; the query adds the offset in force at each fill
(`CASE WHEN ts < change1 THEN offset0 WHEN ts < change2 THEN offset1 ... END`) and divides by a day,
which gives the local day number (days since 1970-01-01 local). The same integer SQL runs on
SQLite and PostgreSQL. Sums are exact: NUMERIC on PostgreSQL, a Decimal aggregate registered on the
SQLite connection (SQLite's own SUM would turn the stored decimal text into doubles).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, any_, case, func, literal, literal_column, or_, select, true, type_coerce
from sqlalchemy.orm import Session

from db.enums import EXIT_ROLES, Side
from db.models import Block, Fill, Trade
from engine.common.precision import WIDE_PRECISION, wide_context

if TYPE_CHECKING:  # scope.py reads this module's helpers: only the type is needed here
    from engine.portfolio.scope import Scope

ZERO = Decimal(0)
DAY_MS = 86_400_000
EPOCH = date(1970, 1, 1)
# One context object, used by method (Context.add...) in hot loops: entering a `localcontext` per
# value cost more than the arithmetic. 60 digits keep sums of 18-decimal money exact.
WIDE = Context(prec=WIDE_PRECISION)
SIDES = {s.value: s for s in Side}


# --- days and their boundaries (pure) ---


def zone(tz: str | None) -> ZoneInfo:
    """The user's zone; an unknown or empty name falls back to UTC rather than failing a page."""
    try:
        return ZoneInfo(tz or "UTC")
    except (ValueError, KeyError):  # zoneinfo raises ZoneInfoNotFoundError (a KeyError) or ValueError
        return ZoneInfo("UTC")


def day_start_ms(day: date, tz: str) -> int:
    """UTC milliseconds of the first instant of `day` in `tz` (a midnight that a DST jump skips
    maps to the first instant that exists)."""
    local = datetime.combine(day, time(0), tzinfo=zone(tz))
    return int(local.astimezone(UTC).timestamp() * 1000)


def day_of(ts_ms: int, tz: str) -> date:
    """The trading day a UTC millisecond timestamp falls on."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).astimezone(zone(tz)).date()


def day_boundaries(first: date, last: date, tz: str) -> list[int]:
    """UTC ms of the start of every day from `first` to `last`, and of the day after `last`."""
    days = (last - first).days + 2
    return [day_start_ms(first + timedelta(days=i), tz) for i in range(days)]


def _offset_ms(ts_ms: int, tz: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(ts_ms / 1000, tz=UTC).astimezone(tz).utcoffset()
    return int(offset.total_seconds() * 1000) if offset is not None else 0


@lru_cache(maxsize=512)  # pure (zoneinfo's data does not change while the process runs)
def offset_segments(start_ms: int, end_ms: int, tz: str) -> tuple[tuple[int, int], ...]:
    """[(from_ms, offset_ms), ...]: the zone's UTC offset over [start_ms, end_ms), one entry per
    change. Offsets are sampled every 12 hours (zones change at most once in that time); a change
    is then located to the millisecond by bisection."""
    info = zone(tz)
    step = DAY_MS // 2
    segments = [(start_ms, _offset_ms(start_ms, info))]
    at = start_ms
    while at < end_ms:
        nxt = min(at + step, end_ms)
        before, after = _offset_ms(at, info), _offset_ms(nxt, info)
        if before != after:
            low, high = at, nxt  # offset(low) == before, offset(high) == after
            while high - low > 1:  # about 26 steps: the first millisecond of the new offset
                mid = (low + high) // 2
                low, high = (mid, high) if _offset_ms(mid, info) == before else (low, mid)
            segments.append((high, after))
        at = nxt
    return tuple(segments)


def local_day_sql(column: str, segments: Sequence[tuple[int, int]]) -> str:
    """SQL text of the local day number of a UTC-ms integer column, given `offset_segments`."""
    if len(segments) == 1:
        offset = str(segments[0][1])
    else:
        whens = " ".join(f"WHEN {column} < {int(frm)} THEN {int(prev)}" for (frm, _), (_, prev) in _pairs(segments))
        offset = f"CASE {whens} ELSE {int(segments[-1][1])} END"
    return f"(({column} + {offset}) / {DAY_MS})"


def _pairs(segments: Sequence[tuple[int, int]]) -> Iterable[tuple[tuple[int, int], tuple[int, int]]]:
    # (next segment's start, this segment's offset): "before the change, the old offset".
    return zip(segments[1:], segments[:-1], strict=True)


def day_from_number(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


# --- exact sums on SQLite ---


def decimal_sum(session: Session, expr: Any) -> Any:
    """An exact SUM of a Money expression on either database: NUMERIC sum on PostgreSQL; on SQLite
    the group's decimal texts joined by spaces (group_concat, in C; NULLs skipped like SUM), which
    `as_decimal` adds up exactly. Groups here hold one or two fills, so that is cheap."""
    if session.get_bind().dialect.name != "sqlite":
        return func.sum(expr)
    return func.group_concat(expr, " ")


def as_decimal(value: Any) -> Decimal:
    """A Decimal from a database value (None is 0; SQLite's joined sums are added up)."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    text = str(value)
    if " " not in text and "*" not in text:
        return Decimal(text)
    total = ZERO
    for part in text.split():
        if "*" in part:  # an exact product: a base-coin fee x the fill's price (_quote_fee)
            factor, price = part.split("*", 1)
            total = WIDE.add(total, WIDE.multiply(Decimal(factor), Decimal(price)))
        else:
            total = WIDE.add(total, Decimal(part))
    return total


def _quote_fee(sqlite: bool) -> Any:
    """A fill's fee in the quote currency, as engine.blocks.pnl.fee_parts values it: a fee in the quote
    (or settle) currency or without one as it is, one in the base coin x the fill's price, one in
    a third currency (BNB) left out (NULL). SQLite gets "fee*price" text for the exact product
    (`as_decimal` multiplies), PostgreSQL multiplies NUMERICs."""
    symbol, currency = Block.symbol, Fill.fee_currency
    if sqlite:
        base = func.substr(symbol, 1, func.instr(symbol, "/") - 1)
        in_base: Any = type_coerce(Fill.fee, String) + "*" + type_coerce(Fill.price, String)
    else:
        base = func.split_part(symbol, "/", 1)
        in_base = Fill.fee * Fill.price
    quote_like = or_(
        currency.is_(None),
        symbol.like(literal("%/") + currency + literal("%")),
        symbol.like(literal("%:") + currency + literal("%")),
    )
    return case((and_(currency.is_not(None), currency == base), in_base), (quote_like, Fill.fee), else_=None)


# --- the bookings ---


class Booking(NamedTuple):
    """What one trade booked on one day: its exit fills' P&L (fees included) and every fill's fee.
    A NamedTuple: a year has a thousand of them, and tuples are built ten times faster."""

    day: date
    trade_id: int
    block_id: int
    symbol: str
    side: Side
    pnl: Decimal  # realized by the day's exit fills, after fees
    fees: Decimal  # the fees that P&L is after: the exit fills' fees and their share of the entry fees
    exits: int  # exit fills that day
    risk: Decimal | None  # money at risk at entry: the block's risk, this trade's share of it
    entry_average: Decimal | None
    exit_average: Decimal | None
    amount: Decimal

    @property
    def r(self) -> Decimal | None:
        """The day's P&L of this trade in R (P&L / money at risk); None without a risk."""
        if self.risk is None or self.risk <= 0:
            return None
        return self.pnl / self.risk  # R is a ratio for display and sums: 28 digits are plenty


def bookings(
    session: Session, user_ids: list[int], tz: str, first: date, last: date, scope: Scope | None = None
) -> dict[int, list[Booking]]:
    """Per user, what each trade booked on each trading day from `first` to `last` (inclusive), in
    one query grouped by (user, local day, trade). Users must share the timezone `tz`. `scope` says
    which accounts count (engine.portfolio.scope; None: every account)."""
    if not user_ids:
        return {}
    start_ms, end_ms = day_start_ms(first, tz), day_start_ms(last + timedelta(days=1), tz)
    day_no = literal_column(local_day_sql(f"{Fill.__tablename__}.ts", offset_segments(start_ms, end_ms, tz)))
    is_exit = Fill.role.in_(EXIT_ROLES)
    # Both planners must go user -> blocks -> trades -> fills by index, not through every user's
    # fills or trades (100 users: 10-100x the rows; docs/benchmarks.md). SQLite would walk the ts
    # index over all fills of the period: "+ts" hides that index. PostgreSQL would hash-join a
    # sequential scan of all trades: the user's block ids as an array (= ANY) make it probe the
    # trades' block_id index. The ids are our own integers, hence the literal SQL.
    sqlite = session.get_bind().dialect.name == "sqlite"
    ts = literal_column(f"+{Fill.__tablename__}.ts") if sqlite else Fill.ts
    ids = ", ".join(str(int(u)) for u in user_ids)
    in_scope = scope.sql("account_id") if scope is not None else ""
    blocks_sql = f"ARRAY(SELECT id FROM {Block.__tablename__} WHERE user_id IN ({ids}){in_scope})"
    mine = true() if sqlite else Trade.block_id == any_(literal_column(blocks_sql))
    accounts = scope.where(Block.account_id) if scope is not None else None
    wanted = and_(Block.user_id.in_(user_ids), mine, ts >= start_ms, ts < end_ms)
    fee = _quote_fee(sqlite)
    query = (
        select(
            Block.user_id,
            day_no.label("day_no"),
            Trade.id,
            Block.id,
            Block.symbol,
            type_coerce(Block.side, String),  # plain text: the Enum type's per-row check cost ~4 us a row
            Block.risk,
            Block.total_amount,
            Trade.amount,
            Trade.entry_average,
            Trade.exit_average,
            Trade.entry_filled,
            decimal_sum(session, case((is_exit, Fill.realized_pnl))),
            decimal_sum(session, case((is_exit, fee))),
            decimal_sum(session, case((is_exit, Fill.amount))),
            func.sum(case((is_exit, 1), else_=0)),
        )
        .select_from(Fill)
        .join(Trade, Trade.id == Fill.trade_id)
        .join(Block, Block.id == Trade.block_id)
        .where(wanted if accounts is None else and_(wanted, accounts))
        .group_by(Block.user_id, literal_column("day_no"), Trade.id, Block.id)
        .order_by(literal_column("day_no"), Trade.id)
    )
    out: dict[int, list[Booking]] = {uid: [] for uid in user_ids}
    conn = session.connection()
    shares: dict[int, Decimal | None] = {}  # trade id -> its risk: a trade books on a few days
    rows = conn.execute(query).all()  # Core rows, fetched at once: no per-row ORM work
    entry_fees = _entry_fees(session, sorted({row[2] for row in rows if row[-1]}))
    for row in rows:
        uid, number, trade_id, block_id, symbol, side, risk, total, amount, entry_avg, exit_avg, *sums = row
        filled, pnl, exit_fees, exited, exits = sums
        if trade_id not in shares:
            shares[trade_id] = _risk_share(risk, total, amount)
        out[uid].append(
            Booking(
                day=day_from_number(number),
                trade_id=trade_id,
                block_id=block_id,
                symbol=symbol,
                side=SIDES[side],
                pnl=as_decimal(pnl),
                fees=_fees_charged(as_decimal(exit_fees), entry_fees.get(trade_id, ZERO), as_decimal(exited), filled),
                exits=int(exits or 0),
                risk=shares[trade_id],
                entry_average=entry_avg,
                exit_average=exit_avg,
                amount=amount,
            )
        )
    return out


def _entry_fees(session: Session, trade_ids: list[int]) -> dict[int, Decimal]:
    """Each trade's entry fees in quote, whenever its entries filled (often before the period): the
    P&L of its exits is charged a share of them, so the fees shown with that P&L include it."""
    if not trade_ids:
        return {}
    query = (
        select(Fill.trade_id, decimal_sum(session, _quote_fee(session.get_bind().dialect.name == "sqlite")))
        .join(Trade, Trade.id == Fill.trade_id)
        .join(Block, Block.id == Trade.block_id)
        .where(Fill.trade_id.in_(trade_ids), Fill.role.not_in(EXIT_ROLES))
        .group_by(Fill.trade_id)
    )
    return {trade_id: as_decimal(fee) for trade_id, fee in session.connection().execute(query)}


def _fees_charged(exit_fees: Decimal, entry_fees: Decimal, exited: Decimal, entry_filled: Decimal | None) -> Decimal:
    """The fees a day's exits of a trade were charged (docs/pnl.md): their own fees plus the entry
    fees x exited amount / entry filled, as the fill P&L charges them. Entry-only days charge none:
    a period's fees belong with the trades it closed, so fees, P&L and trade counts agree."""
    if not exited or not entry_filled:
        return exit_fees
    return WIDE.add(exit_fees, WIDE.divide(WIDE.multiply(entry_fees, exited), entry_filled))


def _risk_share(risk: Decimal | None, total: Decimal | None, amount: Decimal | None) -> Decimal | None:
    if risk is None or not total or amount is None:
        return None
    return risk * amount / total  # a display figure (R): the default 28 digits are plenty


# --- days (pure) ---


@dataclass(frozen=True)
class DayTotal:
    day: date
    pnl: Decimal  # the trades' P&L and the funding
    fees: Decimal
    trades: int  # trades with an exit fill that day
    r: Decimal | None  # sum of the day's trades' R; None when no trade had a risk
    funding: Decimal = ZERO  # perpetual funding paid (< 0) or received that day, in `pnl` too


def day_totals(rows: Iterable[Booking], funding: Iterable[tuple[date, Decimal]] = ()) -> dict[date, DayTotal]:
    """Sum bookings and (day, amount) funding per day: a day's P&L is its trades' P&L plus its
    funding. Days with only entry fills are kept with no trades, P&L or fees (the entry fees are
    charged on the days of the exits)."""
    acc: dict[date, list[Booking]] = {}
    for row in rows:
        acc.setdefault(row.day, []).append(row)
    paid: dict[date, Decimal] = {}
    with wide_context():
        for day, amount in funding:
            paid[day] = paid.get(day, ZERO) + amount
            acc.setdefault(day, [])
    out = {}
    with wide_context():
        for day, items in sorted(acc.items()):
            rs = [b.r for b in items if b.exits and b.r is not None]
            out[day] = DayTotal(
                day=day,
                pnl=sum((b.pnl for b in items), paid.get(day, ZERO)),
                fees=sum((b.fees for b in items), ZERO),
                trades=sum(1 for b in items if b.exits),
                r=sum(rs, ZERO) if rs else None,
                funding=paid.get(day, ZERO),
            )
    return out


def start_equity(days: list[date], closes: dict[date, Decimal], pnl: dict[date, Decimal]) -> dict[date, Decimal | None]:
    """Equity at the start of each of `days` (ascending), from end-of-day equity snapshots `closes`
    (a snapshot of day X values X's close) and the realized P&L per day, as docs/pnl.md says:

    the latest close C of a day X before D, plus the P&L booked on the days after X and before D;
    with no close before D, the earliest close after, less the P&L booked from D to that day;
    None when there are no snapshots at all."""
    if not closes:
        return dict.fromkeys(days)
    known = sorted(closes)
    # Prefix sums of the P&L over every day mentioned, so each lookup is two bisections.
    axis = sorted(set(pnl) | set(known) | set(days))
    prefix, running = [], ZERO
    with wide_context():
        for k in axis:
            running += pnl.get(k, ZERO)
            prefix.append(running)

        def through(day: date) -> Decimal:  # P&L booked on days <= day
            i = bisect_right(axis, day)
            return prefix[i - 1] if i else ZERO

        out: dict[date, Decimal | None] = {}
        for d in days:
            i = bisect_left(known, d)
            before = d - timedelta(days=1)
            if i:
                x = known[i - 1]
                out[d] = closes[x] + through(before) - through(x)
            else:
                x = known[0]
                out[d] = closes[x] - (through(x) - through(before))
    return out

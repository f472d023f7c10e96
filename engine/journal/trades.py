"""The journal's trade list: a user's trades that were entered (open and closed), newest first,
filtered and paged in SQL (limit/offset and a count), with P&L in money, % and R as the calendar
computes them (engine.portfolio: % of the equity at the start of the closing day, R = P&L / the
trade's share of the block's risk), unrealized P&L of open trades at the engine's last price,
duration, fees, exit reason, setup and tags. Only the user's own blocks are ever read. Trades of
replay and backtest accounts are marked (`replay`) and left out unless the filter asks for them;
their % is of their own replay account's equity (engine.portfolio's account scope).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Select, and_, any_, cast, exists, func, literal_column, select
from sqlalchemy.orm import Session

from db.enums import AccountKind, CloseReason, Side, TradeStatus
from db.models import Block, BlockTag, ExchangeAccount, Market, Trade
from engine.common.pnl import unrealized
from engine.common.precision import wide_context
from engine.portfolio import api as portfolio
from engine.runtime import Runtime

ZERO = Decimal(0)
STATUSES = {"open": (TradeStatus.OPEN,), "closed": (TradeStatus.CLOSED,), "all": (TradeStatus.OPEN, TradeStatus.CLOSED)}
OUTCOMES = ("win", "loss")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class TradeFilter:
    """What the journal's filters ask for; empty fields filter nothing. Dates are the user's local days."""

    status: str = "all"  # open / closed / all
    symbol: str | None = None
    side: Side | None = None
    setup: str | None = None
    tag: str | None = None
    outcome: str | None = None  # win / loss (closed trades)
    first: date | None = None
    last: date | None = None
    replay: bool = False  # also the trades of replay and backtest accounts (practice, left out by default)


@dataclass(frozen=True)
class JournalTrade:
    """One row of the journal: a trade with its block's columns and its figures."""

    trade_id: int
    block_id: int
    index: int  # the target's index (0-based)
    exchange: str
    symbol: str
    side: Side
    status: TradeStatus
    amount: Decimal  # entered
    entry_price: Decimal | None
    exit_price: Decimal | None
    stop_price: Decimal
    target_price: Decimal
    opened_at: datetime | None
    closed_at: datetime | None
    pnl: Decimal  # realized (fees included); an open trade's realized part
    unrealized_pnl: Decimal | None  # an open trade's open amount at the last price; None when unknown
    pct: Decimal | None  # of the equity at the start of the closing day
    r: Decimal | None
    fees: Decimal
    close_reason: CloseReason | None
    setup: str | None
    tags: tuple[str, ...] = ()
    price_tick: Decimal | None = None
    amount_tick: Decimal | None = None
    replay: bool = False  # a replay's or backtest's trade (its account is AccountKind.REPLAY)

    @property
    def duration(self) -> timedelta | None:
        """Open to close; an open trade's so far is left to the page (it knows 'now')."""
        if self.opened_at is None or self.closed_at is None:
            return None
        return self.closed_at - self.opened_at


@dataclass(frozen=True)
class JournalPage:
    rows: list[JournalTrade]
    total: int  # trades matching the filter, all pages
    page: int  # 0-based
    per_page: int
    setups: list[str] = field(default_factory=list)  # the user's, for the filter's options
    tags: list[str] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    since: date | None = None  # the local day of the user's first entry: where "all time" starts

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _when() -> Any:
    # Closed trades by their exit, open ones by their entry: "newest first" is what happened last.
    return func.coalesce(Trade.closed_at, Trade.opened_at)


def _positive(session: Session, column: Any) -> Any:
    # SQLite stores money as decimal text, which compares as text: its sign is read through REAL.
    return cast(column, Float) if session.get_bind().dialect.name == "sqlite" else column


def filtered(session: Session, user_id: int, flt: TradeFilter, tz: str) -> Select[Any]:
    """The user's matching trades (no columns chosen yet): a WHERE over trades joined to blocks."""
    conditions: list[Any] = [Block.user_id == user_id, Trade.status.in_(STATUSES.get(flt.status, STATUSES["all"]))]
    if session.get_bind().dialect.name == "postgresql":
        # As engine.portfolio.bookings does: the user's block ids as an array make PostgreSQL probe
        # the trades' block_id index instead of hash-joining a scan of every user's trades.
        mine = literal_column(f"ARRAY(SELECT id FROM {Block.__tablename__} WHERE user_id = {int(user_id)})")
        conditions.append(Trade.block_id == any_(mine))
    if not flt.replay:
        replays = select(ExchangeAccount.id).where(
            ExchangeAccount.user_id == user_id, ExchangeAccount.kind == AccountKind.REPLAY
        )
        conditions.append(Block.account_id.not_in(replays.scalar_subquery()))
    if flt.symbol:
        conditions.append(Block.symbol == flt.symbol)
    if flt.side is not None:
        conditions.append(Block.side == flt.side)
    if flt.setup:
        conditions.append(Block.setup == flt.setup)
    if flt.tag:
        tagged = exists().where(BlockTag.block_id == Block.id, BlockTag.tag == flt.tag.strip().lower())
        conditions.append(tagged)
    if flt.outcome in OUTCOMES:
        pnl = _positive(session, Trade.realized_pnl)
        conditions.append(and_(Trade.status == TradeStatus.CLOSED, pnl > 0 if flt.outcome == "win" else pnl < 0))
    if flt.first is not None:
        conditions.append(_when() >= _day_start(flt.first, tz))
    if flt.last is not None:
        conditions.append(_when() < _day_start(flt.last + timedelta(days=1), tz))
    return select().select_from(Trade).join(Block, Block.id == Trade.block_id).where(*conditions)


_COLUMNS = (
    Trade.id,
    Trade.block_id,
    Trade.index,
    ExchangeAccount.exchange,
    Block.symbol,
    Block.side,
    Trade.status,
    Trade.entry_filled,
    Trade.entry_average,
    Trade.exit_filled,
    Trade.exit_average,
    Trade.stop_price,
    Trade.target_price,
    Trade.opened_at,
    Trade.closed_at,
    Trade.realized_pnl,
    Trade.fees,
    Trade.close_reason,
    Block.setup,
    Block.risk,
    Block.total_amount,
    Trade.amount,
    Market.price_tick,
    Market.amount_tick,
    Block.account_id,
    ExchangeAccount.kind,
)


def _page_rows(session: Session, user_id: int, flt: TradeFilter, tz: str, page: int, per_page: int) -> list[Any]:
    query = (
        filtered(session, user_id, flt, tz)
        .add_columns(*_COLUMNS)
        .join(ExchangeAccount, ExchangeAccount.id == Block.account_id)
        .outerjoin(Market, and_(Market.exchange == ExchangeAccount.exchange, Market.symbol == Block.symbol))
        .order_by(_when().desc(), Trade.id.desc())
        .limit(per_page)
        .offset(page * per_page)
    )
    return list(session.execute(query))


def _tags_of(session: Session, block_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    out: dict[int, list[str]] = {}
    if block_ids:
        query = select(BlockTag.block_id, BlockTag.tag).where(BlockTag.block_id.in_(block_ids)).order_by(BlockTag.tag)
        for block_id, tag in session.execute(query):
            out.setdefault(block_id, []).append(tag)
    return {k: tuple(v) for k, v in out.items()}


def risk_share(risk: Decimal | None, total: Decimal | None, amount: Decimal | None) -> Decimal | None:
    """The trade's share of its block's risk (the calendar's rule: risk x amount / total amount)."""
    if risk is None or not total or amount is None:
        return None
    return risk * amount / total


def r_multiple(pnl: Decimal, risk: Decimal | None) -> Decimal | None:
    return None if risk is None or risk <= 0 else pnl / risk


def _unrealized(row: Any, last: Decimal | None) -> Decimal | None:
    held = row.entry_filled - row.exit_filled
    if row.status is not TradeStatus.OPEN or last is None or row.entry_average is None or held <= 0:
        return None
    return unrealized(row.side, row.entry_average, last, held)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they are stored as UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _local_day(at: datetime, tz: str) -> date:
    return (aware(at) or at).astimezone(ZoneInfo(tz)).date()


def build_rows(
    rows: Sequence[Any],
    tags: Mapping[int, tuple[str, ...]],
    equity: Mapping[date, Decimal | None],
    prices: Mapping[tuple[str, str], Decimal],
    tz: str,
    replay_equity: Mapping[int, Mapping[date, Decimal | None]] | None = None,
) -> list[JournalTrade]:
    """The rows as journal trades; % of `equity` (the live and paper accounts'), a replay trade's
    of its own account's (`replay_equity`, by account id)."""
    out = []
    with wide_context():
        for row in rows:
            open_pnl = _unrealized(row, prices.get((row.exchange, row.symbol)))
            closed = row.status is TradeStatus.CLOSED and row.closed_at is not None
            replay = row.kind is AccountKind.REPLAY
            basis = (replay_equity or {}).get(row.account_id, {}) if replay else equity
            start = basis.get(_local_day(row.closed_at, tz)) if closed else None
            out.append(
                JournalTrade(
                    trade_id=row.id,
                    block_id=row.block_id,
                    index=row.index,
                    exchange=row.exchange,
                    symbol=row.symbol,
                    side=row.side,
                    status=row.status,
                    amount=row.entry_filled,
                    entry_price=row.entry_average,
                    exit_price=row.exit_average,
                    stop_price=row.stop_price,
                    target_price=row.target_price,
                    opened_at=aware(row.opened_at),
                    closed_at=aware(row.closed_at),
                    pnl=row.realized_pnl,
                    unrealized_pnl=open_pnl,
                    pct=portfolio.percent(row.realized_pnl, start) if closed else None,
                    r=r_multiple(row.realized_pnl, risk_share(row.risk, row.total_amount, row.amount)),
                    fees=row.fees,
                    close_reason=row.close_reason,
                    setup=row.setup,
                    tags=tags.get(row.block_id, ()),
                    price_tick=row.price_tick,
                    amount_tick=row.amount_tick,
                    replay=replay,
                )
            )
    return out


def _choices(session: Session, user_id: int) -> tuple[list[str], list[str], list[str]]:
    mine = Block.user_id == user_id
    setups = session.scalars(select(Block.setup).where(mine, Block.setup.is_not(None)).distinct().order_by(Block.setup))
    tags = session.scalars(
        select(BlockTag.tag).join(Block, Block.id == BlockTag.block_id).where(mine).distinct().order_by(BlockTag.tag)
    )
    symbols = session.scalars(select(Block.symbol).where(mine).distinct().order_by(Block.symbol))
    return list(setups), list(tags), list(symbols)


def trade_page(
    runtime: Runtime, user_id: int, tz: str, flt: TradeFilter, page: int = 0, per_page: int = PAGE_SIZE
) -> JournalPage:
    """One page of the user's matching trades, newest first, with the filter's options."""
    per_page = max(1, min(int(per_page), MAX_PAGE_SIZE))
    page = max(0, int(page))
    with runtime.sessions() as s:
        total = s.scalar(filtered(s, user_id, flt, tz).add_columns(func.count())) or 0
        page = min(page, max(0, -(-total // per_page) - 1))
        rows = _page_rows(s, user_id, flt, tz, page, per_page)
        tags = _tags_of(s, sorted({r.block_id for r in rows}))
        setups, all_tags, symbols = _choices(s, user_id)
        first_entry = s.scalar(
            select(func.min(Trade.opened_at)).join(Block, Block.id == Trade.block_id).where(Block.user_id == user_id)
        )
    days: dict[int | None, set[date]] = {}  # replay account id (None: live and paper) -> closing days
    for r in rows:
        if r.status is TradeStatus.CLOSED and r.closed_at is not None:
            key = r.account_id if r.kind is AccountKind.REPLAY else None
            days.setdefault(key, set()).add(_local_day(r.closed_at, tz))
    equity = {key: portfolio.equity_at_day_start(runtime, user_id, tz, wanted, key) for key, wanted in days.items()}
    replays = {key: value for key, value in equity.items() if key is not None}
    built = build_rows(rows, tags, equity.get(None, {}), dict(runtime.trading.last_prices), tz, replays)
    since = _local_day(first_entry, tz) if first_entry is not None else None
    return JournalPage(built, total, page, per_page, setups, all_tags, symbols, since)


@dataclass(frozen=True)
class ProfitPoint:
    at: datetime  # the trade's close
    trade_id: int
    pnl: Decimal
    cumulative: Decimal


def cumulative_profit(runtime: Runtime, user_id: int, tz: str, flt: TradeFilter) -> list[ProfitPoint]:
    """The filtered closed trades in the order they closed, with the running sum of their P&L."""
    closed = TradeFilter(**{**flt.__dict__, "status": "closed"}) if flt.status != "open" else None
    if closed is None:
        return []
    with runtime.sessions() as s:
        query = filtered(s, user_id, closed, tz).add_columns(Trade.closed_at, Trade.id, Trade.realized_pnl)
        rows = list(s.execute(query.where(Trade.closed_at.is_not(None)).order_by(Trade.closed_at, Trade.id)))
    out, running = [], ZERO
    with wide_context():
        for at, trade_id, pnl in rows:
            running += pnl
            out.append(ProfitPoint(aware(at) or at, trade_id, pnl, running))
    return out

"""SQLAlchemy 2 typed models: users, markets, candle series and candles.

Conventions: timestamps of market data are integer milliseconds (UTC) as ccxt gives them; wall-clock
columns are timezone-aware datetimes. Candle prices are doubles (market data, read by the million);
anything that is money in an account (orders, fills, P&L) is Numeric and handled as Decimal.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.enums import (
    AccountKind,
    AlertDirection,
    AlertState,
    BackfillStatus,
    BlockStatus,
    CloseReason,
    EntryType,
    MarginMode,
    OrderRole,
    OrderStatus,
    OrderType,
    ProtectionMode,
    Role,
    Side,
    SizeMode,
    TradeStatus,
)
from db.types import Money

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Exact money and market precision: NUMERIC on PostgreSQL, decimal text on SQLite (db.types).
PRICE = Money()


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def enum_column(enum_type: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native ENUM type) so adding a state is a one-line change.
    return Enum(enum_type, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.ANALYST)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    theme: Mapped[str] = mapped_column(String(8), default="light")
    # Raised to end every session of the user (a password change, an admin's "sign out everywhere"):
    # a session remembers the version it was opened under and is refused once it differs.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The last signed-in request, at most once a minute (web.sessions), for the admins' activity figures.
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Market(Base):
    """One tradable market of an exchange, as ccxt describes it (precision as tick sizes)."""

    __tablename__ = "markets"
    __table_args__ = (UniqueConstraint("exchange", "symbol"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange: Mapped[str] = mapped_column(String(32), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    base: Mapped[str] = mapped_column(String(32))
    quote: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    can_short: Mapped[bool] = mapped_column(Boolean, default=False)
    price_tick: Mapped[Decimal | None] = mapped_column(PRICE)
    amount_tick: Mapped[Decimal | None] = mapped_column(PRICE)
    min_amount: Mapped[Decimal | None] = mapped_column(PRICE)
    max_amount: Mapped[Decimal | None] = mapped_column(PRICE)
    min_price: Mapped[Decimal | None] = mapped_column(PRICE)
    max_price: Mapped[Decimal | None] = mapped_column(PRICE)
    min_cost: Mapped[Decimal | None] = mapped_column(PRICE)
    maker_fee: Mapped[Decimal | None] = mapped_column(PRICE)
    taker_fee: Mapped[Decimal | None] = mapped_column(PRICE)
    max_leverage: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Series(Base):
    """A fetched candle series (exchange, symbol, timeframe); stored once whoever watches it."""

    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("exchange", "symbol", "timeframe"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(64))
    timeframe: Mapped[str] = mapped_column(String(8))
    # Progress of the running backfill, for progress bars in the CLI and the UI.
    backfill_status: Mapped[BackfillStatus] = mapped_column(enum_column(BackfillStatus), default=BackfillStatus.IDLE)
    backfill_done: Mapped[int] = mapped_column(Integer, default=0)
    backfill_total: Mapped[int] = mapped_column(Integer, default=0)
    backfill_error: Mapped[str | None] = mapped_column(Text)
    # Oldest candle the exchange has: a full-history backfill stops here and never asks again.
    first_available_ts: Mapped[int | None] = mapped_column(BigInteger)
    last_fetch_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Watch(Base):
    """A user's watchlist entry; many users may watch one series."""

    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("user_id", "series_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Candle(Base):
    """One OHLCV candle of a series at a pyramid level (`tf_ms`); the series' own level is its
    timeframe, coarser levels are rollups maintained on ingest."""

    __tablename__ = "candles"
    # A clustered primary key on SQLite: range reads by (series, level, time) touch one b-tree.
    __table_args__ = {"sqlite_with_rowid": False}

    # No foreign key on purpose: PostgreSQL checks one per inserted row, which cost 7 of the 10 s
    # of a million-candle COPY (docs/benchmarks.md). Only db.bulk writes here, with ids it read
    # from `series`; series are never deleted (unwatching keeps the candles).
    series_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tf_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[float] = mapped_column(Float)


class DataHole(Base):
    """An interval [start_ts, end_ts) the exchange itself has no candles for: never refetched."""

    __tablename__ = "data_holes"
    __table_args__ = (UniqueConstraint("series_id", "start_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    start_ts: Mapped[int] = mapped_column(BigInteger)
    end_ts: Mapped[int] = mapped_column(BigInteger)
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CandleLevel(Base):
    """What one pyramid level of a series holds: first and last candle and the row count, kept by
    engine.market.inventory on every write (ingest, rollup, repair), so the data page never counts
    candles. Missing candles follow from them: (last - first) / step + 1 - rows."""

    __tablename__ = "candle_levels"

    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), primary_key=True)
    tf_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_ts: Mapped[int] = mapped_column(BigInteger)
    last_ts: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class DataJob(Base):
    """A repair, backfill or file import started from the data page, with its progress: written
    by the job as it runs (whichever process runs it), read by the page's poll."""

    __tablename__ = "data_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # repair, backfill, import
    status: Mapped[str] = mapped_column(String(16))  # running, done, failed
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- paper exchange ---
# State of the simulated venue (engine/exchanges/paper.py): accounts, balances, orders, fills and how
# far each account has replayed each symbol's price feed. Sides and statuses are ccxt's strings.


class PaperAccount(Base):
    __tablename__ = "paper_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    margin: Mapped[bool] = mapped_column(Boolean, default=False)  # shorts allowed (base may go negative)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PaperBalance(Base):
    __tablename__ = "paper_balances"
    __table_args__ = (UniqueConstraint("account_id", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"), index=True)
    currency: Mapped[str] = mapped_column(String(32))
    free: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    used: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))  # locked by resting orders


class PaperOrder(Base):
    __tablename__ = "paper_orders"
    __table_args__ = (UniqueConstraint("account_id", "client_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"), index=True)
    client_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))  # buy, sell
    type: Mapped[OrderType] = mapped_column(enum_column(OrderType))
    amount: Mapped[Decimal] = mapped_column(PRICE)
    price: Mapped[Decimal | None] = mapped_column(PRICE)
    stop_price: Mapped[Decimal | None] = mapped_column(PRICE)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    leverage: Mapped[int | None] = mapped_column(Integer)  # a leveraged entry on a margin account
    status: Mapped[str] = mapped_column(String(16), index=True)  # open, closed, canceled, expired, rejected
    filled: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    cost: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))  # quote value of the fills
    fee: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    locked_currency: Mapped[str | None] = mapped_column(String(32))
    locked_amount: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))  # released when it leaves 'open'
    created_ts: Mapped[int] = mapped_column(BigInteger)
    updated_ts: Mapped[int] = mapped_column(BigInteger)


class PaperFill(Base):
    __tablename__ = "paper_fills"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("paper_orders.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal] = mapped_column(PRICE)
    amount: Mapped[Decimal] = mapped_column(PRICE)
    fee: Mapped[Decimal] = mapped_column(PRICE)
    fee_currency: Mapped[str] = mapped_column(String(32))
    taker_or_maker: Mapped[str] = mapped_column(String(5))
    ts: Mapped[int] = mapped_column(BigInteger)


class PaperFeedCursor(Base):
    """How far an account has replayed a symbol's prices: candles at or before last_ts are done."""

    __tablename__ = "paper_feed_cursors"
    __table_args__ = (UniqueConstraint("account_id", "symbol"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    last_ts: Mapped[int] = mapped_column(BigInteger)
    last_price: Mapped[Decimal | None] = mapped_column(PRICE)


# --- trading: exchange accounts, trade blocks, trades, orders, fills ---


class ExchangeAccount(Base):
    """A user's account on a venue: paper (simulated on `exchange`'s prices) or live through ccxt.

    Credentials are encrypted at rest (engine.common.secrets); live trading stays off until switched on."""

    __tablename__ = "exchange_accounts"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[AccountKind] = mapped_column(enum_column(AccountKind))
    exchange: Mapped[str] = mapped_column(String(32))
    live_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Retired (engine.users.settings): kept for its blocks' history, never traded on again.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    api_key_enc: Mapped[str | None] = mapped_column(Text)
    secret_enc: Mapped[str | None] = mapped_column(Text)
    password_enc: Mapped[str | None] = mapped_column(Text)
    paper_account_id: Mapped[int | None] = mapped_column(ForeignKey("paper_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Block(Base):
    """A trade block: one idea (entry, stop, several targets) split into one trade per target."""

    __tablename__ = "blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("exchange_accounts.id"), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[Side] = mapped_column(enum_column(Side))
    entry_type: Mapped[EntryType] = mapped_column(enum_column(EntryType))
    entry_price: Mapped[Decimal | None] = mapped_column(PRICE)  # None for market entries
    stop_price: Mapped[Decimal] = mapped_column(PRICE)
    size_mode: Mapped[SizeMode] = mapped_column(enum_column(SizeMode))
    size_value: Mapped[Decimal] = mapped_column(PRICE)
    total_amount: Mapped[Decimal] = mapped_column(PRICE)
    risk: Mapped[Decimal] = mapped_column(PRICE)  # money lost if every stop is hit, at plan time
    breakeven_after_first: Mapped[bool] = mapped_column(Boolean, default=False)
    entry_timeout_s: Mapped[int | None] = mapped_column(Integer)
    max_duration_s: Mapped[int | None] = mapped_column(Integer)
    protection_mode: Mapped[ProtectionMode] = mapped_column(enum_column(ProtectionMode))
    # Derivatives only (None on spot): set on the venue for the symbol before the entry is sent.
    leverage: Mapped[int | None] = mapped_column(Integer)
    margin_mode: Mapped[MarginMode | None] = mapped_column(enum_column(MarginMode))
    status: Mapped[BlockStatus] = mapped_column(enum_column(BlockStatus), default=BlockStatus.PENDING, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)  # a persistent exchange failure, shown on the block
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The trader's journal of the idea: a setup name and notes (tags in block_tags).
    setup: Mapped[str | None] = mapped_column(String(64), index=True)
    notes: Mapped[str | None] = mapped_column(Text)


class BlockTag(Base):
    """A journal tag on a block ("breakout", "news", "fomo"): statistics are read per tag."""

    __tablename__ = "block_tags"

    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class Trade(Base):
    """One target's share of a block: its entry, its take-profit and its stop."""

    __tablename__ = "trades"
    __table_args__ = (UniqueConstraint("block_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    status: Mapped[TradeStatus] = mapped_column(enum_column(TradeStatus), default=TradeStatus.PENDING)
    amount: Mapped[Decimal] = mapped_column(PRICE)
    target_price: Mapped[Decimal] = mapped_column(PRICE)
    stop_price: Mapped[Decimal] = mapped_column(PRICE)  # current stop (moves to break-even)
    entry_filled: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    entry_average: Mapped[Decimal | None] = mapped_column(PRICE)
    exit_filled: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    exit_average: Mapped[Decimal | None] = mapped_column(PRICE)
    fees: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    realized_pnl: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    close_reason: Mapped[CloseReason | None] = mapped_column(enum_column(CloseReason))
    fee_note: Mapped[str | None] = mapped_column(Text)  # fees left out of `fees` and the P&L, and why
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Order(Base):
    """An order intent and what the venue made of it. Written before the venue is called; its
    deterministic client order id lets a restart tell "never sent" from "sent, answer lost"."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"), index=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id"), index=True)
    role: Mapped[OrderRole] = mapped_column(enum_column(OrderRole))
    type: Mapped[OrderType] = mapped_column(enum_column(OrderType))
    side: Mapped[str] = mapped_column(String(4))  # buy / sell
    amount: Mapped[Decimal] = mapped_column(PRICE)
    price: Mapped[Decimal | None] = mapped_column(PRICE)
    stop_price: Mapped[Decimal | None] = mapped_column(PRICE)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    client_order_id: Mapped[str] = mapped_column(String(40), unique=True)
    exchange_order_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus), default=OrderStatus.INITIALIZED, index=True)
    filled: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    average: Mapped[Decimal | None] = mapped_column(PRICE)
    fee: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))  # quote value (engine.blocks.pnl.fee_parts)
    # The base coin the fee took (a spot buy charged in the coin bought): the position is that much smaller.
    fee_base: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0), server_default="0")
    # A fee in a third currency (BNB) that nothing values: kept here, left out of `fee` and the P&L.
    fee_other: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0), server_default="0")
    fee_other_currency: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The engine epoch (EngineState.epoch) that wrote the intent: an executor of a later epoch owns
    # it, one of an earlier epoch (a deposed engine still running) must never send it.
    epoch: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class EngineState(Base):
    """One row: the fencing token of the engine. Each process that takes the engine lock raises
    `epoch` in the same transaction; intents carry it, and the executor refuses an older one."""

    __tablename__ = "engine_state"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    holder: Mapped[str | None] = mapped_column(String(128))  # host:pid of the engine of that epoch
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_tick_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Fill(Base):
    """One execution of an order; exit fills carry the realized P&L they booked (fees included)."""

    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("order_id", "exchange_trade_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id"), index=True)
    exchange_trade_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[OrderRole] = mapped_column(enum_column(OrderRole))
    price: Mapped[Decimal] = mapped_column(PRICE)
    amount: Mapped[Decimal] = mapped_column(PRICE)
    fee: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    fee_currency: Mapped[str | None] = mapped_column(String(16))
    realized_pnl: Mapped[Decimal | None] = mapped_column(PRICE)
    ts: Mapped[int] = mapped_column(BigInteger, index=True)


# --- portfolio: balances per exchange account and daily equity snapshots (engine/portfolio/balances.py) ---


class AccountBalance(Base):
    """The venue's last word on one currency of an exchange account (engine.portfolio.balances.sync_balances)."""

    __tablename__ = "account_balances"
    __table_args__ = (UniqueConstraint("account_id", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("exchange_accounts.id", ondelete="CASCADE"), index=True)
    currency: Mapped[str] = mapped_column(String(32))
    free: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    used: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(PRICE, default=Decimal(0))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class EquitySnapshot(Base):
    """An account's equity on one trading day of its owner (users.timezone), in the account's quote
    currency at the last price seen that day: rewritten by every snapshot of the day, so the row
    left when the day ends values the day's close (engine.portfolio.balances.snapshot_equity)."""

    __tablename__ = "equity_snapshots"
    __table_args__ = (UniqueConstraint("account_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("exchange_accounts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    ts: Mapped[int] = mapped_column(BigInteger)  # when it was taken (UTC milliseconds)
    quote: Mapped[str] = mapped_column(String(32))
    cash: Mapped[Decimal] = mapped_column(PRICE)  # the quote currency's total
    positions_value: Mapped[Decimal] = mapped_column(PRICE)  # other currencies at the last price
    unrealized_pnl: Mapped[Decimal] = mapped_column(PRICE)  # of the open trades, for display
    equity: Mapped[Decimal] = mapped_column(PRICE)  # cash + positions_value


class FundingPayment(Base):
    """A perpetual's funding paid or received by an account, as its venue reported it, booked in the
    P&L of the block whose position it was (engine.portfolio.funding). A payment shared by several
    blocks open on the symbol is one row per block (`part` 0, 1, ...); one while no block was open
    has no block and still counts in the account's day. Fetching again books nothing twice: the
    venue's id is unique per account (with the part)."""

    __tablename__ = "funding_payments"
    __table_args__ = (UniqueConstraint("account_id", "payment_id", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("exchange_accounts.id", ondelete="CASCADE"), index=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id", ondelete="SET NULL"), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[str] = mapped_column(String(64))  # the venue's id of the payment
    part: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[Decimal] = mapped_column(PRICE)  # signed: received > 0, paid < 0
    currency: Mapped[str] = mapped_column(String(16))
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# --- dashboard ---


class Drawing(Base):
    """A user's drawings on one series' chart (plotly shapes as JSON, validated by engine.market.drawings)."""

    __tablename__ = "drawings"
    __table_args__ = (UniqueConstraint("user_id", "series_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    shapes: Mapped[str] = mapped_column(Text, default="[]")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ChartPreference(Base):
    """A user's chart studies: the indicators drawn on every chart (JSON, validated by
    engine.market.chart_prefs) and whether closed trades' markers are shown."""

    __tablename__ = "chart_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    indicators: Mapped[str] = mapped_column(Text, default="[]")
    show_trades: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# --- automation ---


class ApiToken(Base):
    """A user's token for the REST API. Only a SHA-256 of the token is kept; `prefix` (shown in the
    settings table and part of the token itself) finds the row without scanning."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(8))  # "read" or "trade"
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Written at most once a minute (engine.users.tokens), so a busy client does not write per call.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- notifications ---


class NotificationChannel(Base):
    """A user's one notification URL (any apprise URL: tgram://, discord://, mailto://, json://...),
    encrypted at rest like the exchange credentials (engine.notify); `scheme` is shown instead of it."""

    __tablename__ = "notification_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    url_enc: Mapped[str] = mapped_column(Text)
    scheme: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NotificationOutbox(Base):
    """One event to tell a user, written in the same transaction as the state change that caused it
    and delivered later by the engine's notify job (pending -> sent, or failed after its retries)."""

    __tablename__ = "notification_outbox"
    __table_args__ = (Index("ix_notification_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, failed, dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))


class Webhook(Base):
    """A user's TradingView alert webhook: the URL's public `hook_id`, a SHA-256 of its secret
    (shown once, rotatable), the saved template that maps an alert to a trade block (JSON, checked
    by engine.webhooks.template) and the call limits."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    hook_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rotated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookCall(Base):
    """One call of a webhook, for the user's audit log: accepted (with its block) or refused (why).
    An accepted call's `alert_key` (the alert's id, or a hash of its body) is unique per webhook and
    written in the block's own transaction, so a retried alert can never place a second block."""

    __tablename__ = "webhook_calls"
    __table_args__ = (UniqueConstraint("webhook_id", "alert_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_key: Mapped[str | None] = mapped_column(String(64))  # set on accepted calls only
    block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    remote_ip: Mapped[str] = mapped_column(String(64), default="")


class BlockCondition(Base):
    """A trade block waiting for a condition (engine.conditions): when `kind` is met (a closed
    candle of the series at `timeframe` beyond `price`, the last price crossing `price`, or the
    time `at_ms`), `block` (the raw fields engine.blocks.api.parse_block reads, as JSON) is placed
    and `block_id` set in the same transaction. `parent_id`: the condition whose firing arms this
    one (a `then` step), pending until then."""

    __tablename__ = "block_conditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("exchange_accounts.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("block_conditions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # close_above, close_below, crosses, at_time
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"))
    exchange: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str | None] = mapped_column(String(64))
    timeframe: Mapped[str | None] = mapped_column(String(8))
    price: Mapped[Decimal | None] = mapped_column(PRICE)
    at_ms: Mapped[int | None] = mapped_column(BigInteger)
    # The last price when armed: which way "crosses" must go (None until a price is seen).
    reference: Mapped[Decimal | None] = mapped_column(PRICE)
    block: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, waiting, fired, refused, canceled
    reason: Mapped[str | None] = mapped_column(Text)  # why it was refused or canceled
    block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    armed_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReplayRun(Base):
    """A replay (played bar by bar) or a backtest (blocks from a file, one pass) on stored candles,
    trading on its own replay account (engine.replay). `cursor_ms` is the run's clock: every bar
    that opened before it has been played. `updated_at`: when its progress was last saved, about
    every second while it plays (a running run that stops beating was interrupted)."""

    __tablename__ = "replay_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("exchange_accounts.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # engine.replay.api.RunKind
    status: Mapped[str] = mapped_column(String(16))  # engine.replay.api.RunStatus
    name: Mapped[str] = mapped_column(String(128))
    exchange: Mapped[str] = mapped_column(String(32))
    timeframe: Mapped[str] = mapped_column(String(8))
    symbols: Mapped[str] = mapped_column(Text)  # comma-separated
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)
    cursor_ms: Mapped[int] = mapped_column(BigInteger)
    trade_through: Mapped[bool] = mapped_column(Boolean, default=True)
    slippage_bps: Mapped[Decimal] = mapped_column(PRICE)
    bars_done: Mapped[int] = mapped_column(Integer, default=0)
    bars_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PriceAlert(Base):
    """A level that tells its user when the price crosses it (engine.alerts): checked on each new
    candle and each sync tick, fired once (state, `triggered_at` and `price_seen` written in the
    transaction that books its notification). `reference`: the price when it was set (None until
    one is seen), which way a "crosses" alert goes. `candles_from_ms`: the open time from which the
    series' candles came after the alert was set (their highs and lows count: a wick between two
    checks fires it too); None until the series has a candle. `shown_at`: when the desk's toast
    showed it."""

    __tablename__ = "price_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"))
    exchange: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(64))
    price: Mapped[Decimal] = mapped_column(PRICE)
    direction: Mapped[AlertDirection] = mapped_column(enum_column(AlertDirection))
    reference: Mapped[Decimal | None] = mapped_column(PRICE)
    candles_from_ms: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[AlertState] = mapped_column(enum_column(AlertState), index=True, default=AlertState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    triggered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    price_seen: Mapped[Decimal | None] = mapped_column(PRICE)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shown_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

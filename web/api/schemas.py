"""The REST API's typed schemas (pydantic): what requests carry and responses hold. spectree builds
the OpenAPI document from them and checks every request and response against them.

Money, prices and amounts go out as decimal strings ("0.015", exact as stored), never floats. Block
fields come in loosely typed (a number or its text) on purpose: engine.blocks.api.parse_block, the
form's own parser, reads them and names each problem; these schemas only bound their shape.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from db.enums import (
    AccountKind,
    BlockStatus,
    CloseReason,
    EntryType,
    MarginMode,
    OrderRole,
    OrderStatus,
    OrderType,
    Side,
    SizeMode,
    TradeStatus,
)
from engine.users.api import as_utc

MAX_ID = 2**31 - 1  # the id columns are 32-bit integers
MAX_MS = 253_402_300_799_999  # 9999-12-31, the last instant a datetime holds
# A number as a client sends it: JSON number or its text (parse_block reads either exactly).
NumberIn = str | int | float
# A moment in UTC with its offset (SQLite hands stored datetimes back without one).
Utc = Annotated[datetime, AfterValidator(as_utc)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ApiError(BaseModel):
    """Every refusal: one sentence, and for bad input one message per field."""

    error: str
    fields: dict[str, str] = Field(default_factory=dict)


class Me(_Out):
    user_id: int
    username: str
    role: str
    scope: Literal["read", "trade"]


# --- blocks ---


class BlocksQuery(BaseModel):
    status: Literal["live", "closed", "all"] = "all"


class BlockFields(BaseModel):
    """A trade block's own fields as the chart's form sends them (the same checks)."""

    symbol: str = Field(max_length=200, description="e.g. BTC/USDT")
    exchange: str | None = Field(None, max_length=200, description="the account's exchange when left out")
    side: Side
    entry_type: EntryType
    entry_price: NumberIn | None = Field(None, description="limit or stop price; none for market entries")
    stop_price: NumberIn | None = None
    target_prices: list[NumberIn | None] = Field(default_factory=list, max_length=50)
    target_shares: list[NumberIn | None] = Field(
        default_factory=list, max_length=50, description="percent of the size per target; empty: equal shares"
    )
    size_mode: SizeMode
    size_value: NumberIn | None = None
    breakeven: StrictBool = False
    entry_timeout_min: NumberIn | None = None
    max_duration_min: NumberIn | None = None
    leverage: NumberIn | None = Field(
        None, description="perpetuals and futures: a whole leverage set on the venue before the entry"
    )
    margin_mode: MarginMode | None = Field(None, description="with a leverage; isolated when left out")


class BlockIn(BlockFields):
    """A trade block as the chart's form sends it (the same fields, the same checks)."""

    account_id: int = Field(ge=1, le=MAX_ID)


class CancelIn(BaseModel):
    close_positions: StrictBool = Field(
        False, description="close open positions at market (else keep their protection)"
    )


class TargetMoveIn(BaseModel):
    index: int = Field(ge=0, le=1000, description="the target's index (0-based), as in the block's trades")
    price: NumberIn


class AmendIn(BaseModel):
    """A change to a live block (engine.blocks.parse_amend reads the values); what is left out stays."""

    stop_price: NumberIn | None = Field(None, description="the new stop")
    stop_target: int | None = Field(None, ge=0, le=1000, description="move only this trade's stop (index)")
    breakeven: StrictBool = Field(False, description="stop(s) to the entry average instead of stop_price")
    targets: list[TargetMoveIn] = Field(default_factory=list, max_length=50, description="targets moved")
    add_target_price: NumberIn | None = None
    add_target_share: NumberIn | None = Field(None, description="percent of the unfilled size; empty: equal")
    remove_target: int | None = Field(None, ge=0, le=1000, description="index of the target to remove (closes it)")
    size: NumberIn | None = Field(None, description="new base amount of the trades whose entry has not filled")


class FieldMessage(_Out):
    field: str
    message: str


class PreviewOut(_Out):
    size: Decimal | None
    cost: Decimal | None
    risk: Decimal | None
    risk_pct: Decimal | None
    reward_risk: list[Decimal | None]
    amounts: list[Decimal] | None
    errors: list[FieldMessage]
    notes: list[FieldMessage]
    price_tick: Decimal | None
    protection: str | None = None  # where the exits rest and what the desk watches, once the venue is known
    margin: Decimal | None = None  # with a leverage: the quote money the block ties up
    liquidation_price: Decimal | None = None  # with a leverage: the estimated liquidation price


class TradeOut(_Out):
    id: int
    index: int
    status: TradeStatus
    amount: Decimal
    target_price: Decimal
    stop_price: Decimal
    entry_filled: Decimal
    entry_average: Decimal | None
    exit_filled: Decimal
    exit_average: Decimal | None
    fees: Decimal
    realized_pnl: Decimal
    close_reason: CloseReason | None


class BlockOut(_Out):
    id: int
    account_id: int
    exchange: str
    symbol: str
    side: Side
    entry_type: EntryType
    entry_price: Decimal | None
    stop_price: Decimal
    size_mode: SizeMode
    size_value: Decimal
    total_amount: Decimal
    risk: Decimal
    status: BlockStatus
    last_error: str | None
    created_at: Utc
    closed_at: Utc | None
    trades: list[TradeOut]
    leverage: int | None = None
    margin_mode: MarginMode | None = None
    funding: Decimal  # perpetual funding booked to the block: received > 0, paid < 0
    pnl: Decimal  # realized: the trades' P&L (fees included) and the funding


class BlockList(BaseModel):
    blocks: list[BlockOut]


class OrderOut(_Out):
    id: int
    trade_id: int
    role: OrderRole
    type: OrderType
    side: str
    amount: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    filled: Decimal
    average: Decimal | None
    fee: Decimal
    client_order_id: str
    last_error: str | None


class FillOut(_Out):
    id: int
    order_id: int
    trade_id: int
    role: OrderRole
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str | None
    realized_pnl: Decimal | None
    ts: int = Field(description="ms since the epoch, UTC")


class BlockDetailOut(_Out):
    block: BlockOut
    orders: list[OrderOut]
    fills: list[FillOut]


class CancelOut(_Out):
    block_id: int
    before: BlockStatus
    after: BlockStatus
    open_trades: int = Field(description="trades still holding a position (kept under their stop and targets)")


# --- accounts, positions, market data ---


class AccountOut(_Out):
    id: int
    name: str
    kind: AccountKind
    exchange: str
    live_enabled: bool
    disabled: bool
    credentials: str = Field(description="what may be shown of the key: its last four characters at most")
    details: str
    live_blocks: int


class AccountList(BaseModel):
    accounts: list[AccountOut]


class PositionOut(_Out):
    account_id: int
    block_id: int
    trade_id: int
    symbol: str
    side: Side
    amount: Decimal
    entry_average: Decimal
    last_price: Decimal | None
    unrealized_pnl: Decimal | None


class PositionList(BaseModel):
    positions: list[PositionOut]


class SeriesOut(_Out):
    series_id: int
    exchange: str
    symbol: str
    timeframe: str
    backfill_status: str
    progress: float


class SeriesList(BaseModel):
    series: list[SeriesOut]


class CandlesQuery(BaseModel):
    start: int | None = Field(None, ge=0, le=MAX_MS, description="ms UTC; default: the newest candles")
    end: int | None = Field(None, ge=0, le=MAX_MS, description="ms UTC, exclusive")


class CandlesOut(_Out):
    timeframe: str = Field(description="what the rows are: a coarser level when the range is over the point budget")
    requested: str
    coarser: bool
    ts: list[int]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]
    volume: list[float]


# --- the calendar and statistics ---


class PeriodQuery(BaseModel):
    view: Literal["month", "week", "year"] = "month"
    date: dt.date | None = Field(None, description="a day in the period; default: today in your timezone")
    unit: Literal["money", "percent", "r"] = "money"


class DayOut(_Out):
    day: date
    pnl: Decimal
    pct: Decimal | None
    r: Decimal | None
    trades: int
    fees: Decimal


class CalendarOut(BaseModel):
    view: str
    title: str
    first: date
    last: date
    pnl: Decimal
    trades: int
    days: list[DayOut]


class StatsOut(_Out):
    first: date
    last: date
    unit: str
    trades: int
    net_pnl: Decimal | None
    win_rate: Decimal | None
    win_loss_ratio: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    largest_win: Decimal | None
    largest_loss: Decimal | None
    profit_factor: Decimal | None
    expectancy: Decimal | None
    max_drawdown: Decimal | None
    max_drawdown_pct: Decimal | None
    longest_win_streak: int
    longest_loss_streak: int
    sharpe: float | None
    sortino: float | None
    fees: Decimal
    by_symbol: dict[str, Decimal]
    by_weekday: dict[str, Decimal]

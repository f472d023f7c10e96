"""The REST API's schemas of backtests (engine.replay): a backtest as a client posts it (its blocks
have the block form's fields, read by the same parser as a backtest file's rows), a run's summary
and its report. Money goes out as exact decimal strings; block values come in loosely typed
because engine.replay.api.block_row names each problem."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool

from engine.replay.api import MAX_ROWS
from web.api.schemas import MAX_MS, ApiError, NumberIn, Utc, _Out

# A moment as a client sends it: ISO date-time (without an offset: UTC) or ms since the epoch.
Ms = Annotated[int, Field(ge=0, le=MAX_MS)]
MomentIn = datetime | Ms
Status = Literal["ready", "running", "paused", "done", "canceled", "failed"]


def moment_ms(value: MomentIn | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    at = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return int(at.timestamp() * 1000)


class TargetIn(BaseModel):
    price: NumberIn | None = None
    share: NumberIn | None = Field(None, description="percent of the size; left out on every target: equal shares")


class BacktestBlockIn(BaseModel):
    """One block of the backtest, submitted on the run's account at `time`."""

    time: Annotated[str, Field(max_length=40)] | Ms = Field(
        description="ISO date-time (without an offset: UTC) or ms since the epoch"
    )
    symbol: str = Field(max_length=200, description="e.g. BTC/USDT")
    side: str = Field(max_length=20, description="long | short")
    entry_type: str = Field(max_length=20, description="market | limit | stop")
    entry_price: NumberIn | None = Field(None, description="limit or stop price; none for market entries")
    stop_price: NumberIn | None = None
    targets: list[TargetIn] = Field(default_factory=list, max_length=50)
    size_mode: str = Field(max_length=20, description="risk_pct | equity_pct | quote | base")
    size_value: NumberIn | None = None
    breakeven: StrictBool = False
    entry_timeout_min: NumberIn | None = None
    max_duration_min: NumberIn | None = None

    def raw(self) -> dict[str, Any]:
        """The block's values as engine.replay.api.block_row reads them."""
        raw = self.model_dump(exclude={"targets"})
        raw["target_prices"] = [t.price for t in self.targets]
        raw["target_shares"] = [t.share for t in self.targets]
        return raw


class BacktestIn(BaseModel):
    exchange: str = Field(max_length=200, description="the stored series' exchange, e.g. binance")
    timeframe: str = Field(max_length=8, description="the stored series' timeframe, e.g. 1m")
    start: MomentIn | None = Field(None, description="default: the first block's time")
    end: MomentIn | None = Field(None, description="default: just after the last stored bar")
    name: str | None = Field(None, max_length=128)
    limit_requires_trade_through: StrictBool = Field(
        True, description="a limit fills only when the price trades through it, not when it touches it"
    )
    slippage_bps: Decimal = Field(Decimal(0), ge=0, le=1000, description="on market and stop fills, in bps")
    blocks: list[BacktestBlockIn] = Field(min_length=1, max_length=MAX_ROWS)

    def start_ms(self) -> int | None:
        return moment_ms(self.start)

    def end_ms(self) -> int | None:
        return moment_ms(self.end)


class RunOut(_Out):
    id: int
    status: Status
    name: str
    exchange: str
    timeframe: str
    symbols: list[str]
    start_ms: int = Field(description="ms since the epoch, UTC: the first bar's open")
    end_ms: int
    cursor_ms: int = Field(description="everything before it has been played")
    limit_requires_trade_through: bool
    slippage_bps: Decimal
    blocks: int = Field(description="blocks the run placed")
    trades_closed: int
    net_pnl: Decimal = Field(description="quote, after fees")
    bars_done: int
    bars_total: int
    error: str | None = Field(
        description='why it failed, or the blocks the engine refused when placed ("line N" is blocks[N])'
    )
    created_at: Utc


class RunList(BaseModel):
    backtests: list[RunOut]


class RunTradeOut(_Out):
    block_id: int
    trade_id: int
    symbol: str
    side: str
    opened_ms: int
    closed_ms: int
    entry_price: Decimal
    exit_price: Decimal
    amount: Decimal
    net_pnl: Decimal = Field(description="after fees")
    close_reason: str = Field(description="target | stop | time | cancel")


class PointOut(BaseModel):
    ms: int
    value: Decimal


class ReportOut(BaseModel):
    backtest: RunOut
    trades: list[RunTradeOut] = Field(description="by close time")
    equity: list[PointOut] = Field(description="the account's equity after each closed trade, from the start")
    drawdown: list[PointOut] = Field(description="% below the running peak (<= 0)")
    starting_equity: Decimal
    win_rate: Decimal | None = Field(description="% of closed trades that won")
    profit_factor: Decimal | None = Field(description="gross wins / gross losses; null without a loss")
    max_drawdown_pct: Decimal


class RowErrorOut(BaseModel):
    index: int | None = Field(description="the block's index in `blocks` (0-based); null: the run's own problem")
    field: str
    message: str


class BacktestError(ApiError):
    """A refused backtest (nothing written): `errors` lists every problem, `fields` the same keyed
    `blocks[<index>].<field>` (or the run's field); a body of the wrong shape has `fields` only."""

    errors: list[RowErrorOut] = Field(default_factory=list)


def run_out(summary: Any) -> RunOut:
    """A RunSummary as the API shows it (the variant's two knobs flattened)."""
    fields = {k: getattr(summary, k) for k in RunOut.model_fields if hasattr(summary, k)}
    fields["status"] = summary.status.value
    fields["symbols"] = list(summary.symbols)
    fields["limit_requires_trade_through"] = summary.variant.limit_requires_trade_through
    fields["slippage_bps"] = summary.variant.slippage_bps
    return RunOut(**fields)

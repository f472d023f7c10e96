"""The replay package's records: runs (replays and backtests), block rows of a backtest file, a
run's report, and the errors a caller can meet. Plain data, no I/O."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.blocks.api import BlockRequest

# Progress callbacks get (done, total) in bars; a long run calls them a few hundred times at most.
Progress = Callable[[int, int], None]
# Asked between events: True stops the run (the run is kept, marked canceled).
Cancelled = Callable[[], bool]


class RunKind(enum.StrEnum):
    REPLAY = "replay"
    BACKTEST = "backtest"


class RunStatus(enum.StrEnum):
    READY = "ready"  # created, nothing played yet
    RUNNING = "running"
    PAUSED = "paused"  # a replay between steps
    DONE = "done"
    CANCELED = "canceled"
    FAILED = "failed"


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line of the file (the header is line 1)
    field: str
    message: str


@dataclass(frozen=True)
class BlockRow:
    """One block of a backtest file: submitted on the run's account at `at_ms`, as the form's,
    the API's and the webhooks' blocks are (engine.blocks.api.parse_block read it)."""

    line: int
    at_ms: int
    request: BlockRequest

    @property
    def symbol(self) -> str:
        return self.request.symbol


@dataclass(frozen=True)
class FillVariant:
    """The paper exchange's knobs for a run (docs/fill-rules.md)."""

    limit_requires_trade_through: bool = True
    slippage_bps: Decimal = Decimal(0)


@dataclass(frozen=True)
class RunSummary:
    id: int
    kind: RunKind
    status: RunStatus
    name: str
    account_id: int  # the run's own replay account: its calendar, statistics and trades
    exchange: str
    timeframe: str
    symbols: tuple[str, ...]
    start_ms: int
    end_ms: int
    cursor_ms: int  # the replay clock: everything before it has been played
    variant: FillVariant
    blocks: int
    trades_closed: int
    net_pnl: Decimal  # quote, exact
    bars_done: int
    bars_total: int
    error: str | None
    created_at: datetime


@dataclass(frozen=True)
class RunTrade:
    """A closed trade of a run (one per target of a block), in engine time."""

    block_id: int
    trade_id: int
    symbol: str
    side: str
    opened_ms: int
    closed_ms: int
    entry_price: Decimal
    exit_price: Decimal
    amount: Decimal
    net_pnl: Decimal  # after fees
    close_reason: str  # "target" | "stop" | "time" | "cancel"


@dataclass(frozen=True)
class RunReport:
    summary: RunSummary
    trades: list[RunTrade]  # by close time
    equity: list[tuple[int, Decimal]]  # (ms, account equity after each closed trade), first = start
    drawdown: list[tuple[int, Decimal]]  # (ms, fall from the running peak in %, <= 0)
    starting_equity: Decimal
    win_rate: Decimal | None  # % of closed trades with net_pnl > 0
    profit_factor: Decimal | None  # gross wins / gross losses
    max_drawdown_pct: Decimal


class RunAccessError(PermissionError):
    """No such run, or another user's (the message does not say which)."""


class RunRejected(ValueError):  # noqa: N818 - the name says what happened to the run
    """The run cannot start: `errors` says why (bad rows, no stored series, an empty period)."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"line {e.line} {e.field}: {e.message}" for e in errors))

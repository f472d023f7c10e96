"""The runs table: a run and its replay account made in one transaction, read back only by their
owner as RunSummary, their progress written (with a heartbeat), and deleted with everything the
account traded. A run still "running" whose heartbeat stopped was interrupted (its process died: a
restart, a killed worker): reading it settles it, a backtest as failed with why, a replay as
paused where it stopped (it can go on)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from db.enums import AccountKind, TradeStatus
from db.models import (
    Block,
    BlockTag,
    ExchangeAccount,
    Fill,
    Order,
    PaperAccount,
    PaperBalance,
    PaperFeedCursor,
    PaperFill,
    PaperOrder,
    ReplayRun,
    Trade,
)
from engine.replay.records import FillVariant, RunAccessError, RunKind, RunStatus, RunSummary
from engine.runtime import Runtime
from engine.users.api import add_paper_account

START_BALANCE = Decimal("10000")
QUOTE = "USDT"
TERMINAL = (RunStatus.DONE, RunStatus.CANCELED, RunStatus.FAILED)
# A playing run saves its progress about every second (engine.replay.play): a minute of silence is
# a dead process, not a slow bar.
STALE_AFTER = timedelta(seconds=60)
INTERRUPTED = (
    "Interrupted: the process running this backtest stopped (no progress for a minute). Run it again, or delete it."
)


def create_run(
    runtime: Runtime,
    user_id: int,
    kind: RunKind,
    name: str | None,
    exchange: str,
    timeframe: str,
    symbols: list[str],
    window: tuple[int, int],
    variant: FillVariant,
    bars_total: int,
) -> RunSummary:
    """A new run on a new replay account (a margin paper account with 10,000 USDT: shorts allowed,
    targets rest beside the stop), its clock at the window's start."""
    with runtime.sessions.begin() as s:
        number = (s.scalar(select(func.max(ReplayRun.id))) or 0) + 1
        label = f"{kind.value.title()} #{number}"
        account = add_paper_account(
            s, user_id, label, exchange, QUOTE, START_BALANCE, margin=True, kind=AccountKind.REPLAY
        )
        run = ReplayRun(
            user_id=user_id,
            account_id=account.id,
            kind=kind.value,
            status=RunStatus.READY.value,
            name=(name or label)[:128],
            exchange=exchange,
            timeframe=timeframe,
            symbols=",".join(symbols),
            start_ms=window[0],
            end_ms=window[1],
            cursor_ms=window[0],
            trade_through=variant.limit_requires_trade_through,
            slippage_bps=variant.slippage_bps,
            bars_done=0,
            bars_total=bars_total,
        )
        s.add(run)
        s.flush()
        return summary_of(s, run)


def owned_run(s: Session, user_id: int, run_id: int) -> ReplayRun:
    run = s.get(ReplayRun, run_id)
    if run is None or run.user_id != user_id:
        raise RunAccessError(f"no run {run_id} of yours")
    return run


def get_run(runtime: Runtime, user_id: int, run_id: int) -> RunSummary:
    """The run, if `user_id` owns it; RunAccessError otherwise."""
    settle_interrupted(runtime, user_id)
    with runtime.sessions() as s:
        return summary_of(s, owned_run(s, user_id, run_id))


def list_runs(runtime: Runtime, user_id: int) -> list[RunSummary]:
    """The user's replays and backtests, newest first."""
    settle_interrupted(runtime, user_id)
    with runtime.sessions() as s:
        runs = s.scalars(select(ReplayRun).where(ReplayRun.user_id == user_id).order_by(ReplayRun.id.desc()))
        return [summary_of(s, run) for run in runs]


def settle_interrupted(runtime: Runtime, user_id: int, now: datetime | None = None) -> list[int]:
    """Settle the user's runs left "running" by a process that died; their ids. One read when none
    is (every poll of the pages comes here), and a conditional write when one is: a run that beat
    again meanwhile is left alone."""
    cutoff = (now or datetime.now(UTC)) - STALE_AFTER
    beat = func.coalesce(ReplayRun.updated_at, ReplayRun.created_at)
    stale = (ReplayRun.user_id == user_id, ReplayRun.status == RunStatus.RUNNING.value, beat < cutoff)
    with runtime.sessions() as s:
        found = s.execute(select(ReplayRun.id, ReplayRun.kind).where(*stale)).all()
    if not found:
        return []
    with runtime.sessions.begin() as s:
        for run_id, kind in found:
            values = (
                {"status": RunStatus.PAUSED.value}
                if kind == RunKind.REPLAY.value
                else {"status": RunStatus.FAILED.value, "error": INTERRUPTED, "finished_at": datetime.now(UTC)}
            )
            s.execute(update(ReplayRun).where(ReplayRun.id == run_id, *stale).values(**values))
    return [run_id for run_id, _kind in found]


def save_progress(
    runtime: Runtime, run_id: int, cursor_ms: int, bars_done: int, status: RunStatus, error: str | None = None
) -> None:
    with runtime.sessions.begin() as s:
        run = s.get(ReplayRun, run_id)
        if run is None:
            return  # deleted meanwhile
        if RunStatus(run.status) in TERMINAL:
            return  # ended (settled as interrupted, say): a late save from its old process changes nothing
        run.updated_at = datetime.now(UTC)
        run.cursor_ms, run.bars_done, run.status = cursor_ms, bars_done, status.value
        run.error = error[:2000] if error else None
        if status in TERMINAL:
            run.finished_at = datetime.now(UTC)


def delete_run(runtime: Runtime, user_id: int, run_id: int) -> int:
    """Delete the run, its account and everything traded on it; returns the account id."""
    with runtime.sessions.begin() as s:
        run = owned_run(s, user_id, run_id)
        account = s.get(ExchangeAccount, run.account_id)
        if account is None or account.kind is not AccountKind.REPLAY:  # never a real account's history
            raise RunAccessError(f"run {run_id} has no replay account")
        blocks = select(Block.id).where(Block.account_id == account.id).scalar_subquery()
        s.execute(delete(Fill).where(Fill.order_id.in_(select(Order.id).where(Order.block_id.in_(blocks)))))
        s.execute(delete(Order).where(Order.block_id.in_(blocks)))
        s.execute(delete(Trade).where(Trade.block_id.in_(blocks)))
        s.execute(delete(BlockTag).where(BlockTag.block_id.in_(blocks)))
        s.execute(delete(Block).where(Block.account_id == account.id))
        paper, account_id = account.paper_account_id, account.id
        s.execute(delete(ReplayRun).where(ReplayRun.id == run.id))
        s.execute(delete(ExchangeAccount).where(ExchangeAccount.id == account_id))
        if paper is not None:
            for table in (PaperFill, PaperOrder, PaperFeedCursor, PaperBalance):
                s.execute(delete(table).where(table.account_id == paper))
            s.execute(delete(PaperAccount).where(PaperAccount.id == paper))
        return account_id


def summary_of(s: Session, run: ReplayRun) -> RunSummary:
    blocks = s.scalar(select(func.count(Block.id)).where(Block.account_id == run.account_id)) or 0
    # Summed here, not by SQL: SQLite's SUM of NUMERIC text is a float (7.2925 came back 7.2924999...).
    pnls = s.scalars(
        select(Trade.realized_pnl)
        .join(Block, Block.id == Trade.block_id)
        .where(Block.account_id == run.account_id, Trade.status == TradeStatus.CLOSED)
    ).all()
    return RunSummary(
        id=run.id,
        kind=RunKind(run.kind),
        status=RunStatus(run.status),
        name=run.name,
        account_id=run.account_id,
        exchange=run.exchange,
        timeframe=run.timeframe,
        symbols=tuple(run.symbols.split(",")) if run.symbols else (),
        start_ms=run.start_ms,
        end_ms=run.end_ms,
        cursor_ms=run.cursor_ms,
        variant=FillVariant(run.trade_through, Decimal(run.slippage_bps)),
        blocks=blocks,
        trades_closed=len(pnls),
        net_pnl=sum(pnls, Decimal(0)),
        bars_done=run.bars_done,
        bars_total=run.bars_total,
        error=run.error,
        created_at=run.created_at,
    )

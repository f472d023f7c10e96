"""The replay package's public surface: play a stored series bar by bar on a replay account, or
backtest a set of blocks over a period in one pass, through the same engine that trades live
(blocks.submit_block, the executor, the sync tick, the bracket rules, the P&L booking); the runs
of a user, their reports, and deleting them. Pages, the API, the CLI and benches import this only."""

from engine.replay.records import (
    BlockRow,
    Cancelled,
    FillVariant,
    Progress,
    RowError,
    RunAccessError,
    RunKind,
    RunRejected,
    RunReport,
    RunStatus,
    RunSummary,
    RunTrade,
)
from engine.replay.report import run_report
from engine.replay.rows import MAX_ROWS, block_row, parse_block_rows
from engine.replay.runs import (
    end_replay,
    open_run,
    remove_run,
    replay_to_end,
    run_backtest,
    start_replay,
    step_replay,
)
from engine.replay.sample import sample_backtest, sample_rows
from engine.replay.store import list_runs

backtest_runs = list_runs  # the name the pages know: every run of the user, newest first
delete_run = remove_run
get_run = open_run

__all__ = [
    "MAX_ROWS",
    "BlockRow",
    "Cancelled",
    "FillVariant",
    "Progress",
    "RowError",
    "RunAccessError",
    "RunKind",
    "RunRejected",
    "RunReport",
    "RunStatus",
    "RunSummary",
    "RunTrade",
    "backtest_runs",
    "block_row",
    "delete_run",
    "end_replay",
    "get_run",
    "parse_block_rows",
    "replay_to_end",
    "run_backtest",
    "run_report",
    "sample_backtest",
    "sample_rows",
    "start_replay",
    "step_replay",
]

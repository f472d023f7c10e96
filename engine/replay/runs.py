"""Replays and backtests as the pages, the API and the CLI start them: checked, created, loaded and
played (engine.replay.play), every call for the run's owner only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from db.models import ReplayRun
from engine.common.timeframes import tf_ms
from engine.market.api import stored_candles
from engine.replay.clock import Loaded, advance, load, next_close, unload
from engine.replay.play import play
from engine.replay.records import (
    BlockRow,
    Cancelled,
    FillVariant,
    Progress,
    RowError,
    RunKind,
    RunRejected,
    RunStatus,
    RunSummary,
)
from engine.replay.store import create_run, delete_run, get_run, owned_run, save_progress
from engine.runtime import Runtime

MAX_STEP_BARS = 10_000  # one step call: a replay's "play" sends a few bars at a time


def run_backtest(
    runtime: Runtime,
    user_id: int,
    rows: Sequence[BlockRow],
    exchange: str,
    timeframe: str,
    start_ms: int | None = None,
    end_ms: int | None = None,
    name: str | None = None,
    variant: FillVariant | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> RunSummary:
    """Backtest `rows` on the stored `exchange` series at `timeframe`, from `start_ms` (default: the
    first row's time) to `end_ms` (default: the last stored bar), in one pass. RunRejected when
    there is nothing to run (no rows, no stored series, an empty period)."""
    if not rows:
        raise RunRejected([RowError(1, "file", "no blocks to backtest")])
    symbols = sorted({row.symbol for row in rows})
    start = start_ms if start_ms is not None else min(row.at_ms for row in rows)
    candles = _candles(runtime, exchange, timeframe, symbols, start, end_ms)
    window = _window(candles, timeframe, end_ms)
    summary = create_run(
        runtime,
        user_id,
        RunKind.BACKTEST,
        name,
        exchange,
        timeframe,
        symbols,
        window,
        variant or FillVariant(),
        max(len(rows) for rows in candles.values()),
    )
    return _played(runtime, user_id, summary.id, rows, progress, cancelled, candles)


def start_replay(
    runtime: Runtime, user_id: int, exchange: str, symbol: str, timeframe: str, start_ms: int
) -> RunSummary:
    """A replay of the stored series from `start_ms` to its last bar, on a new replay account; the
    clock stands at the first bar's open (nothing is shown after it)."""
    candles = _candles(runtime, exchange, timeframe, [symbol], start_ms, None)
    window = _window(candles, timeframe, None)
    summary = create_run(
        runtime,
        user_id,
        RunKind.REPLAY,
        None,
        exchange,
        timeframe,
        [symbol],
        window,
        FillVariant(),
        len(candles[symbol]),
    )
    save_progress(runtime, summary.id, window[0], 0, RunStatus.PAUSED)
    return get_run(runtime, user_id, summary.id)


def step_replay(runtime: Runtime, user_id: int, run_id: int, bars: int = 1) -> RunSummary:
    """Play the next `bars` bars through the engine, one engine tick per bar (as live)."""
    loaded = _loaded(runtime, user_id, run_id, RunKind.REPLAY)
    for _ in range(max(1, min(bars, MAX_STEP_BARS))):
        close = next_close(loaded)
        if close is None:
            break
        advance(runtime, loaded, close)
    done = next_close(loaded) is None
    save_progress(runtime, run_id, loaded.now, loaded.played(), RunStatus.DONE if done else RunStatus.PAUSED)
    return get_run(runtime, user_id, run_id)


def replay_to_end(
    runtime: Runtime, user_id: int, run_id: int, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> RunSummary:
    """Play the rest of a replay as fast as the machine allows (bars on which nothing can fill are
    skipped); a cancel leaves it paused where it stopped."""
    loaded = _loaded(runtime, user_id, run_id, RunKind.REPLAY)
    run = get_run(runtime, user_id, run_id)
    outcome = play(runtime, loaded, [], run.end_ms, progress, cancelled)
    if outcome.status is RunStatus.CANCELED:
        save_progress(runtime, run_id, loaded.now, loaded.played(), RunStatus.PAUSED)
    return get_run(runtime, user_id, run_id)


def end_replay(runtime: Runtime, user_id: int, run_id: int) -> RunSummary:
    """Stop a replay where it is: its account and trades stay (the calendar shows them)."""
    run = get_run(runtime, user_id, run_id)
    save_progress(runtime, run_id, run.cursor_ms, run.bars_done, RunStatus.DONE)
    unload(runtime, run.account_id)
    return get_run(runtime, user_id, run_id)


def open_run(runtime: Runtime, user_id: int, run_id: int) -> RunSummary:
    """The run (RunAccessError for anyone else's); a replay still playing is loaded too, so blocks
    can be placed on its account (after a restart its feed is rebuilt from the store)."""
    run = get_run(runtime, user_id, run_id)
    if run.kind is RunKind.REPLAY and run.status in (RunStatus.READY, RunStatus.PAUSED, RunStatus.RUNNING):
        _loaded(runtime, user_id, run_id, RunKind.REPLAY)
    return run


def remove_run(runtime: Runtime, user_id: int, run_id: int) -> None:
    """Delete the run with its account and everything traded on it."""
    account_id = delete_run(runtime, user_id, run_id)
    unload(runtime, account_id)


def _played(
    runtime: Runtime,
    user_id: int,
    run_id: int,
    rows: Sequence[BlockRow],
    progress: Progress | None,
    cancelled: Cancelled | None,
    candles: dict[str, np.ndarray],
) -> RunSummary:
    loaded = _loaded(runtime, user_id, run_id, RunKind.BACKTEST, candles)
    try:
        play(runtime, loaded, rows, get_run(runtime, user_id, run_id).end_ms, progress, cancelled)
    except Exception as exc:
        save_progress(runtime, run_id, loaded.now, loaded.played(), RunStatus.FAILED, str(exc))
        raise
    finally:
        unload(runtime, loaded.account_id)
    return get_run(runtime, user_id, run_id)


def _loaded(
    runtime: Runtime, user_id: int, run_id: int, kind: RunKind, candles: dict[str, np.ndarray] | None = None
) -> Loaded:
    with runtime.sessions() as s:
        run: ReplayRun = owned_run(s, user_id, run_id)
        s.expunge(run)
    if run.kind != kind.value:
        raise RunRejected([RowError(1, "run", f"run {run_id} is a {run.kind}, not a {kind.value}")])
    return load(runtime, run, candles)


def _candles(
    runtime: Runtime, exchange: str, timeframe: str, symbols: list[str], start: int, end: int | None
) -> dict[str, np.ndarray]:
    """The stored candles of each symbol from `start` to `end`, read once for the whole run;
    RunRejected naming every symbol without any."""
    errors, out = [], {}
    for symbol in symbols:
        try:
            rows = stored_candles(runtime, exchange, symbol, timeframe, start, end if end is not None else 2**62)
        except LookupError as exc:
            errors.append(RowError(1, "series", str(exc)))
            continue
        if not len(rows):
            errors.append(RowError(1, "period", f"no stored {exchange} {symbol} {timeframe} candles in the period"))
        out[symbol] = rows
    if errors:
        raise RunRejected(errors)
    return out


def _window(candles: dict[str, np.ndarray], timeframe: str, end: int | None) -> tuple[int, int]:
    """(first bar open, end) of a run on `candles`: `end`, or just after the last bar."""
    first = min(int(rows[0, 0]) for rows in candles.values())
    last = max(int(rows[-1, 0]) for rows in candles.values()) + tf_ms(timeframe)
    return first, end if end is not None else last

"""Playing a loaded run to its end: blocks submitted at their bar, the clock moved from one event to
the next (engine.replay.clock), progress reported and saved, a cancel honoured between events.

A block's row time is snapped to the open of the first bar at or after it: the block acts on that
bar (a market entry fills at its open, docs/fill-rules.md), never on one that had already begun.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.blocks.api import BlockRejected, submit_block
from engine.replay.clock import Loaded, advance, next_event
from engine.replay.records import BlockRow, Cancelled, Progress, RunStatus
from engine.replay.store import save_progress
from engine.runtime import Runtime

REPORT_EVERY_S = 0.2  # progress callbacks at most this often (a page polls, a terminal redraws)
SAVE_EVERY_S = 1.0  # the run's row (cursor, bars done) at most this often


@dataclass
class Outcome:
    status: RunStatus
    refused: list[str] = field(default_factory=list)  # "line 4: stop: ..." for blocks the engine refused


@dataclass
class _Reporter:
    runtime: Runtime
    loaded: Loaded
    progress: Progress | None
    shown: float = 0.0
    saved: float = field(default_factory=time.monotonic)

    def tick(self, final: bool = False) -> None:
        clock = time.monotonic()
        if self.progress is not None and (final or clock - self.shown >= REPORT_EVERY_S):
            self.progress(self.loaded.played(), self.loaded.bars())
            self.shown = clock
        if not final and clock - self.saved >= SAVE_EVERY_S:
            save_progress(self.runtime, self.loaded.run_id, self.loaded.now, self.loaded.played(), RunStatus.RUNNING)
            self.saved = clock


def play(
    runtime: Runtime,
    loaded: Loaded,
    rows: Sequence[BlockRow],
    end_ms: int,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> Outcome:
    """Submit `rows` at their bars and play every event up to `end_ms`; saves the run's final state."""
    outcome = Outcome(RunStatus.DONE)
    pending = deque(_snapped(loaded, rows, end_ms, outcome.refused))
    reporter = _Reporter(runtime, loaded, progress)
    save_progress(runtime, loaded.run_id, loaded.now, loaded.played(), RunStatus.RUNNING)
    while True:
        if cancelled is not None and cancelled():
            outcome.status = RunStatus.CANCELED
            break
        while pending and pending[0][0] <= loaded.now:
            _submit(runtime, loaded, pending.popleft()[1], outcome.refused)
        moments = [m for m in (next_event(runtime, loaded), pending[0][0] if pending else None) if m is not None]
        if not moments or min(moments) > end_ms:
            break
        advance(runtime, loaded, min(moments))
        reporter.tick()
    if outcome.status is RunStatus.DONE:
        loaded.feed.now = max(loaded.now, end_ms)
    reporter.tick(final=True)
    error = "; ".join(outcome.refused) or None
    save_progress(runtime, loaded.run_id, loaded.now, loaded.played(), outcome.status, error)
    return outcome


def _snapped(loaded: Loaded, rows: Sequence[BlockRow], end_ms: int, refused: list[str]) -> list[tuple[int, BlockRow]]:
    out = []
    for row in sorted(rows, key=lambda r: (r.at_ms, r.line)):
        at = loaded.first_open_at_or_after(max(row.at_ms, loaded.now))
        if at is None or at >= end_ms:
            refused.append(f"line {row.line}: after the last bar of the period")
            continue
        out.append((at, row))
    return out


def _submit(runtime: Runtime, loaded: Loaded, row: BlockRow, refused: list[str]) -> None:
    try:
        submit_block(runtime, loaded.user_id, loaded.account_id, row.request, now_ms=loaded.now)
    except BlockRejected as exc:
        refused.append(f"line {row.line}: " + " ".join(f"{e.field}: {e.message}" for e in exc.errors))

"""The REST API's backtests under /api/v1/backtests: thin handlers over engine.replay.api,
authorized like every route (web.api.access). A posted backtest's blocks are read by block_row (the
rule of a backtest file's rows) and any bad one refuses the whole run (422, every problem by index,
nothing written). The run then plays in a daemon thread of the web process; the answer (202) is
its summary, and GET /backtests/<id> shows its progress and, when done, its report. Another
user's run answers 404, like a block.

Starting: run_backtest raises RunRejected (no stored series, an empty period) before it writes
anything, so the thread reports back once the run exists (its first `cancelled` question) or has
been refused; the route waits for that and answers 422 or 202. Starts are serialized in the process
so the new run is found as the caller's one new backtest. A run's thread dies with the process: a
run that was playing then stays "running" (delete it and post it again). With several workers
(WEB_CONCURRENCY) only the worker playing a run can stop it before a delete."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, url_for
from spectree import Response as Resp

from engine.replay import api as replay
from engine.runtime import Runtime
from web.api import backtest_schemas as bs
from web.api.access import allow, authorize, caller, refusal
from web.api.schemas import MAX_ID, ApiError
from web.api.spec import spec
from web.auth import TRADERS, current_runtime

bp = Blueprint("api_v1_backtests", __name__, url_prefix="/api/v1")
bp.before_request(authorize)

REFUSALS = {"HTTP_401": ApiError, "HTTP_403": ApiError}
NOT_FOUND = {**REFUSALS, "HTTP_404": ApiError}
STOP_WAIT_S = 30.0  # a delete waits this long for a playing run to stop between events
_STARTING = threading.Lock()


@dataclass
class _Play:
    """A run playing in this process: its thread and the flag that stops it between events."""

    thread: threading.Thread | None = None
    begun: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    failure: BaseException | None = None
    run_id: int | None = None


_PLAYING: dict[int, _Play] = {}  # run id -> its play, while the thread lives


def _not_found() -> Any:
    return refusal(404, "No such backtest of yours.")


def _refused(errors: list[bs.RowErrorOut], message: str) -> Any:
    fields: dict[str, str] = {}
    for e in errors:
        key = e.field if e.index is None else f"blocks[{e.index}].{e.field}"
        fields[key] = f"{fields[key]} {e.message}" if key in fields else e.message
    body = bs.BacktestError(error=message, fields=fields, errors=errors)
    return body, 422


def _backtest(runtime: Runtime, user_id: int, run_id: int) -> replay.RunSummary | None:
    """The caller's backtest `run_id`, or None (someone else's, a replay, or no such run)."""
    if run_id > MAX_ID:
        return None
    try:
        run = replay.get_run(runtime, user_id, run_id)
    except replay.RunAccessError:
        return None
    return run if run.kind is replay.RunKind.BACKTEST else None


def _start(runtime: Runtime, user_id: int, body: bs.BacktestIn, rows: list[replay.BlockRow]) -> replay.RunSummary:
    """The new run, playing in its thread; RunRejected (nothing written) when it cannot start."""
    play = _Play()

    def asked() -> bool:  # the engine asks between events: the first question means the run exists
        play.begun.set()
        return play.stop.is_set()

    def work() -> None:
        try:
            # No progress callback: the engine saves bars_done on the run's row, which GET reads.
            replay.run_backtest(
                runtime,
                user_id,
                rows,
                body.exchange,
                body.timeframe,
                body.start_ms(),
                body.end_ms(),
                body.name,
                replay.FillVariant(body.limit_requires_trade_through, body.slippage_bps),
                cancelled=asked,
            )
        except BaseException as exc:  # kept for the route; a run that had begun is marked failed
            play.failure = exc
        finally:
            play.begun.set()
            if play.run_id is not None:
                _PLAYING.pop(play.run_id, None)

    with _STARTING:
        before = {run.id for run in replay.backtest_runs(runtime, user_id)}
        play.thread = threading.Thread(target=work, name="api-backtest", daemon=True)
        play.thread.start()
        play.begun.wait()
        found = replay.backtest_runs(runtime, user_id)
        new = [r for r in found if r.id not in before and r.kind is replay.RunKind.BACKTEST]
        if not new:
            raise play.failure or RuntimeError("the backtest did not start")
        run = new[0]  # newest first
        play.run_id, _PLAYING[run.id] = run.id, play
        if not play.thread.is_alive():  # it ended before it was registered: nothing to stop
            _PLAYING.pop(run.id, None)
    return replay.get_run(runtime, user_id, run.id)


@bp.post("/backtests")
@spec.validate(
    json=bs.BacktestIn,
    resp=Resp(HTTP_202=bs.RunOut, HTTP_422=bs.BacktestError, **REFUSALS),
    tags=["backtests"],
)
@allow("trade", TRADERS)
def create_backtest(json: bs.BacktestIn) -> Any:
    """Backtest blocks over a stored series: every block is checked first (422 with each problem
    by index, nothing written), then the run plays in the background; poll its Location."""
    rows, errors = [], []
    for index, block in enumerate(json.blocks):
        found = replay.block_row(index, block.raw())
        if isinstance(found, list):
            errors += [bs.RowErrorOut(index=index, field=e.field, message=e.message) for e in found]
        else:
            rows.append(found)
    if errors:
        return _refused(errors, "The backtest was refused: see each block's problems.")
    rows.sort(key=lambda r: (r.at_ms, r.line))
    runtime, user_id = current_runtime(), caller().user.id
    try:
        run = _start(runtime, user_id, json, rows)
    except replay.RunRejected as exc:
        found = [bs.RowErrorOut(index=None, field=e.field, message=e.message) for e in exc.errors]
        return _refused(found, "The backtest cannot run: see why.")
    where = url_for("api_v1_backtests.get_backtest", run_id=run.id)
    return bs.run_out(run), 202, {"Location": where}


@bp.get("/backtests")
@spec.validate(resp=Resp(HTTP_200=bs.RunList, **REFUSALS), tags=["backtests"])
@allow("read", TRADERS)
def list_backtests() -> Any:
    """Your backtests, newest first, with their progress."""
    found = replay.backtest_runs(current_runtime(), caller().user.id)
    return bs.RunList(backtests=[bs.run_out(r) for r in found if r.kind is replay.RunKind.BACKTEST])


@bp.get("/backtests/<int:run_id>")
@spec.validate(resp=Resp(HTTP_200=bs.ReportOut, **NOT_FOUND), tags=["backtests"])
@allow("read", TRADERS)
def get_backtest(run_id: int) -> Any:
    """One backtest: its summary (status, bars done of bars total) and its report so far: closed
    trades, equity and drawdown after each, win rate, profit factor, deepest drawdown."""
    runtime, user_id = current_runtime(), caller().user.id
    if _backtest(runtime, user_id, run_id) is None:
        return _not_found()
    report = replay.run_report(runtime, user_id, run_id)
    return bs.ReportOut(
        backtest=bs.run_out(report.summary),
        trades=[bs.RunTradeOut.model_validate(t) for t in report.trades],
        equity=[bs.PointOut(ms=ms, value=v) for ms, v in report.equity],
        drawdown=[bs.PointOut(ms=ms, value=v) for ms, v in report.drawdown],
        starting_equity=report.starting_equity,
        win_rate=report.win_rate,
        profit_factor=report.profit_factor,
        max_drawdown_pct=report.max_drawdown_pct,
    )


@bp.delete("/backtests/<int:run_id>")
@spec.validate(resp=Resp(HTTP_204=None, HTTP_409=ApiError, **NOT_FOUND), tags=["backtests"])
@allow("trade", TRADERS)
def delete_backtest(run_id: int) -> Any:
    """Delete a backtest with its account and everything it traded; one still playing is stopped
    first (between two events)."""
    runtime, user_id = current_runtime(), caller().user.id
    if _backtest(runtime, user_id, run_id) is None:
        return _not_found()
    playing = _PLAYING.get(run_id)
    if playing is not None and playing.thread is not None:
        playing.stop.set()
        playing.thread.join(STOP_WAIT_S)
        if playing.thread.is_alive():
            return refusal(409, "The backtest is still stopping: delete it again in a moment.")
    replay.delete_run(runtime, user_id, run_id)
    return "", 204

"""Health check for load balancers and `make run` scripts: can this process reach its database, and
is an engine (this process's or another's) ticking?

`health` answers for /healthz: whether this process runs the engine, its epoch, the database's
epoch and holder, and when the last sync tick ran (engine_state, written by whichever process runs
the engine). Unhealthy (HTTP 503) when the database is unreachable or no engine has ticked for
more than STALE_AFTER_S: then no order of any process is being followed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from db.models import EngineState
from engine.runtime import Runtime

log = logging.getLogger(__name__)
STALE_AFTER_S = 60


@dataclass(frozen=True)
class Health:
    ok: bool
    status: str  # "ok", "database unreachable", "engine not ticking"
    runs_engine: bool
    engine_epoch: int | None  # this process's engine, when it runs one
    database_epoch: int | None
    holder: str | None
    last_tick_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "runs_engine": self.runs_engine,
            "engine_epoch": self.engine_epoch,
            "database_epoch": self.database_epoch,
            "holder": self.holder,
            "last_tick_at": self.last_tick_at.isoformat() if self.last_tick_at else None,
        }


def health(runtime: Runtime, now: datetime | None = None) -> Health:
    run = runtime.engine
    runs, epoch = run is not None, (run.epoch if run is not None else None)
    try:
        with runtime.sessions() as s:
            state = s.execute(select(EngineState).where(EngineState.id == 1)).scalar_one_or_none()
            s.expunge_all()
    except Exception as exc:
        log.error("health check: database unreachable: %s", exc)
        return Health(False, "database unreachable", runs, epoch, None, None, None)
    if state is None:
        return Health(False, "engine not ticking", runs, epoch, None, None, None)
    last = _aware(state.last_tick_at)
    now = now or datetime.now(UTC)
    ticking = last is not None and (now - last).total_seconds() <= STALE_AFTER_S
    status = "ok" if ticking else "engine not ticking"
    return Health(ticking, status, runs, epoch, state.epoch, state.holder, last)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite gives the stored UTC time back without its zone.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)

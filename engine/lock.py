"""The one-engine-per-database lock: however many web workers or processes start, one runs the engine.

Each gunicorn worker (and a dev reloader's child) imports the app and would start its own
scheduler: two schedulers would fetch every candle twice and race each other's order intents. So a
process must hold this lock before it starts the engine. On PostgreSQL it is a session-level
advisory lock, held by one dedicated connection for the life of the process (works across
machines); on SQLite a `flock` on a file beside the database (the database is local anyway). The
kernel or the database server releases either when the process dies, so a crash never leaves the
lock stale.

A lock can also be lost while its process lives (PostgreSQL: the lock's connection is terminated
or cut; SQLite: the lock file is deleted and another process locks a new one): `still_held` asks,
on the lock's own connection or file, and the engine checks it every heartbeat. The fencing token
goes with the lock: `take_epoch` raises engine_state.epoch when an engine starts, so whatever a
deposed engine still tries carries an older epoch than the database's (engine.blocks.executor).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, select, text, update

from db.models import EngineState
from db.session import is_postgres

log = logging.getLogger(__name__)
# An arbitrary, fixed 64-bit key: "tradeblock engine" for pg_try_advisory_lock.
ADVISORY_KEY = 0x7472616465626C6B
# pg_locks shows a bigint advisory key as two 32-bit halves (classid high, objid low).
_KEY_HIGH, _KEY_LOW = ADVISORY_KEY >> 32, ADVISORY_KEY & 0xFFFFFFFF
STATE_ID = 1  # engine_state has one row


class EngineLock:
    """Try once with `acquire()`; `release()` on shutdown. Not re-entrant, not blocking."""

    def __init__(self, db: Engine, fallback_dir: Path) -> None:
        self.db = db
        # Beside the SQLite file (two apps on one file must share the lock); an in-memory
        # database has no file, so its lock lives in the instance folder.
        database = db.url.database
        on_disk = database and database != ":memory:"
        self.lock_path = Path(f"{database}.engine-lock") if on_disk else fallback_dir / "engine.lock"
        self._held: Any = None  # the connection (PostgreSQL) or open file (SQLite) that holds it

    @property
    def held(self) -> bool:
        return self._held is not None

    def acquire(self) -> bool:
        """True when this process now holds the lock (or already did)."""
        if self._held is not None:
            return True
        self._held = self._advisory() if is_postgres(self.db) else self._flock()
        return self._held is not None

    def release(self) -> None:
        """Give the lock back; quiet when it is already lost (a dead connection has nothing to unlock)."""
        held, self._held = self._held, None
        if held is None:
            return
        try:
            if is_postgres(self.db):
                held.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            else:
                fcntl.flock(held, fcntl.LOCK_UN)
        except Exception as exc:
            log.info("engine lock was already gone on release: %s", exc)
        finally:
            held.close()

    def still_held(self) -> bool:
        """Ask on the lock's own connection (or file) whether this process still holds it."""
        held = self._held
        if held is None:
            return False
        try:
            return self._pg_holds(held) if is_postgres(self.db) else self._file_holds(held)
        except Exception as exc:  # a terminated backend or a cut connection fails the query
            log.warning("engine lock check failed: %s", exc)
            return False

    def _pg_holds(self, conn: Any) -> bool:
        query = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND classid = :high AND objid = :low AND objsubid = 1"
        )
        count = conn.execute(query, {"high": _KEY_HIGH, "low": _KEY_LOW}).scalar()
        conn.commit()  # no transaction left open between heartbeats
        return bool(count)

    def _file_holds(self, handle: IO[str]) -> bool:
        # A flock cannot be taken from us, but the file can be deleted and a new one locked by another
        # process: then our handle's file is no longer the one at the path.
        try:
            return os.fstat(handle.fileno()).st_ino == os.stat(self.lock_path).st_ino
        except FileNotFoundError:
            return False

    def _advisory(self) -> Any:
        conn = self.db.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        conn.commit()  # end the implicit transaction; the session-level lock stays with the connection
        if got:
            return conn
        conn.close()
        return None

    def _flock(self) -> IO[str] | None:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only (0600), as every instance file: the umask would leave it readable by all.
        handle = os.fdopen(os.open(self.lock_path, os.O_WRONLY | os.O_CREAT, 0o600), "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def take_epoch(db: Engine, holder: str) -> int:
    """Raise the fencing epoch for a new engine (call it holding the lock); returns the new epoch."""
    now = datetime.now(UTC)
    with db.begin() as conn:
        raised = conn.execute(
            update(EngineState)
            .where(EngineState.id == STATE_ID)
            .values(epoch=EngineState.epoch + 1, holder=holder, started_at=now, last_tick_at=None)
        ).rowcount
        if not raised:  # the first engine on this database
            conn.execute(EngineState.__table__.insert().values(id=STATE_ID, epoch=1, holder=holder, started_at=now))
        return int(conn.execute(select(EngineState.epoch).where(EngineState.id == STATE_ID)).scalar_one())


def record_tick(db: Engine, epoch: int) -> bool:
    """Note a sync tick of the engine of `epoch`; False when the database has a newer epoch (deposed)."""
    with db.begin() as conn:
        done = conn.execute(
            update(EngineState)
            .where(EngineState.id == STATE_ID, EngineState.epoch == epoch)
            .values(last_tick_at=datetime.now(UTC))
        ).rowcount
    return bool(done)

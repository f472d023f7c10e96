"""The one-engine-per-database lock: however many web workers or processes start, one runs the engine.

Each gunicorn worker (and a dev reloader's child) imports the app and would start its own
scheduler: two schedulers would fetch every candle twice and race each other's order intents. So a
process must hold this lock before it starts the engine. On PostgreSQL it is a session-level
advisory lock, held by one dedicated connection for the life of the process (works across
machines); on SQLite a `flock` on a file beside the database (the database is local anyway). The
kernel or the database server releases either when the process dies, so a crash never leaves the
lock stale.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, text

from db.session import is_postgres

log = logging.getLogger(__name__)
# An arbitrary, fixed 64-bit key: "tradeblock engine" for pg_try_advisory_lock.
ADVISORY_KEY = 0x7472616465626C6B


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
        held, self._held = self._held, None
        if held is None:
            return
        if is_postgres(self.db):
            held.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            held.close()
        else:
            fcntl.flock(held, fcntl.LOCK_UN)
            held.close()

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

"""Server-side sessions (Flask-Session): the browser's cookie holds only a random, signed session
id; what the session holds lives on the server, so signing out deletes it there and a copied
cookie replayed afterwards opens nothing.

The store is Redis when TRADEBLOCK_REDIS_URL is set (several hosts or workers share it), else
files in the instance folder (cachelib's FileSystemCache, mode 0600): zero set-up for one host.
Flask-Session's SQLAlchemy store needs Flask-SQLAlchemy, which this app does not use.
"""

from __future__ import annotations

from pathlib import Path

from cachelib.file import FileSystemCache
from flask import Flask, session
from flask_session import Session

SESSION_FILE_MODE = 0o600
# Sessions kept on disk at most (the oldest beyond this are pruned by cachelib).
SESSION_FILE_THRESHOLD = 10_000


def init_sessions(server: Flask, instance_dir: Path, redis_url: str | None) -> None:
    """Put the sessions of `server` in Redis (`redis_url`) or in `instance_dir`/sessions."""
    if redis_url:
        import redis

        server.config.update(SESSION_TYPE="redis", SESSION_REDIS=redis.Redis.from_url(redis_url))
    else:
        directory = instance_dir / "sessions"
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        cache = FileSystemCache(str(directory), threshold=SESSION_FILE_THRESHOLD, mode=SESSION_FILE_MODE)
        server.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=cache)
    server.config.update(
        SESSION_PERMANENT=True,
        SESSION_KEY_PREFIX="tradeblock:session:",
    )
    Session(server)


def new_session_id(server: Flask) -> None:
    """Give the current session a fresh id (at sign-in: an id seen before sign-in is worthless after)."""
    server.session_interface.regenerate(session)  # type: ignore[attr-defined]

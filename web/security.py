"""Form protection for the plain Flask forms (login, logout): CSRF tokens and sign-in rate limits.

CSRF tokens are Flask-WTF's (`generate_csrf` / `validate_csrf`: a random value kept in the signed
session cookie, handed to the form signed and time-stamped, compared on POST); only the two plain
forms check them. Dash's own callbacks need no token: they are JSON POSTs (a cross-site form cannot
send one without a CORS preflight) and the session cookie is SameSite=Lax.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from urllib.parse import urlsplit

from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError

CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE_S = 3_600


def csrf_token() -> str:
    """A token for a form on this session (the session gets its secret on first use)."""
    return str(generate_csrf())


def csrf_valid(token: str | None) -> bool:
    """True when `token` was issued to this session less than an hour ago."""
    try:
        validate_csrf(token, time_limit=CSRF_MAX_AGE_S)
    except ValidationError:
        return False
    return True


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else "/": never an open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(ch) < 32 for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


class AttemptLimiter:
    """At most `limit` failures per key in a sliding `window_s`; kept in memory (one web worker
    runs the desk; several workers would each count separately, still bounding attempts)."""

    def __init__(self, limit: int = 5, window_s: float = 900.0, max_keys: int = 10_000) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        return times

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.limit:
                return 0
            return max(1, int(times[0] + self.window_s - now))

    def fail(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._prune(now)
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
        while len(self._failures) >= self.max_keys:  # still full: forget the oldest keys
            del self._failures[next(iter(self._failures))]

"""Form protection for the plain Flask forms (login, logout): CSRF tokens and sign-in rate limits.

CSRF follows Flask-WTF's scheme with the libraries Flask already ships: a random value kept in the
signed session cookie, handed to the form signed and time-stamped by itsdangerous, and compared on
POST. Dash's own callbacks need no token: they are JSON POSTs (a cross-site form cannot send one
without a CORS preflight) and the session cookie is SameSite=Lax.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from urllib.parse import urlsplit

from flask import current_app, session
from itsdangerous import BadData, URLSafeTimedSerializer

CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE_S = 3_600
_CSRF_SESSION_KEY = "csrf"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tradeblock-csrf")


def csrf_token() -> str:
    """A token for a form on this session (the session gets its secret on first use)."""
    if _CSRF_SESSION_KEY not in session:
        session[_CSRF_SESSION_KEY] = secrets.token_urlsafe(32)
    return str(_serializer().dumps(session[_CSRF_SESSION_KEY]))


def csrf_valid(token: str | None) -> bool:
    """True when `token` was issued to this session less than an hour ago."""
    expected = session.get(_CSRF_SESSION_KEY)
    if not token or not expected:
        return False
    try:
        value = _serializer().loads(token, max_age=CSRF_MAX_AGE_S)
    except BadData:
        return False
    return isinstance(value, str) and hmac.compare_digest(value, expected)


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

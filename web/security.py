"""Form protection for the plain Flask forms (login, logout): CSRF tokens and sign-in rate limits.

CSRF tokens are Flask-WTF's (`generate_csrf` / `validate_csrf`: a random value kept in the
server-side session, handed to the form signed and time-stamped, compared on POST); only the two
plain forms check them. Dash's own callbacks need no token: they are JSON POSTs (a cross-site form
cannot send one without a CORS preflight), the session cookie is SameSite=Lax, and web.hardening
refuses any POST whose Origin names another host.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask_wtf.csrf import generate_csrf, validate_csrf
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
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
    """At most `limit` attempts per key in a sliding `window_s`, counted by the `limits` library's
    moving window in memory (one web worker runs the desk; several workers would each count
    separately, still bounding attempts).

    An attempt is counted *before* the password is checked (`hit`, atomic in `limits`): checking
    first and counting after let 40 parallel guesses all pass the check before any was counted.
    A success then `reset`s the key, so only failures keep counting."""

    def __init__(self, limit: int = 5, window_s: int = 900) -> None:
        self.limit, self.window_s = limit, window_s
        self._limit = RateLimitItemPerSecond(limit, window_s)
        self._window = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        if self._window.test(self._limit, key):
            return 0
        reset_at = self._window.get_window_stats(self._limit, key).reset_time
        return max(1, int(reset_at - time.time()))

    def hit(self, key: str) -> bool:
        """Count an attempt for `key`; False (and nothing counted) when it is over the limit."""
        return self._window.hit(self._limit, key)

    def reset(self, key: str) -> None:
        self._window.clear(self._limit, key)

"""The settings page's password change as the web app makes it: at most 5 wrong current passwords
per user in 15 minutes (the same limiter as sign-in, so a stolen session cannot guess the password
at leisure), and the session that made the change stays open while every other one ends."""

from __future__ import annotations

from flask import current_app

from engine.users.api import PasswordError, change_password
from web.auth import current_runtime, current_view, restamp_session
from web.security import AttemptLimiter


def _limiter() -> AttemptLimiter:
    return current_app.extensions["tradeblock_password_limiter"]


def change_own_password(current: str | None, new: str | None, repeat: str | None) -> None:
    """Change the signed-in user's password; PasswordError (with its field) when refused."""
    user, limiter = current_view(), _limiter()
    key = f"password|{user.id}"
    if not limiter.hit(key):  # counted before the check: parallel guesses cannot slip through
        minutes = -(-limiter.retry_after(key) // 60)
        raise PasswordError(f"Too many wrong passwords. Try again in {minutes} min.", "current")
    try:
        version = change_password(current_runtime(), user.id, current, new, repeat)
    except PasswordError as exc:
        if exc.field != "current":
            limiter.reset(key)  # the current password was right: this was no guess
        raise
    limiter.reset(key)
    restamp_session(version)

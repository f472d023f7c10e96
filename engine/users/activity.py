"""When each user was last seen: the web app records a signed-in request at most once a minute per
user (`users.last_seen_at`), which the admins' overview counts as activity (active in the last day,
the last week).

Cheap on purpose: the caller already holds the user's row (loaded on every request), so a fresh
stamp costs nothing; a stale one costs one UPDATE whose WHERE repeats the staleness test, so
parallel requests of one user write it once, not once each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update

from db.models import User
from engine.runtime import Runtime

# How stale `last_seen_at` may get before a request rewrites it: the activity figures count days
# and weeks, so a minute is exact enough, and a busy page (several requests a second) writes once.
SEEN_EVERY = timedelta(seconds=60)


def as_utc(moment: datetime | None) -> datetime | None:
    """An aware UTC datetime from a stored one (SQLite hands back naive UTC values)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def seen_is_stale(last_seen_at: datetime | None, now: datetime) -> bool:
    """Whether a request at `now` should record the user as seen again."""
    seen = as_utc(last_seen_at)
    return seen is None or seen <= now - SEEN_EVERY


def touch_last_seen(runtime: Runtime, user_id: int, now: datetime | None = None) -> bool:
    """Record `user_id` as seen at `now` unless that was done less than a minute ago; True when
    this call wrote it."""
    # Stored in UTC: SQLite keeps a datetime's digits and drops its offset.
    now = (now or datetime.now(UTC)).astimezone(UTC)
    stale = or_(User.last_seen_at.is_(None), User.last_seen_at <= now - SEEN_EVERY)
    with runtime.sessions.begin() as session:
        result = session.execute(
            update(User).where(User.id == user_id, stale).values(last_seen_at=now),
            execution_options={"synchronize_session": False},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

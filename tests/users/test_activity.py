"""engine.users.activity: a user's last signed-in request is stamped at most once a minute (the
admins' activity figures), only for that user, and UserView carries it as an aware UTC time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from db.enums import Role
from engine.runtime import Runtime
from engine.users.api import SEEN_EVERY, add_user, load_user, seen_is_stale, touch_last_seen

PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def ids(runtime: Runtime) -> dict[str, int]:
    return {name: add_user(runtime, name, PASSWORD, Role.TRADER).id for name in ("ann", "ben")}


def seen(runtime: Runtime, user_id: int) -> datetime | None:
    view = load_user(runtime, user_id)
    assert view is not None
    return view.last_seen_at


def test_a_new_user_was_never_seen_and_the_first_request_stamps_it(runtime: Runtime, ids: dict[str, int]) -> None:
    assert seen(runtime, ids["ann"]) is None
    assert touch_last_seen(runtime, ids["ann"], T0) is True
    assert seen(runtime, ids["ann"]) == T0
    assert seen(runtime, ids["ben"]) is None  # only that user's row


def test_the_stamp_is_rewritten_at_most_once_a_minute(runtime: Runtime, ids: dict[str, int]) -> None:
    assert touch_last_seen(runtime, ids["ann"], T0)
    # Within the minute: nothing is written, the first stamp stays.
    for later in (timedelta(seconds=1), timedelta(seconds=30), SEEN_EVERY - timedelta(microseconds=1)):
        assert touch_last_seen(runtime, ids["ann"], T0 + later) is False
        assert seen(runtime, ids["ann"]) == T0
    # A minute on: written again, and the next minute counts from there.
    assert touch_last_seen(runtime, ids["ann"], T0 + SEEN_EVERY) is True
    assert seen(runtime, ids["ann"]) == T0 + SEEN_EVERY
    assert touch_last_seen(runtime, ids["ann"], T0 + SEEN_EVERY + timedelta(seconds=59)) is False
    assert seen(runtime, ids["ann"]) == T0 + SEEN_EVERY


def test_the_stored_stamp_reads_back_as_aware_utc(runtime: Runtime, ids: dict[str, int]) -> None:
    plus_two = datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))  # 12:00 UTC
    touch_last_seen(runtime, ids["ann"], plus_two)
    stamp = seen(runtime, ids["ann"])
    assert stamp is not None
    assert stamp.utcoffset() == timedelta(0)
    assert stamp == plus_two
    assert stamp.hour == 12


@pytest.mark.parametrize(
    ("last", "stale"),
    [(None, True), (T0 - timedelta(seconds=59), False), (T0 - SEEN_EVERY, True), (T0 - timedelta(hours=3), True)],
)
def test_seen_is_stale_tells_the_web_app_when_to_write(last: datetime | None, stale: bool) -> None:
    assert seen_is_stale(last, T0) is stale
    naive = last.replace(tzinfo=None) if last else None  # as SQLite hands it back
    assert seen_is_stale(naive, T0) is stale

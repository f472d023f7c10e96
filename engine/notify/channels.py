"""Each user's one notification URL: checked by apprise at the field, encrypted at rest with the same
box as the exchange credentials (engine.users.api.secret_box), never logged and never sent back to
the browser (the card shows its scheme only). Every call takes the signed-in user's id and touches
only that user's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from db.models import NotificationChannel, NotificationOutbox, utcnow
from engine.notify.sender import SendResult, is_valid, scheme_of, send
from engine.runtime import Runtime
from engine.users import api as users

TEST_TITLE = "Tradeblock test"
TEST_BODY = "Notifications reach you here: fills, stops, finished blocks and refused orders."


class NotifyError(ValueError):
    """A notification URL that cannot be used, said for the field."""


@dataclass(frozen=True)
class ChannelView:
    scheme: str
    updated_at: datetime


def _clean(url: str | None) -> str:
    url = (url or "").strip()
    if not url:
        raise NotifyError("Enter a notification URL, e.g. tgram://bottoken/chatid.")
    if "://" not in url or not is_valid(url):
        raise NotifyError(
            "apprise does not accept this URL: check the service's format"
            " (tgram://bottoken/chatid, discord://webhook_id/token, mailto://user:pass@host, json://host/path)."
        )
    return url


def save_url(runtime: Runtime, user_id: int, url: str | None) -> ChannelView:
    """Set (or replace) the user's URL after apprise accepts it; NotifyError otherwise (nothing saved)."""
    url = _clean(url)
    token = users.secret_box(runtime).encrypt(url)
    with runtime.sessions.begin() as s:
        row = s.scalars(select(NotificationChannel).where(NotificationChannel.user_id == user_id)).first()
        if row is None:
            row = NotificationChannel(user_id=user_id, url_enc=token, scheme=scheme_of(url))
            s.add(row)
        row.url_enc, row.scheme, row.updated_at = token, scheme_of(url), utcnow()
        return ChannelView(row.scheme, row.updated_at)


def remove_url(runtime: Runtime, user_id: int) -> bool:
    """Forget the user's URL and drop what was still to be sent to it."""
    with runtime.sessions.begin() as s:
        gone = s.execute(delete(NotificationChannel).where(NotificationChannel.user_id == user_id)).rowcount
        s.execute(
            delete(NotificationOutbox).where(
                NotificationOutbox.user_id == user_id, NotificationOutbox.status == "pending"
            )
        )
    return bool(gone)


def channel_of(runtime: Runtime, user_id: int) -> ChannelView | None:
    with runtime.sessions() as s:
        row = s.scalars(select(NotificationChannel).where(NotificationChannel.user_id == user_id)).first()
        return None if row is None else ChannelView(row.scheme, row.updated_at)


def url_of(runtime: Runtime, user_id: int) -> str | None:
    """The user's URL in clear, for sending only (SecretError when no key reads it)."""
    with runtime.sessions() as s:
        token = s.scalars(select(NotificationChannel.url_enc).where(NotificationChannel.user_id == user_id)).first()
    return None if token is None else users.secret_box(runtime).decrypt(token)


def rotate_urls(runtime: Runtime) -> tuple[int, int]:
    """Re-encrypt every stored URL with the box's first key, as `python -m engine secrets rotate`
    does for the credentials: (re-encrypted, unreadable by every key and so left as they are)."""
    box, rotated, unreadable = users.secret_box(runtime), 0, 0
    with runtime.sessions.begin() as s:
        for row in s.scalars(select(NotificationChannel).with_for_update()):
            index = box.key_index(row.url_enc)
            if index is None:
                unreadable += 1
            elif index > 0:
                row.url_enc = box.rotate(row.url_enc)
                rotated += 1
    return rotated, unreadable


def send_test(runtime: Runtime, user_id: int) -> SendResult:
    """Send a test message now (not through the outbox: the user waits for the answer)."""
    url = url_of(runtime, user_id)
    if url is None:
        return SendResult(False, "Save a notification URL first.")
    return send(url, TEST_TITLE, TEST_BODY)

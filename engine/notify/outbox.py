"""Booking events: one outbox row per event, added to the CALLER's session so that it commits (or rolls
back) with the state change that caused it; a crash can then neither lose an event nor book it twice.
Users without a notification URL get no rows. engine.notify.delivery sends the rows later.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import NotificationChannel, NotificationOutbox
from engine.notify.messages import Message, custom


def has_channel(session: Session, user_id: int) -> bool:
    with session.no_autoflush:  # may run inside a flush (engine.blocks books from before_flush)
        query = select(NotificationChannel.id).where(NotificationChannel.user_id == user_id)
        return session.execute(query).first() is not None


def book(session: Session, user_id: int, message: Message) -> bool:
    """Add the event to `session` (not committed here); False when the user has no channel."""
    if not has_channel(session, user_id):
        return False
    session.add(NotificationOutbox(user_id=user_id, kind=message.kind, title=message.title, body=message.body))
    return True


def notify(session: Session, user_id: int, kind: str, title: str, body: str) -> bool:
    """Tell `user_id` about an event of another package (price alert, webhook refused, ...), in the
    caller's transaction. ValueError for an unknown kind or an empty title or body; False when
    the user has no notification URL. Never put a secret in the title or the body."""
    return book(session, user_id, custom(kind, title, body))

"""Delivering the outbox: the engine's notify job (engine.scheduler) sends what is due, oldest first,
and marks each row sent; a failure is retried with exponential backoff (BASE_BACKOFF_S doubling up to
MAX_BACKOFF_S) and given up after MAX_ATTEMPTS (status failed, the reason kept, scrubbed). A row
whose user has no URL any more is dropped. The job runs on its own scheduler thread, apart from the
sync tick, which only ever adds rows: a slow or dead service never delays or breaks trading.

Delivery is at least once: a crash after a service accepted a message and before its row is
marked sent sends it again on the next run (the window is one UPDATE).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from db.models import NotificationOutbox, utcnow
from engine.common.secrets import SecretError
from engine.notify.channels import url_of
from engine.notify.sender import SendResult, send
from engine.runtime import Runtime

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BASE_BACKOFF_S = 15
MAX_BACKOFF_S = 3600
BATCH = 50
Sender = Callable[[str, str, str], SendResult]


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure."""
    return timedelta(seconds=min(BASE_BACKOFF_S * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S))


def _due(runtime: Runtime, now: datetime) -> list[tuple[int, int, str, str]]:
    query = (
        select(NotificationOutbox.id, NotificationOutbox.user_id, NotificationOutbox.title, NotificationOutbox.body)
        .where(NotificationOutbox.status == "pending", NotificationOutbox.next_attempt_at <= now)
        .order_by(NotificationOutbox.id)
        .limit(BATCH)
    )
    with runtime.sessions() as s:
        return [tuple(row) for row in s.execute(query)]  # type: ignore[misc]


def _record(runtime: Runtime, row_id: int, result: SendResult | None, now: datetime, report: DeliveryReport) -> None:
    """Mark one row: sent, retried later, failed for good, or dropped (result None: no URL)."""
    with runtime.sessions.begin() as s:
        row = s.get(NotificationOutbox, row_id)
        if row is None or row.status != "pending":
            return
        if result is None:
            row.status, row.last_error = "dropped", "no notification URL"
            report.dropped += 1
            return
        row.attempts += 1
        if result.ok:
            row.status, row.sent_at, row.last_error = "sent", now, None
            report.sent += 1
            return
        row.last_error = result.detail[:500]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            report.failed += 1
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            report.retried += 1


def _url(runtime: Runtime, user_id: int, cache: dict[int, str | None]) -> str | None:
    if user_id not in cache:
        try:
            cache[user_id] = url_of(runtime, user_id)
        except SecretError:
            log.warning("notification URL of user %d unreadable with the configured keys", user_id)
            cache[user_id] = None
    return cache[user_id]


def deliver_due(runtime: Runtime, now: datetime | None = None, sender: Sender = send) -> DeliveryReport:
    """Send every due row (up to BATCH) and record each outcome in its own transaction."""
    now = now or utcnow()
    report = DeliveryReport()
    urls: dict[int, str | None] = {}
    for row_id, user_id, title, body in _due(runtime, now):
        url = _url(runtime, user_id, urls)
        result = None if url is None else sender(url, title, body)
        if result is not None and not result.ok:
            log.info("notification %d not delivered: %s", row_id, result.detail)
        _record(runtime, row_id, result, now, report)
    return report

"""A user's webhook: made or rotated with a new secret (returned once, kept as a SHA-256), its
template saved after engine.webhooks.template checks it, and its audit log read back."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Webhook, WebhookCall
from engine.runtime import Runtime
from engine.users.api import AccountAccessError, as_utc, get_account
from engine.webhooks.template import Template, check_template, load_template

AUDIT_ROWS = 50
HOOK_ID_LEN = 16
# Compared against when no hook matches, so a miss costs what a hit costs.
_DUMMY_HASH = hashlib.sha256(b"no such hook").hexdigest()


@dataclass(frozen=True)
class HookView:
    """The user's hook as the settings card shows it: never its secret."""

    hook_id: str
    created_at: datetime
    rotated_at: datetime
    template: Template | None


@dataclass(frozen=True)
class NewSecret:
    """A hook just made or rotated: `secret` exists in plain text only in this answer."""

    hook_id: str
    secret: str


@dataclass(frozen=True)
class CallView:
    """One line of the audit log."""

    received_at: datetime
    accepted: bool
    block_id: int | None
    reason: str
    remote_ip: str


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def secret_matches(row: Webhook | None, secret: Any) -> bool:
    presented = secret_hash(secret) if isinstance(secret, str) and len(secret) <= 200 else ""
    stored = row.secret_hash if row is not None else _DUMMY_HASH
    return hmac.compare_digest(presented, stored) and row is not None and presented != ""


def rotate_secret(runtime: Runtime, user_id: int) -> NewSecret:
    """Make the user's hook, or give it a new secret (the old one stops at once); the URL stays."""
    secret = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        row = s.scalar(select(Webhook).where(Webhook.user_id == user_id))
        if row is None:
            row = Webhook(user_id=user_id, hook_id=secrets.token_urlsafe(12)[:HOOK_ID_LEN], created_at=now)
            s.add(row)
        row.secret_hash, row.rotated_at = secret_hash(secret), now
        s.flush()
        return NewSecret(row.hook_id, secret)


def get_hook(runtime: Runtime, user_id: int) -> HookView | None:
    with runtime.sessions() as s:
        row = s.scalar(select(Webhook).where(Webhook.user_id == user_id))
        if row is None:
            return None
        created, rotated = as_utc(row.created_at), as_utc(row.rotated_at)
        assert created is not None
        assert rotated is not None
        return HookView(row.hook_id, created, rotated, load_template(row.template))


def save_template(runtime: Runtime, user_id: int, raw: dict[str, Any]) -> Template | dict[str, str]:
    """Check and save the template of the user's hook; {field: message} when refused (nothing
    saved). The account must be the user's own."""
    checked = check_template(raw)
    if isinstance(checked, dict):
        return checked
    with runtime.sessions.begin() as s:
        row = s.scalar(select(Webhook).where(Webhook.user_id == user_id))
        if row is None:
            return {"hook": "Make the webhook first."}
        try:
            get_account(s, user_id, checked.account_id)
        except AccountAccessError:
            return {"account_id": "Pick one of your accounts."}
        row.template = checked.to_json()
    return checked


def recent_calls(runtime: Runtime, user_id: int, limit: int = AUDIT_ROWS) -> list[CallView]:
    """The user's last calls, newest first."""
    with runtime.sessions() as s:
        query = (
            select(WebhookCall)
            .join(Webhook, Webhook.id == WebhookCall.webhook_id)
            .where(Webhook.user_id == user_id)
            .order_by(WebhookCall.id.desc())
            .limit(limit)
        )
        return [_call_view(c) for c in s.scalars(query)]


def _call_view(c: WebhookCall) -> CallView:
    received = as_utc(c.received_at)
    assert received is not None
    return CallView(received, c.accepted, c.block_id, c.reason, c.remote_ip)


def find_hook(s: Session, hook_id: str) -> Webhook | None:
    if not 1 <= len(hook_id) <= HOOK_ID_LEN or not all(ch.isalnum() or ch in "-_" for ch in hook_id):
        return None  # never a NUL or the like in a query
    return s.scalar(select(Webhook).where(Webhook.hook_id == hook_id))

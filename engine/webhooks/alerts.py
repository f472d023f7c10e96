"""A TradingView alert as it arrives: the JSON body of the alert message (TradingView sends it as
application/json when the message is valid JSON, text/plain otherwise: the body is read either
way), its time (`timenow`, else `time`: ISO 8601 UTC, or epoch milliseconds), its idempotency key
and its side. Nothing here touches the database."""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_BODY = 16_384  # a TradingView message is at most a few kB
MAX_ID = 128
ACTIONS = {"buy": "long", "long": "long", "sell": "short", "short": "short"}


class AlertError(ValueError):
    """The alert cannot be read: the message says why (for the caller and the audit log)."""


@dataclass(frozen=True)
class Alert:
    fields: dict[str, Any]
    secret: Any
    sent_at: datetime | None
    key: str


def read_alert(body: bytes) -> Alert:
    """The alert in `body`, or AlertError for what is not a JSON object."""
    if len(body) > MAX_BODY:
        raise AlertError(f"The alert is over {MAX_BODY} bytes.")
    try:
        fields = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AlertError(f"The alert is not valid JSON ({str(exc)[:80]}): paste the message from the README.") from exc
    if not isinstance(fields, dict):
        raise AlertError("The alert must be a JSON object: paste the message from the README.")
    secret = fields.pop("secret", None)
    return Alert(fields, secret, _sent_at(fields), alert_key(fields))


def alert_key(fields: dict[str, Any]) -> str:
    """The alert's own `id` when it sends one, else a hash of its body (the secret left out: a
    rotation does not make an old alert new) - which holds its time, so a retry has the same key."""
    given = fields.get("id")
    if isinstance(given, str | int) and not isinstance(given, bool) and 0 < len(str(given)) <= MAX_ID:
        return hashlib.sha256(f"id:{given}".encode()).hexdigest()
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"body:{canonical}".encode()).hexdigest()


def _sent_at(fields: dict[str, Any]) -> datetime | None:
    for name in ("timenow", "time"):
        value = fields.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**45:
            return datetime.fromtimestamp(value / 1000, UTC)
        if isinstance(value, str) and 0 < len(value) <= 40:
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                continue
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return None


def alert_side(fields: dict[str, Any]) -> str | None:
    """long/short from the alert's `action` ({{strategy.order.action}}: buy or sell)."""
    action = fields.get("action")
    return ACTIONS.get(action.strip().lower()) if isinstance(action, str) else None


def in_allowlist(remote_ip: str, allowed: tuple[str, ...]) -> bool:
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(remote_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in allowed)

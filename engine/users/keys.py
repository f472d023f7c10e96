"""Encryption keys of the stored exchange credentials: which key reads how many of them (`key_status`),
and re-encrypting every one with the newest key (`rotate_credentials`), so that older keys can be
dropped from TRADEBLOCK_ENCRYPTION_KEYS. Keys are named by their place, never shown; a credential
no key can read is reported by its account id, never by its value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select

from db.models import ExchangeAccount
from engine.common.secrets import SecretBox, SecretError
from engine.runtime import Runtime
from engine.users.settings import secret_box

log = logging.getLogger(__name__)
# Every encrypted column of the accounts table (grep "_enc" in db/models.py).
ENCRYPTED_COLUMNS = ("api_key_enc", "secret_enc", "password_enc")
Progress = Callable[[int, int], None]  # (accounts done, accounts in all)


@dataclass(frozen=True)
class KeyStatus:
    """How many stored credentials each key of the box reads (index 0 = the key that encrypts)."""

    labels: tuple[str, ...]  # one per key, in the box's order
    readable: tuple[int, ...]  # credentials each key reads
    unreadable: tuple[int, ...]  # account ids with a credential no key reads

    @property
    def still_needed(self) -> tuple[str, ...]:
        """The older keys that some credential still needs (none once everything is rotated)."""
        return tuple(label for label, count in zip(self.labels[1:], self.readable[1:], strict=True) if count)


@dataclass(frozen=True)
class RotationReport:
    rotated: int  # credentials re-encrypted now
    current: int  # credentials that already were under the newest key
    status: KeyStatus  # after the rotation


def key_labels(runtime: Runtime) -> tuple[str, ...]:
    """The box's keys by their place: TRADEBLOCK_ENCRYPTION_KEYS #1..n, then the SECRET_KEY one."""
    configured = len(runtime.settings.encryption_keys)
    labels = [f"TRADEBLOCK_ENCRYPTION_KEYS #{i + 1}" for i in range(configured)]
    return tuple(labels + ["the key derived from SECRET_KEY"] * (len(secret_box(runtime)) - configured))


def _account_ids(runtime: Runtime) -> list[int]:
    has_secret = or_(*(getattr(ExchangeAccount, c).is_not(None) for c in ENCRYPTED_COLUMNS))
    with runtime.sessions() as s:
        return list(s.scalars(select(ExchangeAccount.id).where(has_secret).order_by(ExchangeAccount.id)))


def _tokens(account: ExchangeAccount) -> list[tuple[str, str]]:
    return [(c, getattr(account, c)) for c in ENCRYPTED_COLUMNS if getattr(account, c)]


def key_status(runtime: Runtime) -> KeyStatus:
    """Which key reads how many stored credentials, and which accounts hold one no key reads."""
    box = secret_box(runtime)
    readable = [0] * len(box)
    unreadable: list[int] = []
    ids = _account_ids(runtime)
    with runtime.sessions() as s:
        for account in s.scalars(select(ExchangeAccount).where(ExchangeAccount.id.in_(ids))):
            for _, token in _tokens(account):
                index = box.key_index(token)
                if index is None:
                    unreadable.append(account.id)
                else:
                    readable[index] += 1
    return KeyStatus(key_labels(runtime), tuple(readable), tuple(sorted(set(unreadable))))


def _rotate_batch(runtime: Runtime, box: SecretBox, ids: list[int]) -> tuple[int, int]:
    """(rotated, already current) in one transaction; unreadable credentials are left as they are."""
    rotated = current = 0
    with runtime.sessions.begin() as s:
        for account in s.scalars(select(ExchangeAccount).where(ExchangeAccount.id.in_(ids)).with_for_update()):
            for column, token in _tokens(account):
                index = box.key_index(token)
                if index == 0:
                    current += 1  # idempotent: what the newest key made is not re-encrypted
                elif index is not None:
                    try:
                        setattr(account, column, box.rotate(token))
                    except SecretError:
                        continue
                    rotated += 1
    return rotated, current


def rotate_credentials(runtime: Runtime, batch_size: int = 100, progress: Progress | None = None) -> RotationReport:
    """Re-encrypt every stored credential with the newest key, `batch_size` accounts per transaction."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    box = secret_box(runtime)
    ids = _account_ids(runtime)
    rotated = current = 0
    if progress is not None:
        progress(0, len(ids))
    for start in range(0, len(ids), batch_size):
        done_now, already = _rotate_batch(runtime, box, ids[start : start + batch_size])
        rotated, current = rotated + done_now, current + already
        if progress is not None:
            progress(min(start + batch_size, len(ids)), len(ids))
    status = key_status(runtime)
    log.info("credentials rotated: %d re-encrypted, %d already current, %d unreadable", rotated, current,
             len(status.unreadable))  # fmt: skip
    return RotationReport(rotated, current, status)

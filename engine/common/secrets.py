"""API secrets encrypted at rest, with the `cryptography` package's Fernet (AES-128-CBC + HMAC-SHA256).

A `SecretBox` holds one or more Fernet keys: the first encrypts, all of them decrypt, so keys are
rotated by putting a new key first and keeping the old ones until every stored token has been
re-encrypted (`rotate`). With no key configured, `key_from_secret` derives one from the app's
SECRET_KEY (HKDF-SHA256 with a fixed label), so a fresh install works without setup; changing
SECRET_KEY then makes the stored secrets unreadable (SecretError), which is why a dedicated key is better.
When keys are configured, `box_for` keeps the derived key as the LAST, decrypt-only key, so setting
TRADEBLOCK_ENCRYPTION_KEYS for the first time loses nothing (`python -m engine secrets rotate` then
re-encrypts everything with the first key; see README "Security").
For display, `mask` shows only the last four characters and `Redacted` never prints its value.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Changing this label changes every derived key: it is part of the stored data's format.
_HKDF_INFO = b"tradeblock/secrets/fernet-key/v1"
_MASK_SHOWN = 4


class SecretError(Exception):
    """A key or token that cannot be used (wrong key, corrupted token, malformed key)."""


class SecretBox:
    """Encrypts and decrypts short secrets (API keys, secrets, passphrases) with Fernet keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        """`keys`: urlsafe-base64 Fernet keys, newest first (it encrypts; all decrypt)."""
        if isinstance(keys, str) or not keys:
            raise SecretError("SecretBox needs a non-empty list of Fernet keys")
        try:
            self._keys = [Fernet(key) for key in keys]
        except (ValueError, TypeError) as exc:
            raise SecretError("a Fernet key must be 32 urlsafe-base64-encoded bytes (see new_key())") from exc
        self._fernet = MultiFernet(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def key_index(self, token: str) -> int | None:
        """Which of the box's keys (0 = the first) reads `token`; None when none does."""
        for index, key in enumerate(self._keys):
            try:
                key.decrypt(token.encode("ascii"))
            except (InvalidToken, UnicodeError, ValueError):
                continue
            return index
        return None

    def encrypt(self, plain: str) -> str:
        """A token (ASCII text) holding `plain`, encrypted with the first key."""
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The text inside `token`; SecretError when no key of this box made it or it was altered."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError) as exc:
            raise SecretError("cannot decrypt: the token was made with another key, or is damaged") from exc

    def rotate(self, token: str) -> str:
        """`token` re-encrypted with the first key (for re-keying stored secrets after a rotation)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError) as exc:
            raise SecretError("cannot rotate: the token was made with another key, or is damaged") from exc


def new_key() -> str:
    """A fresh random Fernet key, as text for a setting."""
    return Fernet.generate_key().decode("ascii")


def key_from_secret(secret_key: str) -> str:
    """A Fernet key derived from the app's SECRET_KEY (deterministic: the same secret gives the same key)."""
    if not secret_key:
        raise SecretError("cannot derive an encryption key from an empty SECRET_KEY")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8"))).decode("ascii")


def box_keys(keys: Sequence[str] | None, secret_key: str) -> list[str]:
    """The keys `box_for` uses, in order: the configured ones, then the one derived from SECRET_KEY
    (alone when none is configured; last and so decrypt-only otherwise, unless it is configured too)."""
    configured = list(keys or [])
    derived = key_from_secret(secret_key) if secret_key or not configured else None
    return configured + ([derived] if derived is not None and derived not in configured else [])


def box_for(keys: Sequence[str] | None, secret_key: str) -> SecretBox:
    """The box to use: the configured keys (the first encrypts), then the key derived from SECRET_KEY,
    which encrypts only when no key is configured and otherwise still reads what it once encrypted."""
    return SecretBox(box_keys(keys, secret_key))


def mask(secret: str | None) -> str:
    """A secret for display: '****' and its last four characters, or only '****' when it is short."""
    if not secret:
        return ""
    if len(secret) <= 2 * _MASK_SHOWN:
        return "****"
    return "****" + secret[-_MASK_SHOWN:]


class Redacted(str):
    """A str that keeps its value for use but shows only its mask in repr/str/format (logs, tracebacks)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Redacted({mask(str.__str__(self))!r})"

    def __str__(self) -> str:
        return mask(str.__str__(self))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    @property
    def value(self) -> str:
        """The secret itself."""
        return str.__str__(self)

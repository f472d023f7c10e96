"""API tokens: a user's named, scoped credentials for the REST API (web/api).

A token reads `tb_<prefix>_<secret>`: the prefix (8 characters, random) finds its row and is shown
in the settings table; the whole token is kept only as a SHA-256 (a random 32-byte secret needs no
slow hash: nobody can guess it, and a leaked table gives nothing to try offline). The plain token
is returned once, by `create_token`, and never again. `authenticate` compares hashes in constant
time and refuses revoked tokens and disabled users; it stamps `last_used_at` at most once a minute.
A read token reads; a trade token may also create and cancel blocks, for a user whose role trades.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, or_, select, update

from db.enums import Role
from db.models import ApiToken, User
from engine.runtime import Runtime
from engine.users.activity import as_utc
from engine.users.directory import UserView
from engine.users.passwords import UserError

SCOPES = ("read", "trade")
TRADING_ROLES = (Role.ADMIN, Role.TRADER)
TOKEN_NAME_MAX = 64
MAX_TOKENS = 20  # live tokens per user: enough for every script, bounded against a runaway loop
USED_EVERY = timedelta(seconds=60)
_PREFIX_LEN = 8
_HEX = frozenset("0123456789abcdef")
# Compared against when the prefix matches no row, so a miss costs what a hit costs.
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()


@dataclass(frozen=True)
class TokenView:
    """A token as the settings table shows it: never its secret."""

    id: int
    name: str
    scope: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class NewToken:
    """A token just made: `token` is the only time its plain text exists outside the client."""

    view: TokenView
    token: str


@dataclass(frozen=True)
class TokenUser:
    """Who a presented token speaks for, and what it may do."""

    user: UserView
    scope: str
    token_id: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _view(row: ApiToken) -> TokenView:
    created = as_utc(row.created_at)
    assert created is not None
    return TokenView(row.id, row.name, row.scope, row.prefix, created, as_utc(row.last_used_at), as_utc(row.revoked_at))


def create_token(runtime: Runtime, user_id: int, name: str | None, scope: str | None) -> NewToken:
    """A new token for the user; UserError (message for the form) for a bad name or scope, a
    trade token for a role that cannot trade, or too many live tokens."""
    clean = (name or "").strip()
    if not clean:
        raise UserError("Name the token (what will use it).")
    if len(clean) > TOKEN_NAME_MAX or any(ord(ch) < 32 for ch in clean):
        raise UserError(f"The name is at most {TOKEN_NAME_MAX} printable characters.")
    if scope not in SCOPES:
        raise UserError("The scope is read or trade.")
    with runtime.sessions.begin() as s:
        user = s.get(User, user_id)
        if user is None or not user.is_active:
            raise UserError("No such user.")
        if scope == "trade" and Role(user.role) not in TRADING_ROLES:
            raise UserError("Your role cannot trade: make a read token.")
        live = s.scalars(select(ApiToken.id).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))).all()
        if len(live) >= MAX_TOKENS:
            raise UserError(f"At most {MAX_TOKENS} tokens: revoke one first.")
        prefix = secrets.token_hex(_PREFIX_LEN // 2)
        token = f"tb_{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiToken(user_id=user_id, name=clean, scope=scope, prefix=prefix, token_hash=_hash(token))
        s.add(row)
        s.flush()
        return NewToken(_view(row), token)


def list_tokens(runtime: Runtime, user_id: int) -> list[TokenView]:
    """The user's tokens, newest first, revoked ones included (their history)."""
    with runtime.sessions() as s:
        rows = s.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()))
        return [_view(r) for r in rows]


def revoke_token(runtime: Runtime, user_id: int, token_id: int) -> bool:
    """Revoke one of the user's tokens at once; False when it is not theirs or already revoked."""
    with runtime.sessions.begin() as s:
        done = s.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def _split(token: str) -> str | None:
    """The prefix of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "tb" or len(parts[1]) != _PREFIX_LEN or not parts[2]:
        return None
    if any(ch not in _HEX for ch in parts[1]):  # never a NUL or the like in a query (PostgreSQL refuses one)
        return None
    return parts[1]


# The token and its user in one query of plain columns (no ORM objects: every API request runs it first).
_AUTH_COLUMNS = (
    ApiToken.id,
    ApiToken.scope,
    ApiToken.token_hash,
    ApiToken.revoked_at,
    ApiToken.last_used_at,
    User.id,
    User.username,
    User.role,
    User.is_active,
    User.theme,
    User.timezone,
    User.session_version,
    User.last_seen_at,
)
# Built once, run with its parameters: building a statement and its cache key on each call was
# about half of a small query's CPU (docs/benchmarks.md, "statements built once").
_AUTH = select(*_AUTH_COLUMNS).join(User, User.id == ApiToken.user_id).where(ApiToken.prefix == bindparam("prefix"))


def authenticate(runtime: Runtime, token: str, now: datetime | None = None) -> TokenUser | None:
    """The enabled user and scope of a live token, else None (unknown, revoked, disabled user)."""
    prefix = _split(token) if len(token) <= 200 else None
    with runtime.sessions() as s:
        row = s.connection().execute(_AUTH, {"prefix": prefix}).first() if prefix else None
    presented = _hash(token)
    if not hmac.compare_digest(presented, row.token_hash if row is not None else _DUMMY_HASH) or row is None:
        return None
    token_id, scope, _digest, revoked_at, last_used_at, *person = row
    if revoked_at is not None:
        return None
    user_id, username, role, is_active, theme, timezone, session_version, last_seen_at = person
    if not is_active:
        return None
    user = UserView(
        user_id, username, Role(role), is_active, theme, timezone, session_version or 0, as_utc(last_seen_at)
    )
    _stamp(runtime, token_id, last_used_at, now or datetime.now(UTC))
    return TokenUser(user, scope, token_id)


def _stamp(runtime: Runtime, token_id: int, last_used_at: datetime | None, now: datetime) -> None:
    used = as_utc(last_used_at)
    if used is not None and used > now - USED_EVERY:
        return
    with runtime.sessions.begin() as s:  # the WHERE repeats the test: parallel calls write once
        s.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - USED_EVERY),
            )
            .values(last_used_at=now)
        )

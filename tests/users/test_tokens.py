"""API tokens (engine.users.tokens): shown once and stored only as a hash, found by their prefix,
refused when revoked, tampered with or their user disabled; scoped by role; last use stamped at
most once a minute; one user cannot revoke another's."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.enums import Role
from db.models import ApiToken
from engine.runtime import Runtime
from engine.users.api import UserError, add_user, authenticate, create_token, list_tokens, revoke_token, set_active

PASSWORD = "correct horse battery"


@pytest.fixture
def people(runtime: Runtime) -> dict[str, int]:
    return {
        name: add_user(runtime, name, PASSWORD, role).id
        for name, role in (("admin", Role.ADMIN), ("trader", Role.TRADER), ("analyst", Role.ANALYST))
    }


def test_the_token_is_shown_once_and_only_its_hash_is_stored(runtime: Runtime, people: dict) -> None:
    made = create_token(runtime, people["trader"], "  my bot ", "trade")
    assert made.token.startswith(f"tb_{made.view.prefix}_")
    assert len(made.token) > 40
    with runtime.sessions() as s:
        row = s.scalar(select(ApiToken))
    assert row is not None
    assert row.token_hash == hashlib.sha256(made.token.encode()).hexdigest()
    assert made.token not in repr(vars(row))
    listed = list_tokens(runtime, people["trader"])
    assert [(t.name, t.scope, t.prefix) for t in listed] == [("my bot", "trade", made.view.prefix)]
    assert made.token not in repr(listed)


def test_authenticate_knows_the_user_and_scope(runtime: Runtime, people: dict) -> None:
    made = create_token(runtime, people["analyst"], "notebook", "read")
    who = authenticate(runtime, made.token)
    assert who is not None
    assert (who.user.username, who.scope, who.token_id) == ("analyst", "read", made.view.id)


@pytest.mark.parametrize("mangle", [lambda t: t[:-1], lambda t: t + "A", lambda t: t.upper(), lambda t: "x" + t])
def test_a_tampered_token_is_refused(runtime: Runtime, people: dict, mangle) -> None:  # type: ignore[no-untyped-def]
    made = create_token(runtime, people["trader"], "bot", "read")
    assert authenticate(runtime, mangle(made.token)) is None


@pytest.mark.parametrize(
    "junk", ["", "tb_", "tb__x", "Bearer x", "tb_12345678_", "x" * 5000, "tb_\x00\x00\x00\x00\x00\x00\x00\x00_x"]
)
def test_junk_is_refused(runtime: Runtime, people: dict, junk: str) -> None:
    assert authenticate(runtime, junk) is None


def test_revoked_tokens_and_disabled_users_are_refused(runtime: Runtime, people: dict) -> None:
    first = create_token(runtime, people["trader"], "one", "trade")
    second = create_token(runtime, people["trader"], "two", "read")
    assert revoke_token(runtime, people["admin"], first.view.id) is False  # not the admin's
    assert authenticate(runtime, first.token) is not None
    assert revoke_token(runtime, people["trader"], first.view.id) is True
    assert revoke_token(runtime, people["trader"], first.view.id) is False  # already
    assert authenticate(runtime, first.token) is None
    assert authenticate(runtime, second.token) is not None
    set_active(runtime, people["admin"], people["trader"], False)
    assert authenticate(runtime, second.token) is None
    revoked = {t.name: t.revoked_at is not None for t in list_tokens(runtime, people["trader"])}
    assert revoked == {"one": True, "two": False}


def test_scopes_names_and_roles_are_checked(runtime: Runtime, people: dict) -> None:
    with pytest.raises(UserError, match="cannot trade"):
        create_token(runtime, people["analyst"], "bot", "trade")
    with pytest.raises(UserError, match="read or trade"):
        create_token(runtime, people["trader"], "bot", "admin")
    with pytest.raises(UserError, match="Name the token"):
        create_token(runtime, people["trader"], "   ", "read")
    with pytest.raises(UserError, match="at most 64"):
        create_token(runtime, people["trader"], "x" * 65, "read")
    assert list_tokens(runtime, people["trader"]) == []


def test_last_use_is_stamped_at_most_once_a_minute(runtime: Runtime, people: dict) -> None:
    made = create_token(runtime, people["trader"], "bot", "read")
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    authenticate(runtime, made.token, now=start)
    authenticate(runtime, made.token, now=start + timedelta(seconds=30))
    assert list_tokens(runtime, people["trader"])[0].last_used_at == start
    authenticate(runtime, made.token, now=start + timedelta(seconds=61))
    assert list_tokens(runtime, people["trader"])[0].last_used_at == start + timedelta(seconds=61)

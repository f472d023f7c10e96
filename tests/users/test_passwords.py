"""The one password rule (10 characters or more, README) holds at every door that sets a password:
the CLI's create-user, the admin Users page (directory.add_user) and the settings page's change."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from db.enums import Role
from db.models import User
from engine.cli import cli
from engine.config import Settings
from engine.runtime import Runtime
from engine.users import settings as acc
from engine.users.directory import add_user, check_login
from engine.users.passwords import MIN_PASSWORD, UserError, check_password, hash_password

NINE, TEN = "nine-char", "ten-chars!"
REFUSAL = "Use at least 10 characters."


def test_the_rule_is_ten_characters() -> None:
    assert MIN_PASSWORD == 10
    assert (len(NINE), len(TEN)) == (9, 10)


def test_hashing_is_scrypt_and_checks_back() -> None:
    stored = hash_password(TEN)
    assert stored.startswith("scrypt:")
    assert check_password(stored, TEN)
    assert not check_password(stored, NINE)


def _user_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def test_the_cli_refuses_nine_characters_and_accepts_ten(
    runtime: Runtime, test_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", test_settings.database_url)
    monkeypatch.setenv("TRADEBLOCK_INSTANCE_DIR", str(test_settings.instance_dir))
    runner = CliRunner()
    refused = runner.invoke(cli, ["create-user", "cleo"], input=f"{NINE}\n{NINE}\n")
    assert refused.exit_code != 0
    assert REFUSAL in refused.output
    assert _user_count(runtime) == 0
    accepted = runner.invoke(cli, ["create-user", "cleo"], input=f"{TEN}\n{TEN}\n")
    assert accepted.exit_code == 0, accepted.output
    assert check_login(runtime, "cleo", TEN) is not None


def test_the_admin_page_refuses_nine_characters_and_accepts_ten(runtime: Runtime) -> None:
    with pytest.raises(UserError) as refused:
        add_user(runtime, "dora", NINE, Role.ANALYST)
    assert str(refused.value) == REFUSAL
    assert _user_count(runtime) == 0
    add_user(runtime, "dora", TEN, Role.ANALYST)
    assert check_login(runtime, "dora", TEN) is not None


def test_the_settings_change_refuses_nine_characters_and_accepts_ten(runtime: Runtime) -> None:
    user = add_user(runtime, "eve", "the first password", Role.TRADER)
    with pytest.raises(acc.PasswordError) as refused:
        acc.change_password(runtime, user.id, "the first password", NINE, NINE)
    assert (str(refused.value), refused.value.field) == (REFUSAL, "new")
    assert check_login(runtime, "eve", "the first password") is not None
    acc.change_password(runtime, user.id, "the first password", TEN, TEN)
    assert check_login(runtime, "eve", TEN) is not None

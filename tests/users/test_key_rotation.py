"""Rotating the keys of the stored exchange credentials, following the README's procedure step by
step on the real database (start with SECRET_KEY only -> set K2 -> rotate -> K2 alone -> K3,K2 ->
rotate -> K3 alone), through the engine and through `python -m engine secrets` (click's CliRunner),
and never a credential or a key in the output or the logs."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from db.enums import Role
from db.models import ExchangeAccount
from engine.cli import cli
from engine.common.secrets import new_key
from engine.config import Settings
from engine.runtime import Runtime
from engine.users import api as users
from engine.users.settings import secret_box

API_KEY, API_SECRET, PASSPHRASE = "AKIAkey-0123456789-WXYZ", "s3cr3t-value-never-shown-4711", "pass-phrase-99"
SECRETS = (API_KEY, API_SECRET, PASSPHRASE)


@pytest.fixture
def accounts(runtime: Runtime) -> list[int]:
    """Three live accounts (one with a passphrase: 7 credentials) stored under the SECRET_KEY key, and a paper one."""
    trader = users.add_user(runtime, "keyholder", "a-long-password", Role.TRADER)
    made = [
        users.add_live(runtime, trader.id, f"Live {i}", "binance", API_KEY, API_SECRET, PASSPHRASE if i == 0 else "")
        for i in range(3)
    ]
    users.open_paper(runtime, trader.id, "Paper", "demo", "USDT", "1000")
    return [a.id for a in made]


def use_keys(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, *keys: str) -> None:
    """TRADEBLOCK_ENCRYPTION_KEYS set to `keys` (the process restarted with the new setting)."""
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, encryption_keys=tuple(keys)))


def readable(runtime: Runtime) -> bool:
    """Every stored credential decrypts to what was entered."""
    box = secret_box(runtime)
    with runtime.sessions() as s:
        rows = s.scalars(select(ExchangeAccount).where(ExchangeAccount.api_key_enc.is_not(None))).all()
    return bool(rows) and all(
        (box.decrypt(a.api_key_enc), box.decrypt(a.secret_enc)) == (API_KEY, API_SECRET)
        and (a.password_enc is None or box.decrypt(a.password_enc) == PASSPHRASE)
        for a in rows
    )


def test_the_readme_rotation_procedure_loses_no_credential(
    runtime: Runtime, accounts: list[int], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    k2, k3 = new_key(), new_key()
    assert readable(runtime)
    assert users.key_status(runtime).readable == (7,)  # SECRET_KEY only

    use_keys(runtime, monkeypatch, k2)  # first time: the derived key stays as the last, decrypt-only key
    assert readable(runtime)
    status = users.key_status(runtime)
    assert status.labels == ("TRADEBLOCK_ENCRYPTION_KEYS #1", "the key derived from SECRET_KEY")
    assert (status.readable, status.still_needed) == ((0, 7), ("the key derived from SECRET_KEY",))

    report = users.rotate_credentials(runtime, batch_size=2)
    assert (report.rotated, report.current, report.status.readable, report.status.still_needed) == (7, 0, (7, 0), ())
    again = users.rotate_credentials(runtime, batch_size=2)  # idempotent
    assert (again.rotated, again.current) == (0, 7)

    use_keys(runtime, monkeypatch, k2)  # K2 alone
    assert readable(runtime)
    use_keys(runtime, monkeypatch, k3, k2)  # a new key first, the old one kept
    assert readable(runtime)
    assert users.key_status(runtime).still_needed == ("TRADEBLOCK_ENCRYPTION_KEYS #2",)
    assert users.rotate_credentials(runtime).rotated == 7
    use_keys(runtime, monkeypatch, k3)  # K3 alone
    assert readable(runtime)
    assert users.key_status(runtime).readable == (7, 0)
    for text in (*SECRETS, k2, k3):
        assert text not in caplog.text


def test_dropping_a_key_before_rotating_is_reported_by_account_not_value(
    runtime: Runtime, accounts: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    k1, k2 = new_key(), new_key()
    use_keys(runtime, monkeypatch, k1)
    users.rotate_credentials(runtime)
    use_keys(runtime, monkeypatch, k2, k1)
    with runtime.sessions.begin() as s:  # one account re-entered under K2, the others still under K1
        account = s.get(ExchangeAccount, accounts[1])
        account.api_key_enc, account.secret_enc = (secret_box(runtime).encrypt(v) for v in (API_KEY, API_SECRET))
    use_keys(runtime, monkeypatch, k2)  # K1 dropped too early
    status = users.key_status(runtime)
    assert status.unreadable == (accounts[0], accounts[2])
    report = users.rotate_credentials(runtime)
    assert (report.rotated, report.current, report.status.unreadable) == (0, 2, (accounts[0], accounts[2]))
    with runtime.sessions() as s:  # the unreadable ones are left as they were, for K1 to come back
        assert s.get(ExchangeAccount, accounts[0]).api_key_enc is not None
    use_keys(runtime, monkeypatch, k2, k1)
    assert users.rotate_credentials(runtime).rotated == 5
    assert readable(runtime)


def test_a_batch_size_below_one_is_refused(runtime: Runtime) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        users.rotate_credentials(runtime, batch_size=0)


def test_the_secrets_commands_rotate_and_report_without_showing_a_secret(
    runtime: Runtime, accounts: list[int], test_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    k2 = new_key()
    monkeypatch.setenv("DATABASE_URL", test_settings.database_url)
    monkeypatch.setenv("TRADEBLOCK_INSTANCE_DIR", str(test_settings.instance_dir))
    monkeypatch.setenv("SECRET_KEY", test_settings.secret_key)
    monkeypatch.setenv("TRADEBLOCK_ENCRYPTION_KEYS", k2)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["secrets", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        for text in (*SECRETS, k2, test_settings.secret_key):
            assert text not in result.output
        return result.output

    before = run("status")
    assert "TRADEBLOCK_ENCRYPTION_KEYS #1: reads 0 credentials" in before
    assert "the key derived from SECRET_KEY: reads 7 credentials" in before
    assert "still needed: the key derived from SECRET_KEY" in before
    rotated = run("rotate", "--batch-size", "1")
    assert "7 credentials re-encrypted, 0 already under the first key" in rotated
    assert "still needed: none of the older keys" in rotated
    assert "0 credentials re-encrypted, 7 already under the first key" in run("rotate")
    monkeypatch.setenv("TRADEBLOCK_ENCRYPTION_KEYS", new_key())  # K2 lost
    lost = run("status")
    assert f"no key reads a credential of account(s) {', '.join(str(i) for i in accounts)}" in lost
    result = runner.invoke(cli, ["secrets", "rotate", "--batch-size", "0"])
    assert result.exit_code != 0
    assert "batch-size" in result.output

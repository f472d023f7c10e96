"""engine.users.settings: accounts of the signed-in user (paper and live, credentials encrypted at
rest), the connection test through ccxt fed recorded HTTP answers, the live switch, removal,
timezone and password changes, and that nobody reaches another user's accounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest
from sqlalchemy import select, text
from werkzeug.security import check_password_hash

from db.enums import AccountKind, BlockStatus, EntryType, ProtectionMode, Role, Side, SizeMode
from db.models import Block, ExchangeAccount, PaperAccount, User
from engine.runtime import Runtime
from engine.users import settings as acc
from engine.users.directory import add_user, check_login
from tests.helpers.ccxt_replay import fixture, fixture_entries, fixture_markets
from tests.helpers.ccxt_trading import Router, venue_refusal

PASSWORD = "correct horse battery"
API_KEY, API_SECRET, PASSPHRASE = "AKIAkey-0123456789-WXYZ", "s3cr3t-value-never-shown-4711", "pass-phrase-99"


@pytest.fixture
def users(runtime: Runtime) -> dict[str, int]:
    made = {name: add_user(runtime, name, PASSWORD, Role(role)) for name, role in _ROLES.items()}
    return {name: view.id for name, view in made.items()}


_ROLES = {"alice": "trader", "bob": "trader", "ana": "analyst", "root": "admin"}


def live(runtime: Runtime, user_id: int, name: str = "Binance main", passphrase: str = "") -> acc.AccountView:
    return acc.add_live(runtime, user_id, name, "binance", API_KEY, API_SECRET, passphrase)


def binance_recorded(routes: list[tuple[str, str | None, Any]], seen: list[Any]) -> Any:
    """A `prepare` hook: the fixture's markets and options, and answers from `routes` (no network)."""

    def prepare(client: ccxt.Exchange) -> None:
        client.set_markets(fixture_markets("binance"))
        client.extend_exchange_options(fixture("binance").get("options") or {})
        seen.append(client)
        Router(client, routes)

    return prepare


# --- opening accounts ---


def test_a_paper_account_is_opened_with_decimal_funds_and_listed(runtime: Runtime, users: dict) -> None:
    made = acc.open_paper(runtime, users["alice"], " Paper 1 ", "demo", "usdt", "12,500.50", margin=True)
    assert (made.name, made.kind, made.exchange, made.live_enabled) == ("Paper 1", AccountKind.PAPER, "demo", False)
    assert made.details == "12,500.50 USDT · margin"
    with runtime.sessions() as session:
        paper = session.scalar(select(PaperAccount).where(PaperAccount.owner_user_id == users["alice"]))
        assert paper is not None
        assert paper.margin is True
    assert [a.name for a in acc.list_accounts(runtime, users["alice"])] == ["Paper 1"]
    assert acc.list_accounts(runtime, users["bob"]) == []


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": ""}, "name", "1 to 64"),
        ({"exchange": "binance"}, "exchange", "configured exchanges"),
        ({"quote": "U$"}, "quote", "quote currency"),
        ({"balance": "lots"}, "balance", "must be a number"),
        ({"balance": "-1"}, "balance", "zero or more"),
        ({"balance": "NaN"}, "balance", "zero or more"),
    ],
)
def test_paper_account_input_is_validated(
    runtime: Runtime, users: dict, kwargs: dict, field: str, message: str
) -> None:
    args = {"name": "P", "exchange": "demo", "quote": "USDT", "balance": "100", **kwargs}
    with pytest.raises(acc.SettingsError, match=message) as info:
        acc.open_paper(runtime, users["alice"], **args)
    assert info.value.field == field


def test_account_names_are_unique_per_user(runtime: Runtime, users: dict) -> None:
    acc.open_paper(runtime, users["alice"], "Main", "demo")
    with pytest.raises(acc.SettingsError, match="already have an account named 'Main'"):
        live(runtime, users["alice"], "Main")
    assert acc.open_paper(runtime, users["bob"], "Main", "demo").name == "Main"  # another user's name


def test_analysts_cannot_have_accounts(runtime: Runtime, users: dict) -> None:
    with pytest.raises(acc.SettingsError, match="only traders and admins"):
        acc.open_paper(runtime, users["ana"], "P", "demo")
    with pytest.raises(acc.SettingsError, match="only traders and admins"):
        live(runtime, users["ana"])
    assert live(runtime, users["root"]).kind is AccountKind.LIVE


def test_a_live_account_needs_a_ccxt_exchange_a_key_and_a_secret(runtime: Runtime, users: dict) -> None:
    with pytest.raises(acc.SettingsError, match="ccxt has no exchange 'nope'") as info:
        acc.add_live(runtime, users["alice"], "X", "nope", API_KEY, API_SECRET)
    assert info.value.field == "exchange"
    with pytest.raises(acc.SettingsError, match="API key") as info:
        acc.add_live(runtime, users["alice"], "X", "okx", " ", API_SECRET)
    with pytest.raises(acc.SettingsError, match="API secret"):
        acc.add_live(runtime, users["alice"], "X", "okx", API_KEY, None)
    assert acc.add_live(runtime, users["alice"], "X", "OKX", API_KEY, API_SECRET, PASSPHRASE).exchange == "okx"


# --- credentials at rest ---


def test_credentials_are_encrypted_at_rest_and_never_shown(runtime: Runtime, users: dict) -> None:
    made = live(runtime, users["alice"], passphrase=PASSPHRASE)
    assert made.live_enabled is False  # off until switched on
    assert made.credentials == "key ••••WXYZ"
    shown = repr(made) + repr(acc.list_accounts(runtime, users["alice"]))
    for plain in (API_SECRET, PASSPHRASE, API_KEY):
        assert plain not in shown
    # The raw row, read past the ORM: only Fernet tokens, none holding the plain text.
    with runtime.db.connect() as conn:
        row = conn.execute(text("SELECT * FROM exchange_accounts WHERE id = :id"), {"id": made.id}).mappings().one()
    dump = " ".join(str(v) for v in row.values())
    for plain in (API_KEY, API_SECRET, PASSPHRASE):
        assert plain not in dump
    box = acc.secret_box(runtime)
    assert box.decrypt(row["api_key_enc"]) == API_KEY
    assert box.decrypt(row["secret_enc"]) == API_SECRET
    assert box.decrypt(row["password_enc"]) == PASSPHRASE
    assert row["secret_enc"].startswith("gAAAAA")  # a Fernet token


def test_a_short_key_is_only_said_to_be_stored(runtime: Runtime, users: dict) -> None:
    made = acc.add_live(runtime, users["alice"], "Short", "binance", "k123", API_SECRET)
    assert made.credentials == "stored"


# --- connection test (ccxt's binance class, recorded HTTP answers) ---


def test_the_connection_test_reads_the_recorded_balance(runtime: Runtime, users: dict) -> None:
    made = live(runtime, users["alice"])
    entry = fixture_entries("binance", "fetchBalance")[0]  # spot balance
    seen: list[Any] = []
    prepare = binance_recorded([("/api/v3/account", "GET", entry["httpResponse"])], seen)
    result = acc.check_connection(runtime, users["alice"], made.id, prepare)
    held = sorted(c for c, t in entry["parsedResponse"]["total"].items() if t)
    assert result.ok, result.message
    assert result.message.startswith(f"Connected to binance: {len(held)} currencies held: {held[0]}")
    # The venue was built from the decrypted credentials, with live trading still off.
    client = seen[0]
    assert (client.apiKey, client.secret) == (API_KEY, API_SECRET)
    assert acc.list_accounts(runtime, users["alice"])[0].live_enabled is False


def test_the_connection_test_surfaces_an_authentication_error_without_the_secret(
    runtime: Runtime, users: dict, caplog: pytest.LogCaptureFixture
) -> None:
    made = live(runtime, users["alice"])
    refusal = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
    seen: list[Any] = []

    def prepare(client: ccxt.Exchange) -> None:
        binance_recorded([("/api/v3/account", "GET", venue_refusal(client, 401, refusal))], seen)(client)

    caplog.set_level("DEBUG")
    result = acc.check_connection(runtime, users["alice"], made.id, prepare)
    assert not result.ok
    assert "Invalid API-key, IP, or permissions for action." in result.message
    assert "AuthenticationError" in result.message
    for text_ in (result.message, caplog.text):
        assert API_SECRET not in text_
        assert API_KEY not in text_
        assert "signature" not in text_


def test_the_connection_test_of_an_unreadable_secret_says_so(runtime: Runtime, users: dict) -> None:
    made = live(runtime, users["alice"])
    with runtime.sessions.begin() as session:
        session.get(ExchangeAccount, made.id).secret_enc = "gAAAAAgarbage"
    result = acc.check_connection(runtime, users["alice"], made.id, lambda client: None)
    assert not result.ok
    assert "cannot be decrypted" in result.message


# --- live switch and removal ---


def test_live_trading_is_switched_on_and_off_only_for_live_accounts(runtime: Runtime, users: dict) -> None:
    made = live(runtime, users["alice"])
    paper = acc.open_paper(runtime, users["alice"], "Paper", "demo")
    assert acc.set_live_enabled(runtime, users["alice"], made.id, True).live_enabled is True
    assert acc.set_live_enabled(runtime, users["alice"], made.id, False).live_enabled is False
    with pytest.raises(acc.SettingsError, match="no live switch"):
        acc.set_live_enabled(runtime, users["alice"], paper.id, True)


def _block(runtime: Runtime, user_id: int, account_id: int, status: BlockStatus) -> int:
    with runtime.sessions.begin() as session:
        block = Block(
            user_id=user_id,
            account_id=account_id,
            symbol="BTC/USDT",
            side=Side.LONG,
            entry_type=EntryType.MARKET,
            stop_price=Decimal(90),
            size_mode=SizeMode.BASE,
            size_value=Decimal(1),
            total_amount=Decimal(1),
            risk=Decimal(10),
            protection_mode=ProtectionMode.STOP_RESTS,
            status=status,
        )
        session.add(block)
        session.flush()
        return block.id


def test_an_account_is_deleted_if_unused_disabled_if_its_blocks_are_done_refused_if_live(
    runtime: Runtime, users: dict
) -> None:
    me = users["alice"]
    unused = acc.open_paper(runtime, me, "Unused", "demo")
    assert acc.remove_account(runtime, me, unused.id) == "deleted"
    with runtime.sessions() as session:
        assert session.get(ExchangeAccount, unused.id) is None
        assert session.scalar(select(PaperAccount).where(PaperAccount.name == "Unused")) is None

    busy = live(runtime, me, "Busy")
    acc.set_live_enabled(runtime, me, busy.id, True)
    block = _block(runtime, me, busy.id, BlockStatus.ACTIVE)
    assert acc.list_accounts(runtime, me)[0].live_blocks == 1
    with pytest.raises(acc.SettingsError, match="pending or active blocks"):
        acc.remove_account(runtime, me, busy.id)
    with runtime.sessions.begin() as session:
        session.get(Block, block).status = BlockStatus.CLOSED
    assert acc.remove_account(runtime, me, busy.id) == "disabled"
    (view,) = acc.list_accounts(runtime, me)
    assert (view.disabled, view.live_enabled) == (True, False)
    with pytest.raises(acc.SettingsError, match="disabled"):
        acc.set_live_enabled(runtime, me, busy.id, True)


# --- scoping ---


def test_nobody_reaches_another_users_account(runtime: Runtime, users: dict) -> None:
    theirs = live(runtime, users["alice"])
    for call in (
        lambda: acc.set_live_enabled(runtime, users["bob"], theirs.id, True),
        lambda: acc.remove_account(runtime, users["bob"], theirs.id),
        lambda: acc.check_connection(runtime, users["bob"], theirs.id, lambda client: None),
        lambda: acc.set_live_enabled(runtime, users["root"], theirs.id, True),  # admins too
    ):
        with pytest.raises(acc.AccountAccessError, match="is not one of yours"):
            call()
    assert acc.list_accounts(runtime, users["bob"]) == []
    (still,) = acc.list_accounts(runtime, users["alice"])
    assert (still.live_enabled, still.disabled) == (False, False)


# --- timezone and password ---


def test_the_timezone_is_validated_and_stored(runtime: Runtime, users: dict) -> None:
    assert "Europe/Zurich" in acc.timezones()
    assert acc.set_timezone(runtime, users["ana"], "Europe/Zurich") == "Europe/Zurich"
    with runtime.sessions() as session:
        assert session.get(User, users["ana"]).timezone == "Europe/Zurich"
    for bad in ("Mars/Olympus", "", None, "../etc/passwd"):
        with pytest.raises(acc.SettingsError, match="unknown timezone") as info:
            acc.set_timezone(runtime, users["ana"], bad)
        assert info.value.field == "timezone"


@pytest.mark.parametrize(
    ("current", "new", "repeat", "field", "message"),
    [
        ("wrong password", "a brand new one", "a brand new one", "current", "not your current password"),
        (PASSWORD, "short", "short", "new", "at least 10 characters"),
        (PASSWORD, PASSWORD, PASSWORD, "new", "is the current one"),
        (PASSWORD, "a brand new one", "a brand new 1", "repeat", "differ"),
        (None, None, None, "current", "not your current password"),
    ],
)
def test_a_password_change_is_refused_with_the_field_at_fault(
    runtime: Runtime, users: dict, current: str | None, new: str | None, repeat: str | None, field: str, message: str
) -> None:
    with pytest.raises(acc.PasswordError, match=message) as info:
        acc.change_password(runtime, users["ana"], current, new, repeat)
    assert info.value.field == field
    assert check_login(runtime, "ana", PASSWORD) is not None


def test_a_changed_password_is_hashed_with_scrypt_and_signs_in(runtime: Runtime, users: dict) -> None:
    acc.change_password(runtime, users["ana"], PASSWORD, "a brand new one", "a brand new one")
    with runtime.sessions() as session:
        stored = session.get(User, users["ana"]).password_hash
    assert stored.startswith("scrypt:")
    assert check_password_hash(stored, "a brand new one")
    assert check_login(runtime, "ana", "a brand new one") is not None
    assert check_login(runtime, "ana", PASSWORD) is None


def test_switching_live_trading_off_or_disabling_drops_the_engines_venue(runtime: Runtime, users: dict) -> None:
    from engine.exchanges.venues import VenueNotReadyError, install_venue, venue_for

    runtime.reset_trading()
    made = live(runtime, users["alice"])
    acc.set_live_enabled(runtime, users["alice"], made.id, True)
    stand_in = object()
    install_venue(runtime, made.id, stand_in)  # type: ignore[arg-type]

    def row() -> ExchangeAccount:
        with runtime.sessions() as session:
            return session.get(ExchangeAccount, made.id)

    assert venue_for(runtime, row()) is stand_in
    acc.set_live_enabled(runtime, users["alice"], made.id, False)
    with pytest.raises(VenueNotReadyError, match="switched off"):
        venue_for(runtime, row())
    assert not [key for key in runtime.trading.venues if key[0] == made.id]
    runtime.reset_trading()

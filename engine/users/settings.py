"""The settings page's engine: a user's exchange accounts, timezone and password.

Every function takes the signed-in user's id and touches only that user's rows: an account id
that is someone else's is refused exactly like one that does not exist (AccountAccessError).
Callers get `AccountView`s, plain values that never carry a credential: API keys, secrets and
passphrases are encrypted at rest (engine.common.secrets, Fernet) on the way in and only decrypted to
build a venue. Adding and changing accounts is for traders and admins; analysts read charts.
"""

from __future__ import annotations

import logging
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.enums import LIVE_BLOCKS, AccountKind, Role
from db.models import Block, ExchangeAccount, PaperAccount, PaperBalance, User
from engine.common.precision import format_balance
from engine.common.secrets import SecretBox, SecretError, box_for
from engine.exchanges.api import ExchangeError, VenueError, VenueNotReadyError, live_venue
from engine.runtime import Runtime
from engine.users.accounts import AccountAccessError, get_account, open_paper_account
from engine.users.passwords import check_password, hash_password, password_problem

log = logging.getLogger(__name__)

NAME_MAX = 64
_CURRENCY = re.compile(r"^[A-Z0-9]{2,16}$")
_KEY_SHOWN = 4
_DOT = "\u2022"

__all__ = ["AccountAccessError", "AccountView", "ConnectionResult", "PasswordError", "SettingsError"]


class SettingsError(ValueError):
    """A change the settings page cannot make; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PasswordError(SettingsError):
    """A refused password change (field: "current", "new" or "repeat")."""


@dataclass(frozen=True)
class AccountView:
    id: int
    name: str
    kind: AccountKind
    exchange: str
    live_enabled: bool
    disabled: bool
    credentials: str  # what may be shown of them: "key ••••1234", "stored", or ""
    details: str  # paper: starting funds and margin; live: market type
    live_blocks: int


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str


def secret_box(runtime: Runtime) -> SecretBox:
    """The box credentials are encrypted with (engine.exchanges.venues decrypts with the same)."""
    return box_for(runtime.settings.encryption_keys, runtime.settings.secret_key)


@cache
def timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def live_exchanges() -> tuple[str, ...]:
    """Every exchange ccxt knows (a live account may be on any of them)."""
    import ccxt  # heavy: only when a live account is looked at

    return tuple(ccxt.exchanges)


def paper_exchanges(runtime: Runtime) -> tuple[str, ...]:
    """Exchanges whose prices a paper account may trade on: the configured ones."""
    return runtime.settings.exchanges


# --- reading ---


def list_accounts(runtime: Runtime, user_id: int) -> list[AccountView]:
    with runtime.sessions() as session:
        accounts = session.scalars(
            select(ExchangeAccount).where(ExchangeAccount.user_id == user_id).order_by(ExchangeAccount.id)
        ).all()
        live = _live_block_counts(session, [a.id for a in accounts])
        return [_view(runtime, session, a, live.get(a.id, 0)) for a in accounts]


def _live_block_counts(session: Session, account_ids: list[int]) -> dict[int, int]:
    if not account_ids:
        return {}
    query = (
        select(Block.account_id, func.count())
        .where(Block.account_id.in_(account_ids), Block.status.in_(LIVE_BLOCKS))
        .group_by(Block.account_id)
    )
    return {account_id: int(n) for account_id, n in session.execute(query)}


def _view(runtime: Runtime, session: Session, account: ExchangeAccount, live_blocks: int) -> AccountView:
    if account.kind is not AccountKind.LIVE:  # paper, or a replay's own simulated account
        credentials, details = "", _paper_details(session, account)
    else:
        credentials, details = _credential_hint(runtime, account), "spot"
    return AccountView(
        account.id,
        account.name,
        account.kind,
        account.exchange,
        bool(account.live_enabled),
        bool(account.disabled),
        credentials,
        details,
        live_blocks,
    )


def _paper_details(session: Session, account: ExchangeAccount) -> str:
    paper = session.get(PaperAccount, account.paper_account_id) if account.paper_account_id else None
    if paper is None:
        return ""
    balances = session.scalars(select(PaperBalance).where(PaperBalance.account_id == paper.id)).all()
    funds = ", ".join(format_balance(b.free + b.used, b.currency) for b in balances if b.free + b.used)
    return f"{funds or 'no funds'}{' · margin' if paper.margin else ''}"


def _credential_hint(runtime: Runtime, account: ExchangeAccount) -> str:
    """The last characters of the API key at most; never anything of the secret or passphrase."""
    if not account.api_key_enc:
        return ""
    try:
        key = secret_box(runtime).decrypt(account.api_key_enc)
    except SecretError:
        return "stored (unreadable: encryption key changed)"
    if len(key) <= 2 * _KEY_SHOWN:
        return "stored"
    return f"key {_DOT * 4}{key[-_KEY_SHOWN:]}"


# --- changing accounts ---


def _trader(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active or Role(user.role) not in (Role.ADMIN, Role.TRADER):
        raise SettingsError("only traders and admins have exchange accounts")
    return user


def _name(session: Session, user_id: int, name: str | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise SettingsError(f"an account name is 1 to {NAME_MAX} characters", "name")
    taken = session.scalar(
        select(ExchangeAccount.id).where(ExchangeAccount.user_id == user_id, ExchangeAccount.name == name)
    )
    if taken is not None:
        raise SettingsError(f"you already have an account named {name!r}", "name")
    return name


def _balance(raw: Decimal | str | None) -> Decimal:
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw or "").strip().replace(",", ""))
    except InvalidOperation:
        raise SettingsError("the starting balance must be a number, e.g. 10000", "balance") from None
    if not value.is_finite() or value < 0:
        raise SettingsError("the starting balance must be zero or more", "balance")
    return value


def open_paper(
    runtime: Runtime,
    user_id: int,
    name: str | None,
    exchange: str | None,
    quote: str | None = "USDT",
    balance: Decimal | str | None = "10000",
    margin: bool = False,
) -> AccountView:
    """A paper account on a configured exchange's prices, funded with `balance` of `quote`."""
    quote = (quote or "").strip().upper()
    with runtime.sessions() as session:
        _trader(session, user_id)
        name = _name(session, user_id, name)
    if exchange not in paper_exchanges(runtime):
        raise SettingsError(f"pick one of the configured exchanges: {', '.join(paper_exchanges(runtime))}", "exchange")
    if not _CURRENCY.match(quote):
        raise SettingsError("the quote currency is 2 to 16 letters or digits, e.g. USDT", "quote")
    amount = _balance(balance)
    try:
        account = open_paper_account(runtime.sessions, user_id, name, exchange, quote, amount, bool(margin))
    except IntegrityError:  # the same name, created by a request running at the same time
        raise SettingsError(f"you already have an account named {name!r}", "name") from None
    log.info("user %s opened paper account %s on %s", user_id, account.id, exchange)
    return _one(runtime, user_id, account.id)


def add_live(
    runtime: Runtime,
    user_id: int,
    name: str | None,
    exchange: str | None,
    api_key: str | None,
    secret: str | None,
    passphrase: str | None = None,
) -> AccountView:
    """A live account on any ccxt exchange, its credentials encrypted; live trading stays off."""
    exchange = (exchange or "").strip().lower()
    if exchange not in live_exchanges():
        raise SettingsError(f"ccxt has no exchange {exchange!r}", "exchange")
    api_key, secret, passphrase = ((v or "").strip() for v in (api_key, secret, passphrase))
    if not api_key:
        raise SettingsError("the API key is needed", "api_key")
    if not secret:
        raise SettingsError("the API secret is needed", "secret")
    box = secret_box(runtime)
    with runtime.sessions.begin() as session:
        _trader(session, user_id)
        account = ExchangeAccount(
            user_id=user_id,
            name=_name(session, user_id, name),
            kind=AccountKind.LIVE,
            exchange=exchange,
            live_enabled=False,
            api_key_enc=box.encrypt(api_key),
            secret_enc=box.encrypt(secret),
            password_enc=box.encrypt(passphrase) if passphrase else None,
        )
        session.add(account)
        session.flush()
        account_id = account.id
    log.info("user %s added live account %s on %s", user_id, account_id, exchange)  # no credential here
    return _one(runtime, user_id, account_id)


def _one(runtime: Runtime, user_id: int, account_id: int) -> AccountView:
    return next(a for a in list_accounts(runtime, user_id) if a.id == account_id)


def set_live_enabled(runtime: Runtime, user_id: int, account_id: int, enabled: bool) -> AccountView:
    """Switch live trading on or off for one of the user's live accounts (the page asks first)."""
    with runtime.sessions.begin() as session:
        _trader(session, user_id)
        account = get_account(session, user_id, account_id)
        if enabled:
            if account.kind is not AccountKind.LIVE:
                raise SettingsError("paper accounts trade on simulated funds: there is no live switch")
            if account.disabled:
                raise SettingsError(f"{account.name} is disabled")
            if not (account.api_key_enc and account.secret_enc):
                raise SettingsError(f"{account.name} has no stored API key and secret")
        account.live_enabled = bool(enabled)
    log.warning("user %s switched live trading %s for account %s", user_id, "on" if enabled else "off", account_id)
    return _one(runtime, user_id, account_id)


def remove_account(runtime: Runtime, user_id: int, account_id: int) -> str:
    """Delete an account that never traded, or disable one whose blocks are all finished (their
    history stays). Refused while a block is pending or active on it. Returns "deleted" or "disabled"."""
    with runtime.sessions.begin() as session:
        _trader(session, user_id)
        account = get_account(session, user_id, account_id)
        if _live_block_counts(session, [account_id]):
            raise SettingsError(f"{account.name} has pending or active blocks: close or cancel them first")
        has_blocks = session.scalar(select(func.count()).where(Block.account_id == account_id))
        if not has_blocks:
            try:
                with session.begin_nested():
                    paper_id = account.paper_account_id
                    session.delete(account)
                    session.flush()
                    if paper_id is not None:
                        session.delete(session.get(PaperAccount, paper_id))
                        session.flush()
                return "deleted"
            except IntegrityError:  # some other record still points at it: retire it instead
                account = get_account(session, user_id, account_id)
        account.disabled = True
        account.live_enabled = False
        return "disabled"


def check_connection(
    runtime: Runtime, user_id: int, account_id: int, prepare: Callable[[Any], None] | None = None
) -> ConnectionResult:
    """Build the account's live venue and ask it for the balance (with live trading on or off).

    The message is what the exchange (through ccxt) said, credentials and signed queries masked.
    `prepare` gets the ccxt client before the call (tests feed it recorded HTTP answers)."""
    with runtime.sessions() as session:
        _trader(session, user_id)
        account = get_account(session, user_id, account_id)
        if account.kind is not AccountKind.LIVE:
            return ConnectionResult(True, f"{account.name} is a paper account: nothing to connect to")
        session.expunge(account)
    try:
        venue = live_venue(runtime, account, require_enabled=False)
        venue.retry_attempts, venue.retry_wait = 2, 0.5  # type: ignore[attr-defined]  # a person is waiting
        if prepare is not None:
            prepare(venue.client)  # type: ignore[attr-defined]
        balances = venue.fetch_balance()
    except VenueNotReadyError as exc:
        return ConnectionResult(False, str(exc))
    except (VenueError, ExchangeError) as exc:
        return ConnectionResult(False, f"{account.exchange} refused: {exc}")
    held = sorted(c for c, b in balances.items() if b.total)
    listed = ", ".join(held[:5]) + (" …" if len(held) > 5 else "")
    return ConnectionResult(
        True, f"Connected to {account.exchange}: {len(held)} currencies held{listed and ': '}{listed}"
    )


# --- timezone and password ---


def set_timezone(runtime: Runtime, user_id: int, timezone: str | None) -> str:
    timezone = (timezone or "").strip()
    if timezone not in timezones():
        raise SettingsError(f"unknown timezone {timezone!r}", "timezone")
    with runtime.sessions.begin() as session:
        user = session.get(User, user_id)
        if user is None:
            raise SettingsError("no such user")
        user.timezone = timezone
    return timezone


def change_password(runtime: Runtime, user_id: int, current: str | None, new: str | None, repeat: str | None) -> int:
    """Replace the password after checking the current one; PasswordError names the field at fault.

    Ends every web session the user has open (their session version goes up); returns the new
    version, which the session that made the change is re-stamped with so that it stays open."""
    current, new, repeat = current or "", new or "", repeat or ""
    with runtime.sessions.begin() as session:
        user = session.get(User, user_id)
        if user is None:
            raise PasswordError("no such user", "current")
        if not check_password(user.password_hash, current):
            raise PasswordError("That is not your current password.", "current")
        problem = password_problem(new)
        if problem:
            raise PasswordError(problem, "new")
        if new == current:
            raise PasswordError("The new password is the current one.", "new")
        if repeat != new:
            raise PasswordError("The two new passwords differ.", "repeat")
        user.password_hash = hash_password(new)
        user.session_version = (user.session_version or 0) + 1
        version = user.session_version
    log.info("user %s changed their password; their other sessions are ended", user_id)
    return version

"""Exchange accounts of a user: opening a paper account (the simulated venue's account and the
exchange_accounts row, in one transaction), listing them, fetching one only for its owner, and
the default paper account a trader gets when they have none.

Replay accounts (AccountKind.REPLAY: a replay's or backtest's own, engine/replay) are listed with
the others but offered for trading only when asked for (the chart's replay mode): a block placed
from the form goes to a live or paper account."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.enums import AccountKind
from db.models import ExchangeAccount, PaperAccount, PaperBalance
from engine.runtime import Runtime


class AccountAccessError(PermissionError):
    """The account does not exist or belongs to someone else (the message does not say which)."""

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        super().__init__(f"exchange account {account_id} is not one of yours")


def open_paper_account(
    sessions: sessionmaker[Session],
    user_id: int,
    name: str,
    exchange: str = "demo",
    quote: str = "USDT",
    balance: Decimal = Decimal("10000"),
    margin: bool = False,
) -> ExchangeAccount:
    """A paper account trading on `exchange`'s prices, funded with `balance` of `quote`.

    `margin=True` simulates a margin account: sells may take the base balance below zero (shorts)."""
    with sessions.begin() as session:
        return add_paper_account(session, user_id, name, exchange, quote, balance, margin)


def add_paper_account(
    session: Session,
    user_id: int,
    name: str,
    exchange: str,
    quote: str,
    balance: Decimal,
    margin: bool,
    kind: AccountKind = AccountKind.PAPER,
) -> ExchangeAccount:
    """open_paper_account inside the caller's transaction; `kind` REPLAY for a run's own account."""
    if not isinstance(balance, Decimal) or not balance.is_finite() or balance < 0:
        raise ValueError(f"starting balance must be a non-negative Decimal, got {balance!r}")
    paper = PaperAccount(owner_user_id=user_id, name=name, margin=margin)
    session.add(paper)
    session.flush()
    session.add(PaperBalance(account_id=paper.id, currency=quote, free=balance, used=Decimal(0)))
    account = ExchangeAccount(user_id=user_id, name=name, kind=kind, exchange=exchange, paper_account_id=paper.id)
    session.add(account)
    session.flush()
    return account


DEFAULT_PAPER_NAME = "Paper"
DEFAULT_PAPER_BALANCE = Decimal("10000")


def ensure_default_paper_account(
    sessions: sessionmaker[Session], user_id: int, exchange: str = "demo"
) -> ExchangeAccount:
    """The user's first account; a user without any gets a paper account on `exchange` funded with
    10,000 USDT, so the trade-block form always has an account to trade on."""
    with sessions() as session:
        existing = _tradable(user_accounts(session, user_id))
    if existing:
        return existing[0]
    try:
        return open_paper_account(sessions, user_id, DEFAULT_PAPER_NAME, exchange, "USDT", DEFAULT_PAPER_BALANCE)
    except IntegrityError:  # two requests of the same user raced: (user_id, name) is unique
        with sessions() as session:
            return _tradable(user_accounts(session, user_id))[0]


def _tradable(accounts: list[ExchangeAccount]) -> list[ExchangeAccount]:
    # A replay account is no account of the user's own trading: they still get a paper one.
    return [a for a in accounts if a.kind is not AccountKind.REPLAY]


def user_accounts(session: Session, user_id: int) -> list[ExchangeAccount]:
    query = select(ExchangeAccount).where(ExchangeAccount.user_id == user_id).order_by(ExchangeAccount.id)
    return list(session.scalars(query))


def get_account(session: Session, user_id: int, account_id: int) -> ExchangeAccount:
    """The account, if `user_id` owns it; AccountAccessError otherwise."""
    account = session.get(ExchangeAccount, account_id)
    if account is None or account.user_id != user_id:
        raise AccountAccessError(account_id)
    return account


def is_margin(session: Session, account: ExchangeAccount) -> bool:
    """Whether the account may short: a margin paper account, as every replay account is (live
    accounts: by the market)."""
    if account.kind is AccountKind.LIVE or account.paper_account_id is None:
        return False
    paper = session.get(PaperAccount, account.paper_account_id)
    return bool(paper and paper.margin)


@dataclass(frozen=True)
class AccountChoice:
    id: int
    name: str
    exchange: str
    kind: AccountKind

    disabled: bool = False

    @property
    def replay(self) -> bool:
        return self.kind is AccountKind.REPLAY

    @property
    def label(self) -> str:
        """ "Paper · demo · paper"; a replay account says so, and nothing else: "Backtest #3 · replay"."""
        if self.replay:
            return f"{self.name} · replay"
        return f"{self.name} · {self.exchange} · {self.kind.value}" + (" · disabled" if self.disabled else "")


def account_choices(
    runtime: Runtime,
    user_id: int,
    create_default: bool = True,
    include_replay: bool = False,
    include_disabled: bool = False,
) -> list[AccountChoice]:
    """The user's accounts that can trade: live and paper, replay ones too with `include_replay`
    (the chart's replay mode), retired ones too with `include_disabled` (pickers of history, as the
    calendar's); a user with none first gets the default paper account on the first configured
    exchange."""
    if create_default:
        ensure_default_paper_account(runtime.sessions, user_id, runtime.settings.exchanges[0])
    with runtime.sessions() as session:
        accounts = user_accounts(session, user_id)
    return [
        AccountChoice(a.id, a.name, a.exchange, a.kind, bool(a.disabled))
        for a in accounts
        if (include_disabled or not a.disabled)  # retired accounts keep their history but take no new block
        and (include_replay or a.kind is not AccountKind.REPLAY)
    ]

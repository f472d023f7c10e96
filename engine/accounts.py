"""Exchange accounts of a user: opening a paper account (the simulated venue's account and the
exchange_accounts row, in one transaction), listing them, and fetching one only for its owner."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import AccountKind
from db.models import ExchangeAccount, PaperAccount, PaperBalance


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
    if not isinstance(balance, Decimal) or not balance.is_finite() or balance < 0:
        raise ValueError(f"starting balance must be a non-negative Decimal, got {balance!r}")
    with sessions.begin() as session:
        paper = PaperAccount(owner_user_id=user_id, name=name, margin=margin)
        session.add(paper)
        session.flush()
        session.add(PaperBalance(account_id=paper.id, currency=quote, free=balance, used=Decimal(0)))
        account = ExchangeAccount(
            user_id=user_id, name=name, kind=AccountKind.PAPER, exchange=exchange, paper_account_id=paper.id
        )
        session.add(account)
        session.flush()
        return account


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
    """Whether the account may short: a margin paper account (live accounts: by the market)."""
    if account.kind is not AccountKind.PAPER or account.paper_account_id is None:
        return False
    paper = session.get(PaperAccount, account.paper_account_id)
    return bool(paper and paper.margin)

"""The account pickers (engine.users.accounts.account_choices): replay accounts are not offered for
trading unless asked for, are labelled as replays, and do not count as the user's own account when
the default paper account is made; retired accounts only where history is picked."""

from __future__ import annotations

from db.enums import AccountKind
from db.models import ExchangeAccount
from engine.runtime import Runtime
from engine.users.api import account_choices, is_margin, open_paper_account
from tests.helpers.portfolio import add_replay_account
from tests.helpers.trading import add_user


def test_replay_accounts_are_offered_only_when_asked_for(runtime: Runtime) -> None:
    uid = add_user(runtime.sessions, "alice")
    paper = open_paper_account(runtime.sessions, uid, "Paper").id
    replay = add_replay_account(runtime.sessions, uid, "Backtest #3")
    assert [c.id for c in account_choices(runtime, uid)] == [paper]
    offered = account_choices(runtime, uid, include_replay=True)
    assert [(c.id, c.replay, c.label) for c in offered] == [
        (paper, False, "Paper · demo · paper"),
        (replay, True, "Backtest #3 · replay"),
    ]


def test_a_user_with_only_a_replay_account_still_gets_a_paper_account(runtime: Runtime) -> None:
    uid = add_user(runtime.sessions, "alice")
    add_replay_account(runtime.sessions, uid)
    (choice,) = account_choices(runtime, uid)
    assert (choice.kind, choice.name) == (AccountKind.PAPER, "Paper")


def test_retired_accounts_are_listed_only_for_history(runtime: Runtime) -> None:
    uid = add_user(runtime.sessions, "alice")
    old = open_paper_account(runtime.sessions, uid, "Old").id
    with runtime.sessions.begin() as s:
        s.get(ExchangeAccount, old).disabled = True
    assert account_choices(runtime, uid, create_default=False) == []
    (listed,) = account_choices(runtime, uid, create_default=False, include_disabled=True)
    assert listed.label == "Old · demo · paper · disabled"


def test_a_replay_account_may_short_like_its_margin_paper_account(runtime: Runtime) -> None:
    uid = add_user(runtime.sessions, "alice")
    replay = add_replay_account(runtime.sessions, uid)
    spot = open_paper_account(runtime.sessions, uid, "Spot").id
    with runtime.sessions() as s:
        assert is_margin(s, s.get(ExchangeAccount, replay)) is True
        assert is_margin(s, s.get(ExchangeAccount, spot)) is False

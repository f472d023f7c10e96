"""Fixtures of the push tests (test_push.py, test_push_tickers.py): live binance desks on their
simulators and streams, every hub and stream stopped at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from engine.exchanges.api import stop_push
from engine.market.api import sync_markets
from engine.runtime import Runtime
from tests.helpers.push_desk import Desk, live_desk


@pytest.fixture
def desks(runtime: Runtime) -> Iterator[Callable[..., Desk]]:
    """`desks(user, oco=True)`: a new user's live desk (the venue told it has OCO lists or not)."""
    runtime.reset_trading()
    made: list[Desk] = []

    def make(user: str, oco: bool = True) -> Desk:
        desk = live_desk(runtime, user, oco=oco)
        if not made:
            sync_markets(runtime.sessions, runtime.sources["binance"])
        made.append(desk)
        return desk

    yield make
    stop_push(runtime)
    runtime.push_options.clear()
    for desk in made:
        desk.stop()

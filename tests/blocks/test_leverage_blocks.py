"""A leveraged block on the demo perpetual, end to end on the paper exchange: its margin (not its
notional) is what the free balance must cover, its settings are stored with it and go to the venue
with its entries only (never with a stop or a target), and a refusal writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from db.enums import MarginMode, OrderRole
from engine.blocks.commands import preview_block, submit_block
from engine.blocks.plan import BlockRejected
from engine.blocks.sync import sync_tick
from engine.exchanges.api import OrderRequest, VenueOrder, install_venue, venue_for
from engine.runtime import Runtime
from engine.users.accounts import get_account
from tests.helpers.trading import D, PathFeed, block_of, counts, orders_of, request, setup

PERP = "BTC/USDT:USDT"


class Recording:
    """The account's paper venue, keeping every order request it is sent."""

    def __init__(self, venue: Any) -> None:
        self.venue = venue
        self.requests: list[OrderRequest] = []

    def create_order(self, req: OrderRequest) -> VenueOrder:
        self.requests.append(req)
        return self.venue.create_order(req)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.venue, name)


def _desk(runtime: Runtime, feed: PathFeed, margin: bool = True) -> tuple[int, int, Recording]:
    feed.flat("30000", 2)
    user, account = setup(runtime, feed, balance="1000", margin=margin)
    with runtime.sessions() as s:
        row = get_account(s, user, account)
        venue = Recording(venue_for(runtime, row, "swap"))
    install_venue(runtime, account, venue)
    return user, account, venue


def _perp(**options: object):
    return request(entry="30000", stop="29000", targets=("31000", "32000"), size="0.1", symbol=PERP, **options)


@pytest.mark.parametrize("margin", [True, False], ids=["margin-account", "spot-account"])
def test_a_leveraged_block_is_covered_by_its_margin_and_sends_its_settings_with_its_entries(
    runtime: Runtime, feed: PathFeed, margin: bool
) -> None:
    user, account, venue = _desk(runtime, feed, margin)
    with pytest.raises(BlockRejected) as refused:  # 3,000 USDT of notional at 1x, 1,000 free
        submit_block(runtime, user, account, _perp())
    assert refused.value.errors[0].message == "This block needs 3,000.00 USDT, but only 1,000.00 USDT is free."
    assert counts(runtime.sessions) == (0, 0, 0, 0)

    shown = preview_block(runtime, user, account, _perp(leverage=5))
    # 30,000 x (1 - 1/5) / (1 - 0.005), the default row's maintenance rate, rounded up to the tick
    assert (shown.margin, shown.liquidation_price, shown.errors) == (D(600), D("24120.7"), ())
    block_id = submit_block(runtime, user, account, _perp(leverage=5))
    assert (block_of(runtime.sessions, block_id).leverage, block_of(runtime.sessions, block_id).margin_mode) == (
        5,
        MarginMode.ISOLATED,
    )
    entries = [r for r in venue.requests if r.client_order_id.endswith("-entry-1")]
    assert len(entries) == 2
    assert {(r.leverage, r.margin_mode) for r in entries} == {(5, MarginMode.ISOLATED)}

    feed.bar("30000", "30010", "29990", "30000")  # the entries fill; stops and targets follow
    sync_tick(runtime)
    roles = {o.client_order_id: o.role for o in orders_of(runtime.sessions, block_id)}
    exits = [r for r in venue.requests if roles.get(r.client_order_id) is not OrderRole.ENTRY]
    assert exits, "the filled entries are protected"
    assert {(r.leverage, r.margin_mode) for r in exits} == {(None, None)}


def test_a_stop_beyond_liquidation_is_refused_at_the_stop_and_writes_nothing(runtime: Runtime, feed: PathFeed) -> None:
    user, account, venue = _desk(runtime, feed)
    with pytest.raises(BlockRejected) as refused:
        submit_block(runtime, user, account, _perp(leverage=50))
    (error,) = refused.value.errors
    assert error.field == "stop_price"
    assert "liquidation price ≈ 29,547.8 at 50x isolated" in error.message  # 30,000 x 0.98 / 0.995
    assert counts(runtime.sessions) == (0, 0, 0, 0)
    assert venue.requests == []


def test_leverage_on_a_spot_market_is_refused_at_its_field(runtime: Runtime, feed: PathFeed) -> None:
    user, account, venue = _desk(runtime, feed)
    req = request(entry="30000", stop="29000", targets=("31000",), size="0.01", symbol="BTC/USDT", leverage=3)
    with pytest.raises(BlockRejected) as refused:
        submit_block(runtime, user, account, req)
    assert [e.field for e in refused.value.errors] == ["leverage"]
    assert venue.requests == []

"""engine.exchanges.venues: a live account gets one ccxt venue per market type (a block on a swap
market trades through a swap venue, its balance and orders on the contract API), built from the
stored credentials and cached per (account, market type); a paper account has one venue for all."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.enums import BlockStatus, EntryType, ProtectionMode, Role, Side, SizeMode
from db.models import Block, ExchangeAccount, Market
from engine.blocks.sync import AccountSync, SyncReport
from engine.exchanges.api import VenueError, feed_for, protection_mode, venue_for
from engine.exchanges.ccxt_feed import CcxtExchange
from engine.exchanges.ccxt_venue import CcxtTradingVenue
from engine.runtime import Runtime
from engine.users import settings as acc
from engine.users.directory import add_user
from tests.helpers.ccxt_replay import fixture_markets
from tests.helpers.ccxt_trading import Router

KEY, SECRET = "fake-binance-api-key-not-real-0002", "fake-binance-secret-not-real-0002"


@pytest.fixture
def live_account(runtime: Runtime) -> ExchangeAccount:
    runtime.reset_trading()
    user = add_user(runtime, "vera", "a long enough password", Role.TRADER)
    made = acc.add_live(runtime, user.id, "Binance", "binance", KEY, SECRET)
    acc.set_live_enabled(runtime, user.id, made.id, True)
    with runtime.sessions() as session:
        account = session.get(ExchangeAccount, made.id)
        session.expunge(account)
    return account


def test_a_live_account_gets_a_venue_of_each_market_type_cached_apart(
    runtime: Runtime, live_account: ExchangeAccount
) -> None:
    spot, swap = venue_for(runtime, live_account, "spot"), venue_for(runtime, live_account, "swap")
    assert isinstance(spot, CcxtTradingVenue)
    assert isinstance(swap, CcxtTradingVenue)
    assert (spot.market_type, swap.market_type) == ("spot", "swap")
    assert (spot.balance_params, swap.balance_params) == ({}, {"type": "swap"})
    assert protection_mode(swap.capabilities, "swap") is ProtectionMode.REDUCE_ONLY
    assert venue_for(runtime, live_account, "swap") is swap
    assert venue_for(runtime, live_account) is spot  # spot by default (balances, the connection test)
    runtime.reset_trading()


def test_the_swap_venue_asks_the_contract_api_for_its_balance(runtime: Runtime, live_account: ExchangeAccount) -> None:
    swap = venue_for(runtime, live_account, "swap")
    assert isinstance(swap, CcxtTradingVenue)
    swap.client.set_markets(fixture_markets("binance"))
    swap.retry_wait = 0
    router = Router(swap.client, [("/", None, {})])
    with contextlib.suppress(VenueError):  # the empty answer is hardly a balance; the request is what counts
        swap.fetch_balance()
    paths = [r.url for r in router.requests]
    assert paths
    assert all("fapi" in url for url in paths), paths
    runtime.reset_trading()


def test_the_sync_of_an_account_with_a_swap_block_drives_it_through_the_swap_venue(
    runtime: Runtime, live_account: ExchangeAccount
) -> None:
    with runtime.sessions.begin() as session:
        session.add(Market(exchange="binance", symbol="BTC/USDT:USDT", base="BTC", quote="USDT", type="swap"))
        session.add(
            Block(
                user_id=live_account.user_id,
                account_id=live_account.id,
                symbol="BTC/USDT:USDT",
                side=Side.LONG,
                entry_type=EntryType.MARKET,
                stop_price=Decimal(90),
                size_mode=SizeMode.BASE,
                size_value=Decimal(1),
                total_amount=Decimal(1),
                risk=Decimal(10),
                protection_mode=ProtectionMode.REDUCE_ONLY,
                status=BlockStatus.PENDING,
            )
        )
    sync = AccountSync(runtime, runtime.trading, live_account, 0, SyncReport())
    assert isinstance(sync.venue, CcxtTradingVenue)
    assert sync.venue.market_type == "swap"
    with runtime.sessions() as session:
        assert session.scalar(select(Block.status)) is BlockStatus.PENDING
    runtime.reset_trading()


def test_a_paper_account_has_one_venue_for_every_market_type(runtime: Runtime) -> None:
    from tests.helpers.trading import PathFeed, setup

    _user, account_id = setup(runtime, PathFeed("101"))
    with runtime.sessions() as session:
        account = session.get(ExchangeAccount, account_id)
    assert venue_for(runtime, account, "swap") is venue_for(runtime, account, "spot")


def test_a_live_alpaca_account_prices_on_a_source_holding_its_own_keys(runtime: Runtime) -> None:
    # Alpaca's stock snapshots are a private endpoint: the shared keyless source could not read them.
    user = add_user(runtime, "wes", "a long enough password", Role.TRADER)
    made = acc.add_live(runtime, user.id, "Alpaca", "alpaca", "fake-alpaca-key-0003", "fake-alpaca-secret-0003")
    with runtime.sessions() as session:
        account = session.get(ExchangeAccount, made.id)
        assert account is not None
        session.expunge(account)
    feed = feed_for(runtime, account)
    assert isinstance(feed, CcxtExchange)
    assert (feed.client.apiKey, feed.client.secret) == ("fake-alpaca-key-0003", "fake-alpaca-secret-0003")
    assert feed_for(runtime, account) is feed  # built once
    assert runtime.sources.get("alpaca") is not feed  # the exchange's shared source holds no keys

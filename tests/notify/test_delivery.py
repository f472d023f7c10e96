"""Notifications end to end: a block on the paper venue fills its entries, a target and a stop, and
each event reaches a Telegram-format endpoint through apprise's own Telegram plugin (pointed at a
local HTTP server, tests.helpers.notify_endpoint); refused and failed orders are told once; the
outbox survives a restart between the state change and its delivery and is delivered once; a dead
service is retried with backoff, then given up, and never stops the sync tick; a booking that fails
costs the engine nothing but that notification."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.enums import TradeStatus
from db.models import NotificationOutbox, utcnow
from db.session import make_session_factory
from engine.blocks.commands import submit_block
from engine.blocks.executor import MAX_ATTEMPTS as SEND_ATTEMPTS
from engine.blocks.sync import sync_tick
from engine.exchanges.api import InvalidOrder, OrderRequest, VenueOrder, VenueUnavailable
from engine.exchanges.venues import install_venue
from engine.notify import api as notify
from engine.runtime import Runtime
from tests.helpers.notify_endpoint import BOT_TOKEN, CHAT_ID, TELEGRAM_URL, Endpoint, running_endpoint, telegram_here
from tests.helpers.trading import ManualVenue, PathFeed, request, setup, trades_of

BARS_TO_TARGETS = [("101", "101", "99.5", "100.5"), ("100.5", "105.5", "100.5", "105.2")]
BARS_TO_STOP = [("101", "101", "99.5", "100.5"), ("100.5", "101", "100", "100.8"), ("93", "94", "92", "93.5")]


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    with running_endpoint() as endpoint:
        telegram_here(monkeypatch, endpoint)
        yield endpoint


def outbox(runtime: Runtime) -> list[NotificationOutbox]:
    with runtime.sessions() as s:
        return list(s.scalars(select(NotificationOutbox).order_by(NotificationOutbox.id)))


def kinds(runtime: Runtime) -> Counter[str]:
    return Counter(row.kind for row in outbox(runtime))


def titles(endpoint: Endpoint) -> Counter[str]:
    """The first words of each Telegram text ("Entry filled", "Block done", ...)."""
    return Counter(text.removeprefix("<b>").split(":")[0] for text in endpoint.texts())


def play(runtime: Runtime, feed: PathFeed, bars: list[tuple[str, str, str, str]]) -> None:
    for bar in bars:
        feed.bar(*bar)
        sync_tick(runtime)


def test_entries_a_target_and_the_finish_reach_telegram(runtime: Runtime, feed: PathFeed, telegram: Endpoint) -> None:
    user, account = setup(runtime, feed)
    notify.save_url(runtime, user, TELEGRAM_URL)
    submit_block(runtime, user, account, request(targets=("105",), size="2"))
    play(runtime, feed, BARS_TO_TARGETS)
    assert kinds(runtime) == {notify.ENTRY_FILLED: 1, notify.TARGET_FILLED: 1, notify.BLOCK_DONE: 1}
    assert telegram.requests == []  # the tick only books: delivery is the notify job's
    report = notify.deliver_due(runtime)
    assert (report.sent, report.retried, report.failed) == (3, 0, 0)
    assert {path for path, _body in telegram.requests} == {f"/bot{BOT_TOKEN}/sendMessage"}
    assert {str(body["chat_id"]) for _path, body in telegram.requests} == {CHAT_ID}
    assert titles(telegram) == {"Entry filled": 1, "Target filled": 1, "Block done": 1}
    texts = "\n".join(telegram.texts())
    assert "bought 2.000 at 100.00 (200.00 USDT)" in texts
    assert "sold 2.000 at 105.20 (210.40 USDT)" in texts
    assert "1 trade, realized P&L +9.99 USDT." in texts
    assert BOT_TOKEN not in texts
    assert {row.status for row in outbox(runtime)} == {"sent"}
    assert notify.deliver_due(runtime).sent == 0  # sent once


def test_a_stop_fill_reaches_telegram(runtime: Runtime, feed: PathFeed, telegram: Endpoint) -> None:
    user, account = setup(runtime, feed)
    notify.save_url(runtime, user, TELEGRAM_URL)
    submit_block(runtime, user, account, request())
    play(runtime, feed, BARS_TO_STOP)
    notify.deliver_due(runtime)
    assert titles(telegram) == {"Entry filled": 2, "Stop filled": 2, "Block done": 1}
    done = next(text for text in telegram.texts() if "Block done" in text)
    assert "2 trades, realized P&L -" in done


def test_users_without_a_url_get_no_rows(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    submit_block(runtime, user, account, request())
    play(runtime, feed, BARS_TO_STOP)
    assert outbox(runtime) == []


class RefusingVenue(ManualVenue):
    def create_order(self, req: OrderRequest) -> VenueOrder:
        self._check("create_order")
        raise InvalidOrder("binance POST https://api.binance.com/api/v3/order?signature=deadbeef -1013 price filter")


def test_a_refused_order_is_told_once_without_the_signed_url(
    runtime: Runtime, feed: PathFeed, telegram: Endpoint
) -> None:
    user, account = setup(runtime, feed)
    install_venue(runtime, account, RefusingVenue())
    notify.save_url(runtime, user, TELEGRAM_URL)
    submit_block(runtime, user, account, request(targets=("110",)))
    sync_tick(runtime)
    notify.deliver_due(runtime)
    assert titles(telegram) == {"Order refused": 1}
    (text,) = telegram.texts()
    assert "price filter" in text
    assert "deadbeef" not in text


class UnreachableVenue(ManualVenue):
    def create_order(self, req: OrderRequest) -> VenueOrder:
        self._check("create_order")
        raise VenueUnavailable("venue down")


def test_an_order_the_venue_never_takes_is_told_once(runtime: Runtime, feed: PathFeed, telegram: Endpoint) -> None:
    user, account = setup(runtime, feed)
    venue = UnreachableVenue()
    install_venue(runtime, account, venue)
    notify.save_url(runtime, user, TELEGRAM_URL)
    submit_block(runtime, user, account, request(targets=("110",)))
    for _ in range(40):  # the executor's backoff: attempts 2..8 within these ticks
        sync_tick(runtime)
    assert venue.calls["create_order"] > SEND_ATTEMPTS
    notify.deliver_due(runtime)
    assert titles(telegram) == {"Order not placed": 1}
    assert f"after {SEND_ATTEMPTS} attempts" in telegram.texts()[0]


def test_a_restart_between_the_fill_and_the_delivery_delivers_once(
    runtime: Runtime, feed: PathFeed, telegram: Endpoint
) -> None:
    user, account = setup(runtime, feed)
    notify.save_url(runtime, user, TELEGRAM_URL)
    submit_block(runtime, user, account, request(targets=("105",), size="2"))
    play(runtime, feed, BARS_TO_TARGETS[:1])  # the entry fills; the process dies before the notify job
    restarted = Runtime(runtime.settings, runtime.db, make_session_factory(runtime.db), dict(runtime.sources))
    assert notify.deliver_due(restarted).sent == 1
    assert notify.deliver_due(restarted).sent == 0
    assert titles(telegram) == {"Entry filled": 1}


def test_a_dead_service_is_retried_with_backoff_then_given_up(
    runtime: Runtime, feed: PathFeed, telegram: Endpoint
) -> None:
    user, account = setup(runtime, feed)
    notify.save_url(runtime, user, TELEGRAM_URL)
    submit_block(runtime, user, account, request(targets=("105",), size="2"))
    telegram.status = 500
    play(runtime, feed, BARS_TO_TARGETS[:1])
    now = utcnow()
    assert notify.deliver_due(runtime, now).retried == 1
    assert notify.deliver_due(runtime, now + timedelta(seconds=5)).retried == 0  # not due yet
    sync_tick(runtime)  # trading goes on while the service is down
    (row,) = outbox(runtime)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error
    assert BOT_TOKEN not in row.last_error
    moment = now
    for attempt in range(2, notify.DELIVERY_ATTEMPTS + 1):
        moment += notify.backoff(attempt - 1)
        notify.deliver_due(runtime, moment)
    (row,) = outbox(runtime)
    assert (row.status, row.attempts) == ("failed", notify.DELIVERY_ATTEMPTS)
    assert len(telegram.requests) == notify.DELIVERY_ATTEMPTS
    assert notify.backoff(1) == timedelta(seconds=15)
    assert notify.backoff(20) == timedelta(hours=1)


def test_a_booking_failure_never_costs_the_engine_its_fill(
    runtime: Runtime, feed: PathFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, account = setup(runtime, feed)
    notify.save_url(runtime, user, TELEGRAM_URL)

    def broken(*_args: object) -> bool:
        raise RuntimeError("outbox broken")

    monkeypatch.setattr(notify, "book", broken)
    block_id = submit_block(runtime, user, account, request(targets=("105",), size="2"))
    play(runtime, feed, BARS_TO_TARGETS[:1])
    (trade,) = trades_of(runtime.sessions, block_id)
    assert trade.status is TradeStatus.OPEN
    assert outbox(runtime) == []


def test_an_entry_canceled_part_filled_is_told_as_a_fill(runtime: Runtime, feed: PathFeed, telegram: Endpoint) -> None:
    user, account = setup(runtime, feed)
    venue = ManualVenue()
    install_venue(runtime, account, venue)
    notify.save_url(runtime, user, TELEGRAM_URL)
    block_id = submit_block(runtime, user, account, request(targets=("110",), entry_timeout_s=120))
    venue.fill(f"tb{block_id}-0-entry-1", Decimal("0.3"), Decimal("100"))
    sync_tick(runtime)
    assert outbox(runtime) == []  # a partial fill is not told: the entry may fill further
    feed.flat("101", 2)
    sync_tick(runtime)  # the entry times out with 0.3 filled
    notify.deliver_due(runtime)
    assert titles(telegram) == {"Entry filled": 1}
    assert "bought 0.300 at 100.00 (30.00 USDT)" in telegram.texts()[0]

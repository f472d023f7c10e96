"""A TradingView alert through engine.webhooks.receive on the paper exchange: it places one block
shaped by the template, however often it is retried; forged, stale, flooding, foreign-address and
malformed calls are refused with a clear answer and logged for the hook's owner (never the secret);
a block the engine refuses is logged with why and writes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from db.enums import Role
from db.models import Block, NotificationOutbox, Trade, User, WebhookCall
from engine.notify.api import save_url
from engine.runtime import Runtime
from engine.users.accounts import open_paper_account
from engine.webhooks import receive as receive_module
from engine.webhooks.api import recent_calls, rotate_secret
from tests.helpers.trading import PathFeed, add_user, counts, orders_of, setup
from tests.helpers.webhooks import Hook, alert, make_hook, post

D = Decimal


@pytest.fixture
def hook(runtime: Runtime, feed: PathFeed) -> Hook:
    user_id, account_id = setup(runtime, feed)
    return make_hook(runtime, user_id, account_id)


def blocks_of(runtime: Runtime, user_id: int) -> list[Block]:
    with runtime.sessions() as s:
        return list(s.scalars(select(Block).where(Block.user_id == user_id)))


def test_an_alert_places_a_block_shaped_by_the_template(runtime: Runtime, feed: PathFeed, hook: Hook) -> None:
    done = post(runtime, hook, alert(hook.secret, feed.now), feed.now)
    assert done.status == 201, done.body
    (block,) = blocks_of(runtime, hook.user_id)
    assert done.body == {"status": "accepted", "block_id": block.id}
    assert (block.symbol, block.side.value, block.stop_price) == ("SOL/USDT", "long", D(96))
    with runtime.sessions() as s:
        targets = sorted(s.scalars(select(Trade.target_price).where(Trade.block_id == block.id)))
    assert targets == [D(106), D(111)]
    entries = [o for o in orders_of(runtime.sessions, block.id) if o.role.value == "entry"]
    assert entries
    assert all(o.status.value in ("accepted", "filled") for o in entries)
    (call,) = recent_calls(runtime, hook.user_id)
    assert (call.accepted, call.block_id, call.remote_ip) == (True, block.id, "52.89.214.238")


def test_the_side_comes_from_the_alerts_action(runtime: Runtime, feed: PathFeed) -> None:
    user_id, account_id = setup(runtime, feed, margin=True)
    hook = make_hook(runtime, user_id, account_id)
    done = post(runtime, hook, alert(hook.secret, feed.now, action="sell", close="101"), feed.now)
    assert done.status == 201, done.body
    (block,) = blocks_of(runtime, hook.user_id)
    assert (block.side.value, block.stop_price) == ("short", D(106))
    missing = post(runtime, hook, alert(hook.secret, feed.now, action=None, id="x"), feed.now)
    assert missing.status == 422
    assert "action" in missing.body["error"]


def test_a_retried_alert_places_one_block(runtime: Runtime, feed: PathFeed, hook: Hook) -> None:
    body = alert(hook.secret, feed.now)
    first = post(runtime, hook, body, feed.now)
    again = post(runtime, hook, body, feed.now + 5_000)
    assert first.status == 201
    assert again.status == 200
    assert again.body == {"status": "duplicate", "block_id": first.body["block_id"]}
    assert len(blocks_of(runtime, hook.user_id)) == 1
    logged = recent_calls(runtime, hook.user_id)
    assert [c.accepted for c in logged] == [False, True]
    assert "Already received" in logged[0].reason


def test_the_alerts_own_id_makes_it_the_same_alert(runtime: Runtime, feed: PathFeed, hook: Hook) -> None:
    one = post(runtime, hook, alert(hook.secret, feed.now, id="long-1", close="101"), feed.now)
    other_body = post(runtime, hook, alert(hook.secret, feed.now, id="long-1", close="101.5"), feed.now)
    assert (one.status, other_body.status) == (201, 200)
    assert len(blocks_of(runtime, hook.user_id)) == 1


def test_forgeries_are_refused(runtime: Runtime, feed: PathFeed, hook: Hook) -> None:
    wrong = post(runtime, hook, alert("not-the-secret", feed.now), feed.now)
    no_secret = post(runtime, hook, alert(None, feed.now), feed.now)
    unknown = post(
        runtime, Hook(hook.user_id, hook.account_id, "nosuchhook", hook.secret), alert(hook.secret, feed.now), feed.now
    )
    assert (wrong.status, no_secret.status, unknown.status) == (401, 401, 401)
    assert wrong.body == unknown.body  # an unknown hook and a wrong secret look the same
    # Another user's hook, with this user's secret.
    rival = add_user(runtime.sessions, "mallory")
    rival_account = open_paper_account(runtime.sessions, rival, "rival").id
    theirs = make_hook(runtime, rival, rival_account)
    crossed = post(
        runtime, Hook(rival, rival_account, theirs.hook_id, hook.secret), alert(hook.secret, feed.now), feed.now
    )
    assert crossed.status == 401
    assert counts(runtime.sessions)[0] == 0
    logged = recent_calls(runtime, hook.user_id)
    assert [c.reason for c in logged] == ["Unknown webhook or wrong secret."] * 2  # the unknown hook is nobody's
    assert recent_calls(runtime, rival)[0].reason == "Unknown webhook or wrong secret."


def test_a_rotated_secret_stops_the_old_one(runtime: Runtime, feed: PathFeed, hook: Hook) -> None:
    fresh = rotate_secret(runtime, hook.user_id)
    assert fresh.hook_id == hook.hook_id  # the URL stays
    assert post(runtime, hook, alert(hook.secret, feed.now), feed.now).status == 401
    assert post(runtime, hook, alert(fresh.secret, feed.now), feed.now).status == 201


def test_stale_and_timeless_alerts_are_refused(runtime: Runtime, feed: PathFeed, hook: Hook) -> None:
    stale = post(runtime, hook, alert(hook.secret, feed.now - 600_000), feed.now)
    future = post(runtime, hook, alert(hook.secret, feed.now + 600_000), feed.now)
    timeless = post(runtime, hook, alert(hook.secret, feed.now, time=None, timenow=None), feed.now)
    assert (stale.status, future.status, timeless.status) == (422, 422, 422)
    assert stale.body["error"] == "Stale alert: sent 600 s ago, the window is 120 s."
    assert "timenow" in timeless.body["error"]
    assert counts(runtime.sessions)[0] == 0
    assert len(recent_calls(runtime, hook.user_id)) == 3


def test_calls_beyond_the_rate_are_refused(runtime: Runtime, feed: PathFeed) -> None:
    user_id, account_id = setup(runtime, feed)
    hook = make_hook(runtime, user_id, account_id, rate_per_min="2")
    answers = [post(runtime, hook, alert(hook.secret, feed.now, id=f"a{i}"), feed.now).status for i in range(4)]
    assert answers == [201, 201, 429, 429]
    later = feed.now + 61_000
    assert post(runtime, hook, alert(hook.secret, later, id="a9"), later).status == 201
    assert len(blocks_of(runtime, user_id)) == 3


def test_the_ip_allow_list(runtime: Runtime, feed: PathFeed) -> None:
    user_id, account_id = setup(runtime, feed)
    hook = make_hook(runtime, user_id, account_id, allowed_ips="tradingview 10.1.0.0/16")
    refused = post(runtime, hook, alert(hook.secret, feed.now, id="1"), feed.now, ip="203.0.113.9")
    assert refused.status == 403
    assert refused.body["error"] == "The address 203.0.113.9 is not on this webhook's allow-list."
    assert post(runtime, hook, alert(hook.secret, feed.now, id="2"), feed.now, ip="10.1.2.3").status == 201
    assert post(runtime, hook, alert(hook.secret, feed.now, id="3"), feed.now, ip="34.212.75.30").status == 201


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "not valid JSON"),
        (b'["a list"]', "must be a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
        (b"x" * 20_000, "over 16384 bytes"),
    ],
)
def test_malformed_alerts_get_a_clear_400(runtime: Runtime, feed: PathFeed, hook: Hook, body: bytes, says: str) -> None:
    done = post(runtime, hook, body, feed.now)
    assert done.status == 400
    assert says in done.body["error"]
    assert counts(runtime.sessions)[0] == 0


def test_a_refused_block_is_logged_with_why_and_writes_nothing(runtime: Runtime, feed: PathFeed) -> None:
    user_id, account_id = setup(runtime, feed)
    save_url(runtime, user_id, "json://127.0.0.1:9/")  # the owner is told of a refused alert
    hook = make_hook(runtime, user_id, account_id, price_mode="price", targets=[], shares=[])
    bad_stop = alert(hook.secret, feed.now, stop="120", targets=["130"])  # a long's stop above its entry
    done = post(runtime, hook, bad_stop, feed.now)
    assert done.status == 422
    assert done.body["error"].startswith("Refused: ")
    assert "stop" in done.body["error"].lower()
    assert counts(runtime.sessions) == (0, 0, 0, 0)
    (call,) = recent_calls(runtime, user_id)
    assert (call.accepted, call.block_id, call.reason) == (False, None, done.body["error"])
    with runtime.sessions() as s:
        told = s.execute(select(NotificationOutbox.kind, NotificationOutbox.body)).all()
    assert told == [("webhook_refused", done.body["error"])]
    post(runtime, hook, alert("not-the-secret", feed.now), feed.now)  # a forgery is only logged
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(NotificationOutbox)) == 1
    good = post(runtime, hook, alert(hook.secret, feed.now, stop="95", targets=["110"]), feed.now)
    assert good.status == 201, good.body


def test_the_audit_log_never_holds_the_secret(runtime: Runtime, feed: PathFeed, hook: Hook) -> None:
    for body in (alert(hook.secret, feed.now), alert(hook.secret + "x", feed.now), b"{" + hook.secret.encode()):
        post(runtime, hook, body, feed.now)
    with runtime.sessions() as s:
        stored = [(c.reason, c.remote_ip, c.alert_key or "") for c in s.scalars(select(WebhookCall))]
    assert stored
    assert all(hook.secret not in part for row in stored for part in row)


def test_a_user_who_no_longer_trades_places_nothing(runtime: Runtime, feed: PathFeed, hook: Hook) -> None:
    with runtime.sessions.begin() as s:
        s.get(User, hook.user_id).role = Role.ANALYST  # type: ignore[union-attr]
    done = post(runtime, hook, alert(hook.secret, feed.now), feed.now)
    assert done.status == 403
    assert counts(runtime.sessions)[0] == 0


def test_two_copies_racing_past_the_check_place_one_block(
    runtime: Runtime, feed: PathFeed, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = alert(hook.secret, feed.now)
    first = post(runtime, hook, body, feed.now)
    real = receive_module._accepted_block
    calls: list[int] = []

    def missed_once(s: Any, webhook_id: int, key: str) -> int | None:
        calls.append(1)
        return None if len(calls) == 1 else real(s, webhook_id, key)  # the copy checked before the first committed

    monkeypatch.setattr(receive_module, "_accepted_block", missed_once)
    second = post(runtime, hook, body, feed.now)
    assert second.status == 200
    assert second.body == {"status": "duplicate", "block_id": first.body["block_id"]}
    assert len(blocks_of(runtime, hook.user_id)) == 1  # the unique key rolled the second block back
    assert counts(runtime.sessions)[0] == 1

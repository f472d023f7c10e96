"""Each user's notification URL: apprise checks it (a bad one is refused, nothing saved), it is stored
encrypted with the credentials' box (re-encrypted by a key rotation) and never logged, each user has
one; the test message goes to a local endpoint (json:// and Telegram), and a failing service says
why without the URL's secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from db.models import NotificationChannel, NotificationOutbox
from engine.common.secrets import SecretBox, new_key
from engine.notify import api as notify
from engine.runtime import Runtime
from tests.helpers.notify_endpoint import BOT_TOKEN, TELEGRAM_URL, Endpoint, running_endpoint, telegram_here
from tests.helpers.trading import add_user


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    with running_endpoint() as running:
        telegram_here(monkeypatch, running)
        yield running


def stored(runtime: Runtime) -> list[NotificationChannel]:
    with runtime.sessions() as s:
        return list(s.scalars(select(NotificationChannel)))


@pytest.mark.parametrize("url", ["", "   ", "hello", "nosuchservice://x/y", "tgram://not-a-token", "mailto://"])
def test_a_url_apprise_refuses_is_refused(runtime: Runtime, url: str) -> None:
    user = add_user(runtime.sessions)
    with pytest.raises(notify.NotifyError):
        notify.save_url(runtime, user, url)
    assert stored(runtime) == []


def test_the_url_is_encrypted_at_rest_and_never_logged(runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    user = add_user(runtime.sessions)
    view = notify.save_url(runtime, user, f"  {TELEGRAM_URL}  ")
    assert view.scheme == "tgram"
    (row,) = stored(runtime)
    assert BOT_TOKEN not in row.url_enc
    assert BOT_TOKEN.split(":")[1] not in caplog.text
    notify.save_url(runtime, user, "json://127.0.0.1:9/hook")  # replaces: one URL per user
    (row,) = stored(runtime)
    assert row.scheme == "json"


def test_users_do_not_share_urls(runtime: Runtime) -> None:
    alice, bob = add_user(runtime.sessions, "alice"), add_user(runtime.sessions, "bob")
    notify.save_url(runtime, alice, TELEGRAM_URL)
    assert notify.channel_of(runtime, bob) is None
    assert notify.remove_url(runtime, bob) is False
    assert notify.channel_of(runtime, alice) is not None


def test_removing_the_url_drops_what_was_still_to_send(runtime: Runtime) -> None:
    user = add_user(runtime.sessions)
    notify.save_url(runtime, user, TELEGRAM_URL)
    with runtime.sessions.begin() as s:
        assert notify.notify(s, user, notify.PRICE_ALERT, "Price alert: SOL/USDT", "SOL/USDT crossed 100.00.")
    assert notify.remove_url(runtime, user) is True
    with runtime.sessions() as s:
        assert list(s.scalars(select(NotificationOutbox))) == []
        assert notify.notify(s, user, notify.PRICE_ALERT, "t", "b") is False  # no URL: nothing booked


def test_a_test_message_reaches_telegram(runtime: Runtime, endpoint: Endpoint) -> None:
    user = add_user(runtime.sessions)
    notify.save_url(runtime, user, TELEGRAM_URL)
    assert notify.send_test(runtime, user) == notify.SendResult(True, "")
    ((path, body),) = endpoint.requests
    assert path == f"/bot{BOT_TOKEN}/sendMessage"
    assert "Tradeblock test" in body["text"]


def test_a_test_message_reaches_a_json_webhook(runtime: Runtime, endpoint: Endpoint) -> None:
    user = add_user(runtime.sessions)
    notify.save_url(runtime, user, f"json://127.0.0.1:{endpoint.port}/hook")
    assert notify.send_test(runtime, user).ok
    ((path, body),) = endpoint.requests
    assert (path, body["title"]) == ("/hook", "Tradeblock test")


def test_a_failing_service_says_why_without_the_secret(runtime: Runtime, endpoint: Endpoint) -> None:
    user = add_user(runtime.sessions)
    notify.save_url(runtime, user, TELEGRAM_URL)
    endpoint.status = 500
    result = notify.send_test(runtime, user)
    assert not result.ok
    assert result.detail
    assert BOT_TOKEN.split(":")[1] not in result.detail


def test_a_key_rotation_re_encrypts_the_urls(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = new_key(), new_key()
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, encryption_keys=(old,)))
    user = add_user(runtime.sessions)
    notify.save_url(runtime, user, TELEGRAM_URL)
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, encryption_keys=(new, old)))
    assert notify.rotate_urls(runtime) == (1, 0)
    assert notify.rotate_urls(runtime) == (0, 0)  # again: nothing to do
    (row,) = stored(runtime)
    assert SecretBox([new]).decrypt(row.url_enc) == TELEGRAM_URL

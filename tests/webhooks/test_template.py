"""The webhook's template: each wrong field gets its own message (the block's rules are parse_block's,
so its messages show at the template's fields); offsets become prices on the right side of the
close; ATR multiples use the stored candles' average true range."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from db.models import Block
from engine.market.api import ingest_candles
from engine.runtime import Runtime
from engine.webhooks.api import TRADINGVIEW_IPS, Template, check_template, save_template
from engine.webhooks.template import block_fields
from tests.helpers.candles import new_series
from tests.helpers.trading import PathFeed, setup
from tests.helpers.webhooks import TEMPLATE, alert, make_hook, post

D = Decimal
HOUR = 3_600_000


def test_every_wrong_field_has_its_message() -> None:
    wrong = {
        "account_id": "x",
        "side": "up",
        "price_mode": "atr",
        "stop": "-2",
        "targets": "3, abc",
        "shares": "150, 20",
        "size_mode": "lots",
        "size_value": "",
        "rate_per_min": "0",
        "max_age_s": "5",
        "allowed_ips": "tradingview bogus",
        "entry_timeout_min": "1.5",
    }
    errors = check_template(wrong)
    assert isinstance(errors, dict)
    assert set(errors) >= {
        "account_id", "side", "stop", "targets", "shares", "size_mode", "size_value",
        "rate_per_min", "max_age_s", "allowed_ips", "entry_timeout_min",
    }  # fmt: skip
    assert errors["stop"] == '"-2" is not a positive number.'
    assert errors["targets"] == '"abc" is not a positive number.'
    assert errors["shares"] == "Target 1 share must be at most 100%."  # parse_block's own message
    assert errors["size_mode"].startswith("Size mode must be one of")  # parse_block's own message


def test_the_tradingview_word_stands_for_its_published_addresses() -> None:
    checked = check_template({**TEMPLATE, "account_id": "1", "allowed_ips": "tradingview, 10.0.0.0/8"})
    assert isinstance(checked, Template)
    assert checked.allowed_ips == (*TRADINGVIEW_IPS, "10.0.0.0/8")


def test_offsets_land_on_each_sides_own_side() -> None:
    t = check_template({**TEMPLATE, "account_id": "1", "entry_type": "limit", "entry": "2", "stop": "3"})
    assert isinstance(t, Template)
    long = block_fields(t, {"close": "100"}, "long", "SOL/USDT", "demo", None, D("0.01"))
    short = block_fields(t, {"close": "100"}, "short", "SOL/USDT", "demo", None, D("0.01"))
    assert (long["entry_price"], long["stop_price"], long["target_prices"]) == ("98.00", "95.00", ["103.00", "108.00"])
    assert (short["entry_price"], short["stop_price"], short["target_prices"]) == (
        "102.00",
        "105.00",
        ["97.00", "92.00"],
    )


def test_a_template_for_another_users_account_is_refused(runtime: Runtime, feed: PathFeed) -> None:
    user_id, _account = setup(runtime, feed)
    _rival, theirs = setup(runtime, feed, user="mallory")
    make_hook(runtime, user_id, _account)
    assert save_template(runtime, user_id, {**TEMPLATE, "account_id": theirs}) == {
        "account_id": "Pick one of your accounts."
    }


def test_atr_multiples_use_the_stored_candles(runtime: Runtime, feed: PathFeed) -> None:
    user_id, account_id = setup(runtime, feed)
    hook = make_hook(
        runtime, user_id, account_id, price_mode="atr", stop="1.5", targets=["2"], atr_timeframe="1h", atr_period="3"
    )
    now = feed.now
    missing = post(runtime, hook, alert(hook.secret, now, id="early"), now)
    assert missing.status == 422
    assert "The ATR needs 4 stored 1h candles of SOL/USDT" in missing.body["error"]
    series = new_series(runtime, "SOL/USDT", "1h")
    start = (now // HOUR - 6) * HOUR
    rows = [(start + i * HOUR, 100.0, 102.0, 98.0, 100.0, 1.0) for i in range(6)]  # true range 4 each hour
    with runtime.db.begin() as conn:
        ingest_candles(conn, series, "1h", rows)
    done = post(runtime, hook, alert(hook.secret, now, id="late"), now)
    assert done.status == 201, done.body
    with runtime.sessions() as s:
        block = s.scalar(select(Block).where(Block.id == done.body["block_id"]))
    assert block is not None
    assert block.stop_price == D(95)  # 101 - 1.5 x ATR 4

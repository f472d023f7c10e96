"""The words of notifications: amounts and prices at the market's ticks, money in cents, a venue's
error text without signed URLs or token-like runs, unknown kinds refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.notify import api as notify

D = Decimal
SOL = notify.BlockFacts(7, "SOL/USDT", "long", price_tick=D("0.01"), amount_tick=D("0.001"))


def test_an_entry_fill_reads_at_the_markets_ticks() -> None:
    message = notify.order_filled(SOL, "entry", 0, "buy", D("1.5"), D("100.004"))
    assert message.kind == notify.ENTRY_FILLED
    assert message.title == "Entry filled: SOL/USDT #7"
    assert message.body == "SOL/USDT long block #7, trade 1: bought 1.500 at 100.00 (150.01 USDT)."


@pytest.mark.parametrize(
    ("role", "kind", "word"),
    [("tp", notify.TARGET_FILLED, "Target"), ("sl", notify.STOP_FILLED, "Stop"), ("exit", notify.EXIT_FILLED, "Exit")],
)
def test_exits_are_named_for_the_trader(role: str, kind: str, word: str) -> None:
    message = notify.order_filled(SOL, role, 1, "sell", D("12345.6789"), D("1234.5"))
    assert message.kind == kind
    assert message.title.startswith(f"{word} filled")
    assert "trade 2: sold 12,345.678 at 1,234.50 (15,240,740.60 USDT)" in message.body


def test_without_ticks_numbers_read_exactly_with_separators() -> None:
    bare = notify.BlockFacts(3, "BTC/USDT:USDT", "short")
    message = notify.order_filled(bare, "entry", 0, "sell", D("0.0100"), D("65000.10"))
    assert "sold 0.01 at 65,000.1 (650.00 USDT)" in message.body


def test_block_done_tells_the_pnl_in_cents() -> None:
    assert notify.block_done(SOL, 2, D("7.919")).body.endswith("2 trades, realized P&L +7.92 USDT.")
    assert notify.block_done(SOL, 1, D("-5.004")).body.endswith("1 trade, realized P&L -5.00 USDT.")


def test_block_done_counts_perpetual_funding_and_says_it() -> None:
    paid = notify.block_done(SOL, 1, D("10"), funding=D("-0.124"))
    assert paid.body.endswith("1 trade, realized P&L +9.88 USDT (funding paid: 0.12 USDT).")
    received = notify.block_done(SOL, 1, D("-1"), funding=D("1.5"))
    assert received.body.endswith("realized P&L +0.50 USDT (funding received: 1.50 USDT).")


def test_a_refusal_never_carries_a_signed_url_or_a_token() -> None:
    reason = (
        "binance POST https://api.binance.com/api/v3/order?symbol=SOLUSDT&timestamp=1&signature=abc123 400 "
        '{"code":-2010,"msg":"Account has insufficient balance"} key=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'
    )
    body = notify.order_refused(SOL, "tp", reason).body
    assert "signature" not in body
    assert "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789" not in body
    assert "the venue refused the target order" in body
    assert "insufficient balance" in body


def test_a_failed_order_says_how_often_it_was_tried() -> None:
    body = notify.order_failed(SOL, "sl", 5, "exchange unavailable").body
    assert body == "SOL/USDT long block #7: the stop order is still not placed after 5 attempts: exchange unavailable"


def test_long_reasons_are_cut() -> None:
    assert len(notify.scrub("word " * 500)) == 300


def test_other_packages_raise_known_kinds_only() -> None:
    with pytest.raises(ValueError, match="unknown notification kind"):
        notify.notify(None, 1, "gossip", "t", "b")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="title and a body"):
        notify.notify(None, 1, notify.PRICE_ALERT, " ", "b")  # type: ignore[arg-type]

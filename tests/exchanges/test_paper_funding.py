"""The paper exchange's simulated funding (engine.exchanges.paper_funding): every 8 hours from
00:00 UTC, FUNDING_RATE of a perpetual position's notional, paid when long and received when short,
on the net position of the account's own fills; none on spot, a dated future or a flat book."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from db.enums import OrderType
from engine.exchanges.paper_funding import FUNDING_EVERY_MS, FUNDING_RATE, is_perpetual, payments
from engine.exchanges.venue import FundingPayment
from tests.exchanges.test_paper import ScriptedFeed, make, order

D = Decimal
PERP = "BTC/USDT:USDT"
DAY = 1_700_006_400_000  # 2023-11-15 00:00 UTC, a funding instant
H8 = FUNDING_EVERY_MS


def test_only_perpetuals_pay_funding() -> None:
    assert is_perpetual(PERP)
    assert not is_perpetual("BTC/USDT")
    assert not is_perpetual("BTC/USDT:USDT-250328")  # dated: settles at expiry, no funding
    assert not is_perpetual("nonsense")


def test_longs_pay_and_shorts_receive_on_the_net_position_at_each_instant() -> None:
    fills = {
        PERP: [
            (DAY - 1, D(2), D(100)),  # long 2 before midnight
            (DAY + H8, D(-3), D(120)),  # at 08:00 itself: short 1 (a fill at the instant counts)
            (DAY + H8 + 1, D(1), D(121)),  # flat just after
        ]
    }
    prices = {DAY: D(110), DAY + H8: D(120)}

    def price_at(_symbol: str, instant: int) -> Decimal | None:
        return prices.get(instant)

    got = payments(fills, None, DAY + 2 * H8, price_at)
    assert got == [
        FundingPayment(f"{PERP}@{DAY}", PERP, -2 * D(110) * FUNDING_RATE, "USDT", DAY),  # -0.022
        FundingPayment(f"{PERP}@{DAY + H8}", PERP, 1 * D(120) * FUNDING_RATE, "USDT", DAY + H8),  # +0.012
    ]  # 16:00: flat, nothing
    assert got[0].amount == D("-0.0220")
    # Asked again, or from later on: the same payments, the same ids.
    assert payments(fills, None, DAY + 2 * H8, price_at) == got
    assert payments(fills, DAY + 1, DAY + 2 * H8, price_at) == got[1:]


def test_without_a_candle_the_position_is_valued_at_its_last_fill() -> None:
    fills = {PERP: [(DAY - 10, D("0.5"), D(100)), (DAY - 5, D("0.5"), D(104))]}
    (paid,) = payments(fills, None, DAY, lambda _symbol, _ts: None)
    assert paid.amount == -1 * D(104) * FUNDING_RATE


def test_a_paper_account_reports_its_perpetual_funding(sessions: sessionmaker[Session]) -> None:
    feed = ScriptedFeed(last="20000", now=DAY - 3_600_000)
    feed.candles = [[DAY, 21000.0, 21000.0, 21000.0, 21000.0, 1.0]]
    spot = make(sessions, feed, USDT="10000")
    margin = make(sessions, feed, margin=True, USDT="100000")
    # every paper account trades perpetuals (a contract market shorts and rests reduce-only anywhere)
    assert margin.capabilities.supports_leverage
    assert spot.capabilities.supports_leverage
    margin.create_order(replace(order("long", "buy", OrderType.MARKET, "0.5"), symbol=PERP))
    margin.create_order(order("spot", "buy", OrderType.MARKET, "0.1"))  # spot: no funding
    feed.now = DAY + H8 + 1
    got = margin.fetch_funding_history()
    # 00:00 at the feed's candle open (21000); 08:00 has no candle: the fill's price (20000 + 5 bps).
    assert [(p.id, p.amount, p.currency) for p in got] == [
        (f"{PERP}@{DAY}", D("-0.5") * D(21000) * FUNDING_RATE, "USDT"),
        (f"{PERP}@{DAY + H8}", D("-0.5") * D(20010) * FUNDING_RATE, "USDT"),
    ]
    assert margin.fetch_funding_history(symbol="BTC/USDT") == []
    assert margin.fetch_funding_history(since=DAY + 1) == got[1:]

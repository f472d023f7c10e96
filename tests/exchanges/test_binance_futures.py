"""CcxtTradingVenue on binance USD-M futures (a linear perpetual), against the stateful simulator
(tests/helpers/binance_futures_sim.py) as ccxt's HTTP layer: leverage and margin mode set before an
entry, reduce-only exits (the stop an algo order), funding payments.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import ccxt
import pytest

from db.enums import MarginMode, OrderType
from engine.exchanges.ccxt_venue import CcxtTradingVenue
from engine.exchanges.venue import (
    InvalidOrder,
    OrderRequest,
    OrderSide,
    VenueError,
    VenueStatus,
    VenueUnavailable,
)
from tests.helpers.binance_futures_sim import BinanceFuturesSim
from tests.helpers.ccxt_trading import make_venue

D = Decimal
SYMBOL = "BTC/USDT:USDT"
MARKET_ID = "BTCUSDT"
LEVER = "/fapi/v1/leverage"
MARGIN = "/fapi/v1/marginType"
ORDER = "/fapi/v1/order"
ALGO = "/fapi/v1/algoOrder"


@pytest.fixture
def venue() -> CcxtTradingVenue:
    venue = make_venue("binance", "swap")
    BinanceFuturesSim(venue.client, price="100000", max_leverage=50)
    return venue


def sim_of(venue: CcxtTradingVenue) -> BinanceFuturesSim:
    sim = venue.client.fetch
    assert isinstance(sim, BinanceFuturesSim)
    return sim


def entry(
    cid: str,
    side: OrderSide = OrderSide.BUY,
    amount: str = "0.01",
    leverage: int | None = 5,
    mode: MarginMode | None = MarginMode.ISOLATED,
) -> OrderRequest:
    return OrderRequest(cid, SYMBOL, side, OrderType.MARKET, D(amount), leverage=leverage, margin_mode=mode)


def exit_order(cid: str, kind: OrderType, amount: str, price: str, side: OrderSide = OrderSide.SELL) -> OrderRequest:
    if kind == OrderType.LIMIT:
        return OrderRequest(cid, SYMBOL, side, kind, D(amount), price=D(price), reduce_only=True)
    return OrderRequest(cid, SYMBOL, side, kind, D(amount), stop_price=D(price), reduce_only=True)


# --- leverage and margin mode ---


def test_margin_mode_then_leverage_are_set_before_the_entry_is_posted(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    order = venue.create_order(entry("e1"))
    assert sim.settings_calls() == [MARGIN, LEVER, ORDER]
    assert (sim.margin_type[MARKET_ID], sim.leverage[MARKET_ID]) == ("ISOLATED", 5)
    assert (order.status, order.filled, order.average) == (VenueStatus.CLOSED, D("0.01"), D(100000))
    pos = sim.position(SYMBOL)
    assert (pos.amount, pos.entry) == (D("0.01"), D(100000))
    # The venue's own view of the position: isolated, and its liquidation price follows the leverage.
    (position,) = venue.client.fetch_positions([SYMBOL])
    assert (position["marginMode"], position["side"], position["contracts"]) == ("isolated", "long", 0.01)
    assert D(str(position["liquidationPrice"])) == D(100000) * (1 - D(1) / 5 + D("0.004"))


def test_the_next_entry_with_the_same_settings_makes_no_settings_call(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    venue.create_order(entry("e1"))
    venue.create_order(entry("e2"))
    assert sim.settings_calls() == [MARGIN, LEVER, ORDER, ORDER]
    venue.create_order(entry("e3", leverage=10))  # only what changed is set
    assert sim.settings_calls()[4:] == [LEVER, ORDER]
    assert sim.leverage[MARKET_ID] == 10


def test_an_entry_without_settings_and_an_exit_leave_them_alone(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    venue.create_order(entry("e1", leverage=None, mode=None))
    venue.create_order(exit_order("t1", OrderType.LIMIT, "0.01", "110000"))
    assert sim.settings_calls() == [ORDER, ORDER]
    assert (sim.margin_type[MARKET_ID], sim.leverage[MARKET_ID]) == ("CROSSED", 20)  # Binance's defaults


def test_a_refused_leverage_is_invalid_order_with_the_venues_words_and_posts_nothing(
    venue: CcxtTradingVenue, caplog: pytest.LogCaptureFixture
) -> None:
    sim = sim_of(venue)
    caplog.set_level(logging.INFO)
    with pytest.raises(InvalidOrder) as refused:
        venue.create_order(entry("e1", leverage=75))  # the simulated symbol allows 50x at most
    message = str(refused.value)
    assert "binance" in message
    assert "75x" in message
    assert SYMBOL in message
    assert "Leverage 75 is not valid" in message  # Binance's -4028
    assert sim.settings_calls() == [MARGIN, LEVER]  # the margin mode was set; no order went out
    assert sim.posts == {}
    assert sim.orders == {}
    assert venue.client.apiKey not in caplog.text
    assert venue.client.secret not in caplog.text
    # The failure forgot what was set: the next try sets both again (the mode answers "no need").
    venue.create_order(entry("e2", leverage=50))
    assert sim.settings_calls()[2:] == [MARGIN, LEVER, ORDER]


def test_a_margin_mode_already_set_is_fine(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    sim.margin_type[MARKET_ID] = "ISOLATED"  # set by hand on the venue's site: Binance answers -4046
    order = venue.create_order(entry("e1"))
    assert order.status == VenueStatus.CLOSED
    assert sim.settings_calls() == [MARGIN, LEVER, ORDER]


def test_ccxt_raising_margin_mode_already_set_is_fine_too(venue: CcxtTradingVenue) -> None:
    venue.client.options["setMarginMode"] = {"throwMarginModeAlreadySet": True}
    sim = sim_of(venue)
    sim.margin_type[MARKET_ID] = "ISOLATED"
    venue.create_order(entry("e1"))
    assert sim.settings_calls() == [MARGIN, LEVER, ORDER]


def test_a_margin_mode_change_under_a_position_is_refused_and_posts_nothing(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    venue.create_order(entry("e1", mode=MarginMode.CROSS))
    with pytest.raises(InvalidOrder, match=r"margin mode isolated on BTC/USDT:USDT.*exists position"):
        venue.create_order(entry("e2"))
    assert list(sim.posts) == ["e1"]


def test_a_network_error_on_the_settings_is_venue_unavailable_and_posts_nothing(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)

    def down(url: str, method: str = "GET", headers: object = None, body: object = None) -> object:
        if "/leverage" in url:
            raise ccxt.RequestTimeout("binance GET timed out")
        return sim(url, method, headers, body)

    venue.client.fetch = down
    with pytest.raises(VenueUnavailable):
        venue.create_order(entry("e1"))
    assert sim.posts == {}
    assert [r.path for r in sim.requests] == [MARGIN]  # the leverage never answered: no order followed


def test_leverage_capability_on_swaps_not_spot() -> None:
    assert make_venue("binance", "swap").capabilities.supports_leverage is True
    assert make_venue("binance", "spot").capabilities.supports_leverage is False


# --- reduce-only exits ---


def test_reduce_only_target_and_stop_rest_and_fill(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    venue.create_order(entry("e1", amount="0.02"))
    target = venue.create_order(exit_order("t1", OrderType.LIMIT, "0.01", "110000"))
    stop = venue.create_order(exit_order("s1", OrderType.STOP_MARKET, "0.02", "95000"))
    assert (target.status, target.reduce_only, stop.status, stop.type) == (
        VenueStatus.OPEN,
        True,
        VenueStatus.OPEN,
        OrderType.STOP_MARKET,
    )
    assert [r.path for r in sim.requests if r.method == "POST"][-2:] == [ORDER, ALGO]  # the stop is an algo order
    assert {o.client_order_id for o in venue.fetch_open_orders(SYMBOL)} == {"t1", "s1"}
    assert sim.move_price("110500") == ["t1"]
    assert sim.position(SYMBOL).amount == D("0.01")
    # the stop is resized to what is left, then fires
    venue.cancel_order(client_order_id="s1", symbol=SYMBOL)
    venue.create_order(exit_order("s2", OrderType.STOP_MARKET, "0.01", "95000"))
    assert sim.move_price("94000") == ["s2"]
    assert sim.position(SYMBOL).amount == 0
    fired = venue.fetch_order(client_order_id="s2", symbol=SYMBOL)
    assert (fired.status, fired.filled, fired.average, fired.type) == (
        VenueStatus.CLOSED,
        D("0.01"),
        D(94000),
        OrderType.STOP_MARKET,
    )
    fills = {t.client_order_id: (t.amount, t.price) for t in venue.fetch_my_trades(SYMBOL)}
    assert fills == {"e1": (D("0.02"), D(100000)), "t1": (D("0.01"), D(110000)), "s2": (D("0.01"), D(94000))}
    # realized: +100 on the target, -60 on the stop; commissions: 1 + 0.22 (maker) + 0.47
    assert sim.wallet == D(10000) + 100 - 60 - D("1") - D("0.22") - D("0.47")
    assert venue.fetch_balance()["USDT"].total == sim.wallet


def test_a_short_is_protected_by_buying_reduce_only(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    venue.create_order(entry("e1", side=OrderSide.SELL))
    venue.create_order(exit_order("t1", OrderType.LIMIT, "0.01", "90000", side=OrderSide.BUY))
    venue.create_order(exit_order("s1", OrderType.STOP_MARKET, "0.01", "105000", side=OrderSide.BUY))
    assert sim.position(SYMBOL).amount == D("-0.01")
    assert sim.move_price("106000") == ["s1"]  # a buy stop fires on the way up
    assert sim.position(SYMBOL).amount == 0
    assert venue.fetch_order(client_order_id="s1", symbol=SYMBOL).filled == D("0.01")


@pytest.mark.parametrize(
    ("side", "amount", "why"),
    [
        (OrderSide.SELL, "0.02", "more than the position: it would flip it"),
        (OrderSide.BUY, "0.01", "the same side: it would increase it"),
    ],
)
def test_reduce_only_beyond_the_position_is_refused(
    venue: CcxtTradingVenue, side: OrderSide, amount: str, why: str
) -> None:
    sim = sim_of(venue)
    venue.create_order(entry("e1"))
    for kind, price in (
        (OrderType.LIMIT, "110000" if side == OrderSide.SELL else "90000"),
        (OrderType.STOP_MARKET, ""),
    ):
        stop_price = "95000" if side == OrderSide.SELL else "105000"
        with pytest.raises(InvalidOrder, match="ReduceOnly Order is rejected"):
            venue.create_order(exit_order(f"x-{kind.value}", kind, amount, price or stop_price, side=side))
    assert sim.position(SYMBOL).amount == D("0.01"), why
    assert [o["clientOrderId"] for o in sim.orders.values()] == ["e1"]
    assert sim.algos == {}


def test_reduce_only_without_a_position_is_refused(venue: CcxtTradingVenue) -> None:
    with pytest.raises(InvalidOrder, match="ReduceOnly"):
        venue.create_order(exit_order("t1", OrderType.LIMIT, "0.01", "110000"))


def test_an_entry_beyond_the_margin_is_insufficient_funds(venue: CcxtTradingVenue) -> None:
    from engine.exchanges.venue import InsufficientFunds

    sim = sim_of(venue)
    # 1 BTC at 100000 with 5x needs 20000 of margin; the wallet has 10000.
    with pytest.raises(InsufficientFunds, match="Margin is insufficient"):
        venue.create_order(entry("e1", amount="1"))
    assert sim.position(SYMBOL).amount == 0
    venue.create_order(entry("e2", amount="0.4"))  # 8000 of margin fits
    assert venue.fetch_balance()["USDT"].used == D(8000)


# --- funding ---


def test_funding_history_is_parsed_with_the_sign_right(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    venue.create_order(entry("e1", amount="0.1"))
    paid = sim.pay_funding("0.0001")  # a long pays 0.01% of 10000 notional
    sim.move_price("101000")
    received = sim.pay_funding("-0.0002")  # and receives when the rate is negative
    since = int(paid[0]["time"])
    payments = venue.fetch_funding_history(SYMBOL, since=since)
    assert [(p.amount, p.currency, p.symbol) for p in payments] == [
        (D("-1"), "USDT", SYMBOL),
        (D("2.02"), "USDT", SYMBOL),
    ]
    assert [p.id for p in payments] == [paid[0]["tranId"], received[0]["tranId"]]
    assert [p.ts for p in payments] == sorted(p.ts for p in payments)
    assert venue.fetch_funding_history(SYMBOL, since=int(received[0]["time"])) == payments[1:]
    request = next(r for r in sim.requests if r.path == "/fapi/v1/income")
    assert request.query["incomeType"] == "FUNDING_FEE"


def test_a_short_receives_positive_funding(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    venue.create_order(entry("e1", side=OrderSide.SELL, amount="0.1"))
    sim.pay_funding("0.0001")
    (payment,) = venue.fetch_funding_history()
    assert payment.amount == D(1)


# --- lost answers and taken ids ---


def test_a_lost_stop_answer_is_looked_up_among_the_algo_orders_not_resent(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    venue.create_order(entry("e1"))
    sim.fail_next_create(after=ccxt.RequestTimeout("binance POST timed out"))
    stop = venue.create_order(exit_order("s1", OrderType.STOP_MARKET, "0.01", "95000"))
    assert (stop.client_order_id, stop.status, stop.stop_price) == ("s1", VenueStatus.OPEN, D(95000))
    assert sim.posts["s1"] == 1
    assert len(sim.algos) == 1


def test_a_lost_entry_answer_is_looked_up_and_the_settings_are_not_sent_again(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    sim.fail_next_create(after=ccxt.RequestTimeout("binance POST timed out"))
    order = venue.create_order(entry("e1"))
    assert (order.status, order.filled) == (VenueStatus.CLOSED, D("0.01"))
    assert sim.posts["e1"] == 1
    assert sim.settings_calls() == [MARGIN, LEVER, ORDER]
    assert sim.position(SYMBOL).amount == D("0.01")


def test_a_stop_sent_again_by_a_fresh_venue_is_the_one_resting(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    venue.create_order(entry("e1"))
    first = venue.create_order(exit_order("s1", OrderType.STOP_MARKET, "0.01", "95000"))
    fresh = make_venue("binance", "swap")  # a restart: no memory of the symbol nor of the stop
    fresh.client.fetch = sim
    sim.client = fresh.client
    again = fresh.create_order(exit_order("s1", OrderType.STOP_MARKET, "0.01", "95000"))
    assert again.id == first.id  # -4116: the client id is taken; the algo order is found and returned
    assert sim.posts["s1"] == 2  # the second reached the venue and was refused
    assert len(sim.algos) == 1


def test_settings_a_venue_cannot_make_are_refused_before_anything_is_sent(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)
    venue.client.has = {**venue.client.has, "setMarginMode": False}
    with pytest.raises(InvalidOrder, match="cannot set margin mode isolated on BTC/USDT:USDT"):
        venue.create_order(entry("e1"))
    assert sim.requests == []


def test_a_refusal_of_the_credentials_is_no_invalid_order(venue: CcxtTradingVenue) -> None:
    sim = sim_of(venue)

    def refuse_key(url: str, method: str = "GET", headers: object = None, body: object = None) -> object:
        if "/leverage" in url:
            raise ccxt.AuthenticationError('binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions."}')
        return sim(url, method, headers, body)

    venue.client.fetch = refuse_key
    with pytest.raises(VenueError) as refused:
        venue.create_order(entry("e1"))
    assert not isinstance(refused.value, InvalidOrder)  # the order is fine; the account is not
    assert "set_leverage" in str(refused.value)
    assert sim.posts == {}

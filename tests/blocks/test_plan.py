"""Trade blocks: validation messages, sizing in every mode, the split into trades, the preview,
with hand-worked numbers, and hypothesis properties of the split and of risk sizing."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from db.enums import EntryType, Side, SizeMode
from engine.blocks.plan import (
    BlockRejected,
    BlockRequest,
    FieldError,
    TargetSpec,
    compute_size,
    plan_block,
    preview,
    validate_block,
)
from engine.common.precision import is_multiple_of_tick, split_amount, wide_context
from engine.exchanges.base import MarketInfo

D = Decimal
EQUITY = D(10000)
FREE = D(100000)

SPOT = MarketInfo(
    exchange="binance",
    symbol="BTC/USDT",
    base="BTC",
    quote="USDT",
    type="spot",
    active=True,
    can_short=False,
    price_tick=D("0.01"),
    amount_tick=D("0.001"),
    min_amount=D("0.001"),
    min_cost=D(5),
)
SWAP = replace(SPOT, symbol="BTC/USDT:USDT", type="swap", can_short=True)


def targets(*prices: str | None, shares: tuple[str | None, ...] | None = None) -> tuple[TargetSpec, ...]:
    shares = shares or (None,) * len(prices)
    return tuple(
        TargetSpec(D(p) if p is not None else None, D(s) if s is not None else None)
        for p, s in zip(prices, shares, strict=True)
    )


LONG = BlockRequest(
    symbol="BTC/USDT",
    side=Side.LONG,
    entry_type=EntryType.LIMIT,
    entry_price=D(100),
    stop_price=D(95),
    targets=targets("110", "120", "130"),
    size_mode=SizeMode.RISK_PCT,
    size_value=D(1),
)
SHORT = replace(LONG, symbol="BTC/USDT:USDT", side=Side.SHORT, stop_price=D(105), targets=targets("90", "80"))


def errors(req: BlockRequest, market: MarketInfo = SPOT, equity: Decimal = EQUITY, free: Decimal | None = FREE):
    return validate_block(req, market, equity, free)


def only(req: BlockRequest, market: MarketInfo = SPOT, **kw) -> FieldError:
    found = errors(req, market, **kw)
    assert len(found) == 1, found
    return found[0]


# --- sizing and splitting, hand-worked --------------------------------------------------------


def test_risk_sized_long_split_in_three() -> None:
    # 1% of 10000 = 100 at risk over a 5 distance: 20 BTC; 20 / 3 = 6.666.. rounded down, the rest on the last
    plan = plan_block(LONG, SPOT, EQUITY, FREE)
    assert plan.total_amount == D(20)
    assert [t.amount for t in plan.trades] == [D("6.666"), D("6.666"), D("6.668")]
    assert [t.target_price for t in plan.trades] == [D(110), D(120), D(130)]
    assert [t.index for t in plan.trades] == [0, 1, 2]
    assert all(t.entry_price == D(100) and t.stop_price == D(95) for t in plan.trades)
    assert plan.risk == D(100)
    assert plan.cost == D(2000)
    assert plan.reward_risk == (D(2), D(4), D(6))


def test_short_plan_on_a_swap() -> None:
    plan = plan_block(SHORT, SWAP, EQUITY, FREE)
    assert plan.total_amount == D(20)
    assert [t.amount for t in plan.trades] == [D(10), D(10)]
    assert plan.reward_risk == (D(2), D(4))


@pytest.mark.parametrize(
    ("mode", "value", "entry", "stop", "expected"),
    [
        (SizeMode.BASE, "0.12345", "300", "290", "0.123"),
        (SizeMode.QUOTE, "1000", "300", "290", "3.333"),
        (SizeMode.EQUITY_PCT, "10", "300", "290", "3.333"),
        (SizeMode.RISK_PCT, "2", "300", "290", "20"),  # 200 / 10
        (SizeMode.RISK_PCT, "1", "100", "97", "33.333"),  # 100 / 3
    ],
)
def test_compute_size(mode: SizeMode, value: str, entry: str, stop: str, expected: str) -> None:
    req = replace(LONG, size_mode=mode, size_value=D(value), entry_price=D(entry), stop_price=D(stop))
    assert compute_size(req, SPOT, EQUITY) == D(expected)


def test_market_entry_is_sized_at_the_rounded_reference_price() -> None:
    req = replace(
        LONG,
        entry_type=EntryType.MARKET,
        entry_price=None,
        reference_price=D("250.004"),
        stop_price=D("240"),
        targets=targets("260", "270"),
    )
    assert compute_size(replace(req, size_mode=SizeMode.QUOTE, size_value=D(1000)), SPOT, EQUITY) == D(4)
    plan = plan_block(req, SPOT, EQUITY, FREE)
    assert plan.entry_price == D(250)
    assert plan.total_amount == D(10)  # 100 / (250 - 240)
    assert all(t.entry_price is None for t in plan.trades)  # the market order carries no price


def test_compute_size_refuses_what_it_cannot_size() -> None:
    with pytest.raises(BlockRejected) as info:
        compute_size(replace(LONG, stop_price=D(100)), SPOT, EQUITY)
    assert info.value.errors == (
        FieldError("stop_price", "Stop 100 is the entry price: a size by risk needs a stop away from it."),
    )


def test_explicit_shares() -> None:
    req = replace(
        LONG,
        size_mode=SizeMode.BASE,
        size_value=D(1),
        targets=targets("110", "120", "130", shares=("0.5", "0.3", "0.2")),
    )
    assert [t.amount for t in plan_block(req, SPOT, EQUITY, FREE).trades] == [D("0.5"), D("0.3"), D("0.2")]
    req = replace(req, size_value=D("1.001"), targets=targets("110", "120", "130", shares=("0.333", "0.333", "0.334")))
    # 1.001 x 0.333 = 0.333333 -> 0.333 twice; the last takes 1.001 - 0.666
    assert [t.amount for t in plan_block(req, SPOT, EQUITY, FREE).trades] == [D("0.333"), D("0.333"), D("0.335")]


def test_split_amount() -> None:
    assert split_amount(D(1), 3, None, D("0.01")) == [D("0.33"), D("0.33"), D("0.34")]
    no_tick = split_amount(D(1), 3, None, None)
    assert no_tick[0] == no_tick[1] < no_tick[2]
    with wide_context():
        assert sum(no_tick) == D(1)
    assert split_amount(D(5), 1, None, D(1)) == [D(5)]
    with pytest.raises(ValueError, match="one share per part"):
        split_amount(D(5), 2, [D(1)], D(1))


def test_market_without_ticks_is_split_on_the_storage_scale() -> None:
    market = replace(SPOT, price_tick=None, amount_tick=None, min_amount=None)
    req = replace(
        LONG,
        size_mode=SizeMode.QUOTE,
        size_value=D(100),
        entry_price=D(300),
        stop_price=D(290),
        targets=targets("310", "320"),
    )
    plan = plan_block(req, market, EQUITY, FREE)
    assert plan.total_amount == D("0.333333333333333333")  # 100 / 300 at 18 places, rounded down
    assert [t.amount for t in plan.trades] == [D("0.166666666666666666"), D("0.166666666666666667")]


def test_prices_are_rounded_to_the_tick() -> None:
    req = replace(LONG, entry_price=D("100.004"), stop_price=D("94.996"), targets=targets("110.005"))
    plan = plan_block(req, SPOT, EQUITY, FREE)
    assert (plan.entry_price, plan.stop_price, plan.trades[0].target_price) == (D(100), D(95), D("110.01"))


# --- validation messages ----------------------------------------------------------------------


def test_valid_block_has_no_errors() -> None:
    assert errors(LONG) == []
    assert errors(SHORT, SWAP) == []


def test_stop_on_the_wrong_side() -> None:
    assert only(replace(LONG, stop_price=D("101.5"))) == FieldError(
        "stop_price", "Stop 101.5 must be below the entry 100 for a long."
    )
    assert only(replace(SHORT, stop_price=D(99)), SWAP) == FieldError(
        "stop_price", "Stop 99 must be above the entry 100 for a short."
    )


def test_stop_that_rounds_onto_the_entry() -> None:
    assert only(replace(LONG, stop_price=D("99.996"))) == FieldError(
        "stop_price", "Stop 99.996 (rounded to 100) must be below the entry 100 for a long."
    )


def test_targets_on_the_wrong_side_and_out_of_order() -> None:
    req = replace(LONG, targets=targets("110", "95", "105", "120"))
    assert errors(req) == [
        FieldError("targets[1].price", "Target 2 at 95 must be above the entry 100 for a long."),
        FieldError(
            "targets[2].price",
            "Target 3 at 105 must be above target 1 at 110: list targets from nearest to farthest.",
        ),
    ]
    req = replace(SHORT, targets=targets("90", "90"))
    assert only(req, SWAP) == FieldError(
        "targets[1].price", "Target 2 at 90 must be below target 1 at 90: list targets from nearest to farthest."
    )


def test_target_count() -> None:
    assert only(replace(LONG, targets=())) == FieldError("targets", "Add at least one profit target.")
    eleven = targets(*[str(101 + i) for i in range(11)])
    assert only(replace(LONG, targets=eleven)) == FieldError("targets", "At most 10 profit targets; this block has 11.")
    assert errors(replace(LONG, targets=eleven[:10])) == []


def test_missing_and_bad_prices() -> None:
    req = replace(LONG, entry_price=None, stop_price=D("NaN"), targets=targets(None, "-3"))
    assert errors(req) == [
        FieldError("entry_price", "Enter the entry price."),
        FieldError("stop_price", "Stop price must be a positive number, not NaN."),
        FieldError("targets[0].price", "Enter the target 1 price."),
        FieldError("targets[1].price", "Target 2 price must be a positive number, not -3."),
    ]


def test_price_below_the_tick_and_market_price_limits() -> None:
    assert only(replace(LONG, stop_price=D("0.001"))) == FieldError(
        "stop_price", "Stop price 0.001 is below this market's price step 0.01."
    )
    market = replace(SPOT, max_price=D(125))
    assert only(LONG, market) == FieldError(
        "targets[2].price", "Target 3 price 130 is above this market's highest price 125."
    )


def test_short_on_spot_is_refused_on_side() -> None:
    assert only(replace(SHORT, symbol="BTC/USDT")) == FieldError(
        "side",
        "BTC/USDT on binance is a spot market and cannot be shorted: choose long, or a market that allows shorting.",
    )


def test_market_and_symbol() -> None:
    assert only(replace(LONG, symbol="ETH/USDT")) == FieldError(
        "symbol", "ETH/USDT does not match the market BTC/USDT on binance."
    )
    assert only(LONG, replace(SPOT, active=False)) == FieldError(
        "symbol", "BTC/USDT is not trading on binance right now."
    )


def test_shares() -> None:
    three = ("110", "120", "130")
    assert only(replace(LONG, targets=targets(*three, shares=("0.5", "0.3", "0.1")))) == FieldError(
        "targets.share", "Target shares add up to 90%; they must add up to 100%."
    )
    assert only(replace(LONG, targets=targets(*three, shares=("0.5", None, "0.5")))) == FieldError(
        "targets.share", "Give a share to every target, or to none for an equal split."
    )
    assert errors(replace(LONG, targets=targets(*three, shares=("0.5", "0", "-0.1")))) == [
        FieldError("targets[1].share", "Target 2 share must be more than 0%, not 0."),
        FieldError("targets[2].share", "Target 3 share must be more than 0%, not -0.1."),
    ]


def test_size_value() -> None:
    assert only(replace(LONG, size_value=D(0))) == FieldError("size_value", "Enter a size above 0.")
    assert only(replace(LONG, size_value=None)) == FieldError("size_value", "Enter a size above 0.")
    assert only(replace(LONG, size_value=D(150))) == FieldError(
        "size_value", "Risking 150% is more than the whole account: enter at most 100%."
    )
    assert only(LONG, equity=D(0)) == FieldError(
        "size_value",
        "Account equity is 0.00 USDT: a size in percent of equity is zero; give the size in BTC or USDT.",
    )


def test_timeouts() -> None:
    assert errors(replace(LONG, entry_timeout_s=0, max_duration_s=-5)) == [
        FieldError("entry_timeout_s", "Entry timeout must be at least 1 second (leave it empty for none)."),
        FieldError("max_duration_s", "Maximum duration must be at least 1 second (leave it empty for none)."),
    ]
    assert errors(replace(LONG, entry_timeout_s=60, max_duration_s=3600)) == []


def test_each_target_must_meet_the_minimum_amount() -> None:
    req = replace(LONG, size_mode=SizeMode.BASE, size_value=D("0.005"))
    market = replace(SPOT, min_amount=D("0.002"), min_cost=None)
    # 0.005 / 3 -> 0.001, 0.001, 0.003
    assert errors(req, market) == [
        FieldError(
            f"targets[{i}]",
            f"Target {i + 1} gets 0.001 BTC, below this market's minimum amount 0.002 BTC: "
            "use fewer targets or a bigger size.",
        )
        for i in (0, 1)
    ]


def test_minimum_cost_is_checked_at_the_lowest_leg() -> None:
    # 0.1 BTC is worth 10 at the entry, but the stop order sells it for 9
    req = replace(LONG, stop_price=D(90), targets=targets("120"), size_mode=SizeMode.BASE, size_value=D("0.1"))
    assert only(req, replace(SPOT, min_cost=D(10))) == FieldError(
        "targets[0]",
        "Target 1 gets 0.1 BTC, worth 9.00 USDT at the stop 90: below this market's minimum order of 10.00 USDT. "
        "Use fewer targets or a bigger size.",
    )
    assert errors(req, replace(SPOT, min_cost=D(9))) == []


def test_maximum_amount() -> None:
    assert only(LONG, replace(SPOT, max_amount=D("6.667"))) == FieldError(
        "targets[2]",
        "Target 3 gets 6.668 BTC, above this market's maximum order amount 6.667 BTC: "
        "use more targets or a smaller size.",
    )


def test_size_below_the_minimum_is_one_message() -> None:
    req = replace(LONG, size_mode=SizeMode.BASE, size_value=D("0.0009"))
    assert only(req) == FieldError("size_value", "The size rounds down to 0 BTC at this market's amount step 0.001.")
    assert only(replace(req, size_value=D("0.004")), replace(SPOT, min_amount=D("0.005"))) == FieldError(
        "size_value", "The size 0.004 BTC is below this market's minimum 0.005 BTC."
    )


def test_free_balance() -> None:
    assert only(LONG, free=D(1500)) == FieldError(
        "size_value", "This block needs 2,000.00 USDT, but only 1,500.00 USDT is free."
    )
    assert only(SHORT, SWAP, free=D(1500)) == FieldError(
        "size_value", "This block needs 2,000.00 USDT as collateral for the short, but only 1,500.00 USDT is free."
    )
    assert errors(LONG, free=D(2000)) == []
    assert errors(LONG, free=None) == []  # no balance known: not checked


def test_money_in_messages_is_in_cents_with_thousands_separators_erring_on_the_safe_side() -> None:
    """Never "only 8999.0182846664 USDT is free" or "needs 33249000000000 USDT": what is needed rounds
    up and what is free rounds down, so the message never makes the balance look sufficient."""
    assert only(LONG, free=D("1999.9982846664")) == FieldError(
        "size_value", "This block needs 2,000.00 USDT, but only 1,999.99 USDT is free."
    )
    huge = replace(LONG, size_mode=SizeMode.BASE, size_value=D("332490000000"))
    assert "needs 33,249,000,000,000.00 USDT" in only(huge, free=D("8999.0182846664")).message


def test_market_entry_needs_a_current_price() -> None:
    req = replace(LONG, entry_type=EntryType.MARKET, entry_price=None)
    assert only(req) == FieldError(
        "entry_price", "No current price for BTC/USDT yet: a market entry cannot be sized without one."
    )


def test_stop_entry_must_be_beyond_the_current_price() -> None:
    req = replace(LONG, entry_type=EntryType.STOP, reference_price=D(101))
    assert only(req) == FieldError(
        "entry_price",
        "A stop entry buys a breakout: 100 must be above the current price 101 (use a limit entry to buy lower).",
    )
    assert errors(replace(req, reference_price=D(99))) == []
    short = replace(SHORT, entry_type=EntryType.STOP, reference_price=D(100))
    assert only(short, SWAP) == FieldError(
        "entry_price",
        "A stop entry sells a breakdown: 100 must be below the current price 100 (use a limit entry to sell higher).",
    )


def test_all_problems_are_collected() -> None:
    req = replace(
        SHORT,
        symbol="BTC/USDT",
        stop_price=D(90),
        targets=targets("80", "85", shares=("0.7", "0.7")),
        size_value=D(-1),
        entry_timeout_s=0,
    )
    fields = [e.field for e in errors(req)]
    assert fields == ["side", "stop_price", "targets[1].price", "targets.share", "size_value", "entry_timeout_s"]


def test_plan_block_raises_with_every_error() -> None:
    req = replace(LONG, stop_price=D(101), size_value=D(0))
    with pytest.raises(BlockRejected) as info:
        plan_block(req, SPOT, EQUITY, FREE)
    assert list(info.value.errors) == errors(req)
    assert len(info.value.errors) == 2
    assert "stop_price: Stop 101 must be below" in str(info.value)


# --- preview ----------------------------------------------------------------------------------


def test_preview_of_a_valid_block() -> None:
    p = preview(LONG, SPOT, EQUITY)
    assert (p.size, p.cost, p.risk, p.risk_pct) == (D(20), D(2000), D(100), D(1))
    assert p.reward_risk == (D(2), D(4), D(6))
    assert p.amounts == (D("6.666"), D("6.666"), D("6.668"))
    assert p.errors == ()


def test_preview_notes_every_price_off_the_tick_with_the_price_sent() -> None:
    req = replace(LONG, entry_price=D("100.123"), stop_price=D("95"), targets=targets("110.005", "120", "1130.104"))
    p = preview(req, SPOT, EQUITY)
    assert p.notes == (
        FieldError("entry_price", "Rounded to the tick 0.01: 100.12."),
        FieldError("targets[0].price", "Rounded to the tick 0.01: 110.01."),
        FieldError("targets[2].price", "Rounded to the tick 0.01: 1,130.10."),
    )
    assert (p.entry_price, p.target_prices[0]) == (D("100.12"), D("110.01"))
    assert preview(LONG, SPOT, EQUITY).notes == ()
    assert preview(req, replace(SPOT, price_tick=None), EQUITY).notes == ()


def test_preview_notes_a_typed_amount_off_the_amount_step_with_the_amount_traded() -> None:
    stock = replace(SPOT, symbol="AAPL/USD", base="AAPL", quote="USD", amount_tick=D(1), min_amount=D(1))
    typed = replace(LONG, symbol="AAPL/USD", size_mode=SizeMode.BASE, size_value=D("10.7"), targets=targets("110"))
    p = preview(typed, stock, EQUITY)
    assert p.size == D(10)
    assert p.notes == (FieldError("size_value", "Rounded down to the amount step 1: 10."),)
    assert preview(replace(typed, size_value=D(10)), stock, EQUITY).notes == ()
    assert preview(replace(typed, size_mode=SizeMode.RISK_PCT, size_value=D(1)), stock, EQUITY).notes == ()  # computed


def test_preview_shows_what_it_can_despite_errors() -> None:
    req = replace(LONG, targets=targets("110", "90", "140", shares=("0.5", "0.2", "0.2")))
    p = preview(req, SPOT, EQUITY)
    assert p.size == D(20)
    assert p.risk == D(100)
    assert p.reward_risk == (D(2), None, D(8))
    assert p.amounts is None
    assert [e.field for e in p.errors] == ["targets[1].price", "targets.share"]
    empty = preview(replace(LONG, entry_price=None, stop_price=None, size_value=None), SPOT, EQUITY)
    assert (empty.size, empty.risk, empty.cost) == (None, None, None)
    assert empty.reward_risk == (None, None, None)


def test_reward_risk_rounds_down() -> None:
    req = replace(LONG, stop_price=D(97), targets=targets("110"))  # 10 / 3 = 3.333..
    assert plan_block(req, SPOT, EQUITY, FREE).reward_risk == (D("3.33"),)


# --- properties -------------------------------------------------------------------------------

TICKS = st.sampled_from([D("0.00001"), D("0.001"), D("0.01"), D("0.5"), D(1)])


@st.composite
def valid_blocks(draw: st.DrawFn) -> tuple[BlockRequest, MarketInfo]:
    side = draw(st.sampled_from(list(Side)))
    sign = 1 if side is Side.LONG else -1
    price_tick = draw(st.sampled_from([D("0.01"), D("0.1"), D("0.5")]))
    amount_tick = draw(TICKS)
    entry = price_tick * draw(st.integers(1000, 1_000_000))
    stop = entry - sign * price_tick * draw(st.integers(1, 900))
    n = draw(st.integers(1, 10))
    steps = draw(st.lists(st.integers(1, 500), min_size=n, max_size=n))
    prices, price = [], entry
    for step in steps:
        price += sign * price_tick * step
        prices.append(price)
    if draw(st.booleans()):
        shares: list[Decimal | None] = [None] * n
    else:
        cuts = sorted(draw(st.sets(st.integers(1, 99), min_size=n - 1, max_size=n - 1))) if n > 1 else []
        bounds = [0, *cuts, 100]
        shares = [D(b - a) / 100 for a, b in itertools.pairwise(bounds)]
    mode = draw(st.sampled_from(list(SizeMode)))
    value = {
        SizeMode.BASE: D(draw(st.integers(1, 10**6))) / 1000,
        SizeMode.QUOTE: D(draw(st.integers(1, 10**7))) / 10,
        SizeMode.EQUITY_PCT: D(draw(st.integers(1, 10000))) / 100,
        SizeMode.RISK_PCT: D(draw(st.integers(1, 10000))) / 100,
    }[mode]
    req = BlockRequest(
        symbol="X/Y",
        side=side,
        entry_type=draw(st.sampled_from([EntryType.LIMIT, EntryType.STOP])),
        entry_price=entry,
        stop_price=stop,
        targets=tuple(TargetSpec(p, s) for p, s in zip(prices, shares, strict=True)),
        size_mode=mode,
        size_value=value,
    )
    market = MarketInfo(
        exchange="x",
        symbol="X/Y",
        base="X",
        quote="Y",
        type="swap",
        active=True,
        can_short=True,
        price_tick=price_tick,
        amount_tick=amount_tick,
        min_amount=amount_tick * draw(st.integers(1, 3)),
        min_cost=draw(st.sampled_from([None, D(1), D(5)])),
    )
    return req, market


@settings(max_examples=300)
@given(valid_blocks(), st.integers(1000, 10**8).map(D))
def test_split_properties(block: tuple[BlockRequest, MarketInfo], equity: Decimal) -> None:
    req, market = block
    found = validate_block(req, market, equity, None)
    note(f"errors: {found}")
    assume(not found)
    plan = plan_block(req, market, equity, None)
    amounts = [t.amount for t in plan.trades]
    assert len(amounts) == len(req.targets)
    assert sum(amounts) == plan.total_amount
    assert all(is_multiple_of_tick(a, market.amount_tick) for a in amounts)
    assert all(a >= market.min_amount for a in amounts)
    assert plan.total_amount == compute_size(req, market, equity)
    budget = equity * req.size_value / 100
    if req.size_mode is SizeMode.RISK_PCT:
        # never risks more than asked, after rounding down; less by under one amount tick's worth
        assert plan.risk <= budget
        assert budget - plan.risk < market.amount_tick * abs(plan.entry_price - plan.stop_price)


@given(valid_blocks(), st.integers(1, 10**8).map(D))
def test_rounding_never_increases_the_size(block: tuple[BlockRequest, MarketInfo], equity: Decimal) -> None:
    req, market = block
    size = compute_size(req, market, equity)
    entry, stop, value = req.entry_price, req.stop_price, req.size_value
    assert is_multiple_of_tick(size, market.amount_tick)
    unrounded = {
        SizeMode.BASE: value,
        SizeMode.QUOTE: value / entry,
        SizeMode.EQUITY_PCT: equity * value / 100 / entry,
        SizeMode.RISK_PCT: equity * value / 100 / abs(entry - stop),
    }[req.size_mode]
    assert size <= unrounded
    assert unrounded - size < market.amount_tick + D("1E-20")


PRICE_FIELDS = ("entry_price", "stop_price")


@given(
    st.sampled_from(list(Side)),
    st.integers(1, 50),
    st.integers(1, 50),
    st.lists(st.integers(1, 50), min_size=1, max_size=10),
)
def test_any_invalid_price_ordering_is_reported(side: Side, entry: int, stop: int, tgts: list[int]) -> None:
    req = BlockRequest(
        symbol="BTC/USDT:USDT",
        side=side,
        entry_type=EntryType.LIMIT,
        entry_price=D(entry),
        stop_price=D(stop),
        targets=tuple(TargetSpec(D(t)) for t in tgts),
        size_mode=SizeMode.BASE,
        size_value=D(1000),
    )
    chain = [stop, entry, *tgts]
    if side is Side.LONG:
        ordered = all(a < b for a, b in itertools.pairwise(chain))
    else:
        ordered = all(a > b for a, b in itertools.pairwise(chain))
    found = validate_block(req, replace(SWAP, min_cost=None), D(10**9), None)
    price_errors = [e for e in found if e.field in PRICE_FIELDS or e.field.endswith(".price")]
    assert bool(price_errors) == (not ordered), found

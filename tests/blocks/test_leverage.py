"""Derivatives in the planner: the liquidation formula with hand-worked numbers, the margin a
leveraged block needs, and the refusals leverage adds (on spot, above the market's highest, a stop
beyond liquidation), read through the one parser and planner the form and the API use."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from db.enums import EntryType, MarginMode, Side, SizeMode
from engine.blocks.leverage import liquidation_price, margin_mode_of
from engine.blocks.parse import parse_block
from engine.blocks.plan import BlockRequest, FieldError, TargetSpec, plan_block, preview, validate_block
from engine.exchanges.base import MarketInfo

D = Decimal
SWAP = MarketInfo(
    exchange="binance",
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    type="swap",
    active=True,
    can_short=True,
    price_tick=D("0.1"),
    amount_tick=D("0.001"),
    min_amount=D("0.001"),
    min_cost=D(5),
    max_leverage=125,
)
SPOT = replace(SWAP, symbol="BTC/USDT", type="spot", can_short=False, max_leverage=None)
# Long 0.1 BTC at 30,000 with a stop at 29,000: 3,000 USDT of notional.
LONG = BlockRequest(
    symbol="BTC/USDT:USDT",
    side=Side.LONG,
    entry_type=EntryType.LIMIT,
    entry_price=D(30000),
    stop_price=D(29000),
    targets=(TargetSpec(D(32000)),),
    size_mode=SizeMode.BASE,
    size_value=D("0.1"),
    leverage=10,
    margin_mode=MarginMode.ISOLATED,
)
SHORT = replace(LONG, side=Side.SHORT, stop_price=D(31000), targets=(TargetSpec(D(28000)),))


@pytest.mark.parametrize(
    ("side", "leverage", "expected"),
    [
        # long: 30,000 x (1 - 1/10) / (1 - 0.004) = 27,108.43... rounded up to the tick
        (Side.LONG, 10, D("27108.5")),
        # short: 30,000 x (1 + 1/10) / (1 + 0.004) = 32,868.52... rounded down
        (Side.SHORT, 10, D("32868.5")),
        (Side.LONG, 100, D("29819.3")),  # 30,000 x 0.99 / 0.996 = 29,819.27...
    ],
)
def test_isolated_liquidation_price_by_hand(side: Side, leverage: int, expected: Decimal) -> None:
    got = liquidation_price(side, D(30000), leverage, D("0.004"), tick=D("0.1"))
    exact = (D(30000) * (1 - D(1) / leverage) / D("0.996")) if side is Side.LONG else None
    if side is Side.LONG:
        assert got is not None
        assert got >= exact  # against the trader: a long's is rounded up
        assert got - exact < D("0.1")
    assert got == expected


def test_a_long_at_1x_is_never_liquidated_and_cross_margin_moves_the_price_away() -> None:
    assert liquidation_price(Side.LONG, D(30000), 1, D("0.004"), tick=D("0.1")) is None
    isolated = liquidation_price(Side.LONG, D(30000), 10, D("0.004"), tick=D("0.1"))
    cross = liquidation_price(Side.LONG, D(30000), 10, D("0.004"), D(1000), tick=D("0.1"))
    assert isolated is not None
    assert cross is not None
    assert cross < isolated  # 1,000 USDT more margin per BTC: it takes a deeper fall


def test_a_leveraged_block_needs_its_margin_not_its_notional_and_says_so() -> None:
    assert validate_block(LONG, SWAP, D(10000), D(400)) == []  # 300 USDT of margin at 10x
    (error,) = validate_block(LONG, SWAP, D(10000), D(200))
    assert error.field == "size_value"
    assert error.message == "This block needs 300.00 USDT of margin at 10x, but only 200.00 USDT is free."


def test_the_plan_and_the_preview_carry_leverage_margin_and_liquidation() -> None:
    plan = plan_block(LONG, SWAP, D(10000), D(5000))
    assert (plan.leverage, plan.margin_mode, plan.liquidation_price) == (10, MarginMode.ISOLATED, D("27108.5"))
    shown = preview(LONG, SWAP, D(10000), D(5000))
    assert (shown.margin, shown.liquidation_price, shown.errors) == (D(300), D("27108.5"), ())
    short = preview(SHORT, SWAP, D(10000), D(5000))
    assert short.liquidation_price == D("32868.5")


def test_cross_margin_counts_the_free_balance_behind_the_position() -> None:
    cross = replace(LONG, margin_mode=MarginMode.CROSS)
    near = preview(cross, SWAP, D(10000), D(400)).liquidation_price
    far = preview(cross, SWAP, D(10000), D(2300)).liquidation_price
    assert near is not None
    assert far is not None
    # 100 USDT beyond the block's own 300 of margin: 1,000 per BTC, (30,000 - 3,000 - 1,000) / 0.996
    assert near == D("26104.5")
    # 1,900 USDT more free collateral over 0.1 BTC: 19,000 per BTC further away, divided by 1 - mmr
    assert near - far == pytest.approx(D(19000) / D("0.996"), abs=D("0.2"))


@pytest.mark.parametrize(
    ("req", "field", "message"),
    [
        (
            replace(LONG, stop_price=D(27000)),
            "stop_price",
            "Stop 27,000.0 lies beyond the liquidation price ≈ 27,108.5 at 10x isolated: the position would be "
            "liquidated before its stop. Lower the leverage or raise the stop.",
        ),
        (
            replace(SHORT, stop_price=D(33000)),
            "stop_price",
            "Stop 33,000.0 lies beyond the liquidation price ≈ 32,868.5 at 10x isolated: the position would be "
            "liquidated before its stop. Lower the leverage or lower the stop.",
        ),
        (replace(LONG, leverage=200), "leverage", "BTC/USDT:USDT allows at most 125x on binance."),
    ],
)
def test_leverage_refusals_are_at_their_field(req: BlockRequest, field: str, message: str) -> None:
    assert validate_block(req, SWAP, D(10000), D(100000)) == [FieldError(field, message)]


def test_spot_takes_no_leverage_nor_margin_mode() -> None:
    spot = replace(LONG, symbol="BTC/USDT")
    assert validate_block(spot, SPOT, D(10000), D(100000)) == [
        FieldError("leverage", "Leverage and margin mode apply to perpetuals and futures; BTC/USDT is a spot market.")
    ]
    only_mode = replace(spot, leverage=None)
    assert [e.field for e in validate_block(only_mode, SPOT, D(10000), D(100000))] == ["margin_mode"]
    assert validate_block(replace(spot, leverage=None, margin_mode=None), SPOT, D(10000), D(100000)) == []


def test_a_leverage_alone_sets_isolated_margin() -> None:
    assert margin_mode_of(5, None) is MarginMode.ISOLATED
    assert margin_mode_of(None, None) is None
    assert plan_block(replace(LONG, margin_mode=None), SWAP, D(10000), D(5000)).margin_mode is MarginMode.ISOLATED


RAW = {
    "symbol": "BTC/USDT:USDT",
    "side": "long",
    "entry_type": "limit",
    "entry_price": "30000",
    "stop_price": "29000",
    "target_prices": ["32000"],
    "target_shares": [None],
    "size_mode": "base",
    "size_value": "0.1",
}


@pytest.mark.parametrize(("raw", "leverage"), [("5", 5), (5, 5), ("20x", 20), ("", None), (None, None)])
def test_the_parser_reads_a_whole_leverage(raw: object, leverage: int | None) -> None:
    req = parse_block({**RAW, "leverage": raw, "margin_mode": "cross"})
    assert isinstance(req, BlockRequest)
    assert (req.leverage, req.margin_mode) == (leverage, MarginMode.CROSS)


@pytest.mark.parametrize("raw", ["2.5", "0", "-3", "1001", True, "ten", 2.5])
def test_the_parser_refuses_a_leverage_that_is_not_whole_or_in_range(raw: object) -> None:
    errors = parse_block({**RAW, "leverage": raw})
    assert errors == [
        FieldError("leverage", "Leverage must be a whole number from 1 to 1000 (or empty to keep the venue's).")
    ]


def test_the_parser_refuses_an_unknown_margin_mode() -> None:
    assert parse_block({**RAW, "margin_mode": "Isolated"}) == [
        FieldError("margin_mode", "Margin mode must be one of: isolated, cross.")
    ]

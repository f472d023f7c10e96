"""The one parser of trade blocks (engine.blocks.parse) rule by rule, the engine's own bounds behind
it, and a fuzz of both on the real database: no exception but a refusal, nothing coerced, nothing
written for a refused block."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from db.enums import EntryType, Side, SizeMode
from engine.blocks.api import (
    MAX_MINUTES,
    BlockPreview,
    BlockRejected,
    BlockRequest,
    FieldError,
    TargetSpec,
    parse_account_id,
    parse_block,
    preview_block,
    submit_block,
)
from engine.blocks.plan import plan_block, preview
from engine.exchanges.api import MarketInfo
from engine.runtime import Runtime
from tests.helpers.raw_blocks import PLACEABLE, SYMBOL, raw_blocks
from tests.helpers.trading import PathFeed, block_of, counts, setup

D = Decimal
GOOD: dict[str, Any] = {
    "symbol": "SOL/USDT",
    "side": "long",
    "entry_type": "limit",
    "entry_price": "100",
    "stop_price": 95,
    "target_prices": [105, "110"],
    "target_shares": [60, "40"],
    "size_mode": "base",
    "size_value": 0.5,
    "breakeven": True,
    "entry_timeout_min": 5,
    "max_duration_min": "60",
}
SPOT = MarketInfo(
    exchange="demo", symbol="SOL/USDT", base="SOL", quote="USDT", type="spot", active=True,
    price_tick=D("0.01"), amount_tick=D("0.001"), min_amount=None, max_amount=None, min_price=None,
    max_price=None, min_cost=None, can_short=False,
)  # fmt: skip


def parsed(**changes: Any) -> BlockRequest:
    result = parse_block({**GOOD, **changes})
    assert isinstance(result, BlockRequest), result
    return result


def refused(**changes: Any) -> list[FieldError]:
    result = parse_block({**GOOD, **changes})
    assert isinstance(result, list), result
    return result


def fields(**changes: Any) -> list[str]:
    return [e.field for e in refused(**changes)]


def test_a_good_form_becomes_exactly_its_request() -> None:
    assert parsed() == BlockRequest(
        symbol="SOL/USDT",
        side=Side.LONG,
        entry_type=EntryType.LIMIT,
        entry_price=D("100"),
        stop_price=D("95"),
        targets=(TargetSpec(D("105"), D("0.6")), TargetSpec(D("110"), D("0.4"))),
        size_mode=SizeMode.BASE,
        size_value=D("0.5"),
        breakeven_after_first_target=True,
        entry_timeout_s=300,
        max_duration_s=3600,
    )


@pytest.mark.parametrize("raw", ["SHORT", "Short", " short", "", None, 1, True, ["short"], "short\x00"])
def test_side_is_taken_by_its_exact_value_only(raw: Any) -> None:
    assert refused(side=raw) == [FieldError("side", "Side must be one of: long, short.")]
    assert parsed(side="short").side is Side.SHORT


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("entry_type", "LIMIT"),
        ("entry_type", "oco"),
        ("entry_type", None),
        ("size_mode", "BASE"),
        ("size_mode", "lots"),
    ],
)
def test_unknown_entry_types_and_size_modes_are_refused_not_defaulted(field: str, raw: Any) -> None:
    assert fields(**{field: raw}) == [field]


@pytest.mark.parametrize(
    "raw",
    ["NaN", "inf", "-Infinity", float("nan"), float("inf"), True, [100], {"v": 1}, "abc", "1_000", "0x10", " ", "١٠٠"],
)
def test_a_price_must_be_a_plain_finite_number(raw: Any) -> None:
    assert refused(stop_price=raw) == [FieldError("stop_price", "Stop price must be a number.")]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1e58", "Entry price must be at most 1000000000000000."),
        (1e100, "Entry price must be at most 1000000000000000."),
        (10**30, "Entry price must be at most 1000000000000000."),
        ("0.0000000000000000001", "Entry price may have at most 18 decimals."),
        (0, "Entry price must be more than 0."),
        ("-5", "Entry price must be more than 0."),
        ("1" * 65, "Entry price must be a number."),
    ],
)
def test_a_price_must_fit_the_bounds_of_both_databases(raw: Any, message: str) -> None:
    assert refused(entry_price=raw) == [FieldError("entry_price", message)]
    assert parsed(entry_price="1e15").entry_price == D("1e15")
    assert parsed(entry_price="0.000000000000000001").entry_price == D("1e-18")


@pytest.mark.parametrize(("raw", "number"), [("0,05", "0.05"), (" 0,05 ", "0.05"), (",5", "0.5"), ("0,500", "0.5"),
                                             ("1234,5", "1234.5"), ("12,3456", "12.3456")])  # fmt: skip
def test_a_lone_decimal_comma_is_read_as_the_decimal_point(raw: str, number: str) -> None:
    """ "0,05" is 0.05 in every field that takes a number, never 005 (the comma dropped: 100x the size)."""
    shares = ["60,5", 39.5]
    req = parsed(size_value=raw, entry_price=raw, stop_price=raw, target_prices=[raw, raw], target_shares=shares)
    assert req.size_value == req.entry_price == req.stop_price == D(number)
    assert [t.price for t in req.targets] == [D(number)] * 2
    assert [t.share for t in req.targets] == [D("0.605"), D("0.395")]


@pytest.mark.parametrize("raw", ["1,000", "12,500", "-1,000", "999,999"])
def test_a_comma_a_thousands_separator_could_have_written_is_refused_with_both_readings(raw: str) -> None:
    whole, decimals = raw.split(",")
    assert refused(size_value=raw) == [
        FieldError(
            "size_value",
            f'Size "{raw}" could mean {whole}{decimals} or {whole}.{decimals}: '
            "write it with a point for decimals and no thousands separator.",
        )
    ]
    assert fields(entry_timeout_min=raw) == ["entry_timeout_s"]


@pytest.mark.parametrize("raw", ["1,000.5", "1.000,5", "1,000,000", "1,2,3", "5,", ",", "1,5e3", "0,,5"])
def test_other_commas_are_refused_never_dropped(raw: str) -> None:
    message = f'Stop price "{raw}" is not a number: write it without thousands separators, with a point for decimals.'
    assert refused(stop_price=raw) == [FieldError("stop_price", message)]
    assert fields(target_prices=[raw, 110]) == ["targets[0].price"]
    assert "write it without thousands separators" in refused(max_duration_min=raw)[0].message


def test_empty_values_are_left_for_the_planner_to_name() -> None:
    req = parsed(entry_price="", stop_price=None, size_value="", entry_timeout_min="", max_duration_min=None)
    assert (req.entry_price, req.stop_price, req.size_value, req.entry_timeout_s, req.max_duration_s) == ((None,) * 5)


@pytest.mark.parametrize("raw", [0, -1, 5.5, "5.5", "1e20", 1e20, MAX_MINUTES + 1, True, "abc", [5], "NaN"])
def test_minutes_are_whole_and_at_most_ten_years(raw: Any) -> None:
    assert refused(entry_timeout_min=raw) == [
        FieldError(
            "entry_timeout_s",
            f"Entry timeout must be a whole number of minutes from 1 to {MAX_MINUTES} (or empty for none).",
        )
    ]
    assert fields(max_duration_min=raw) == ["max_duration_s"]
    assert parsed(entry_timeout_min=MAX_MINUTES).entry_timeout_s == MAX_MINUTES * 60
    assert parsed(entry_timeout_min=7.0).entry_timeout_s == 420


def test_target_prices_and_shares_of_different_lengths_are_refused() -> None:
    assert refused(target_prices=[105, 110, 115], target_shares=[100]) == [
        FieldError("targets", "3 target prices but 1 shares: give one share per target.")
    ]
    assert fields(target_prices="105", target_shares=[None]) == ["targets"]
    assert fields(target_prices=[str(101 + i) for i in range(11)], target_shares=[None] * 11) == ["targets"]


def test_shares_are_percents_above_0_and_at_most_100() -> None:
    assert [t.share for t in parsed(target_shares=[None, None]).targets] == [None, None]
    assert fields(target_shares=[0, 100]) == ["targets[0].share"]
    assert fields(target_shares=["NaN", 150]) == ["targets[0].share", "targets[1].share"]
    assert fields(target_prices=["1e58", 110]) == ["targets[0].price"]


@pytest.mark.parametrize("raw", ["true", 1, 0, "", [True]])
def test_breakeven_is_on_or_off(raw: Any) -> None:
    assert fields(breakeven=raw) == ["breakeven"]
    assert parsed(breakeven=None).breakeven_after_first_target is False


@pytest.mark.parametrize("raw", ["SOL/USDT\x00", "SOL/\nUSDT", "", " SOL/USDT", "S" * 65, None, 7, ["SOL/USDT"]])
def test_a_symbol_is_bounded_text_without_control_characters(raw: Any) -> None:
    assert fields(symbol=raw) == ["symbol"]


def test_every_wrong_field_is_named_once() -> None:
    got = fields(side="LONG", entry_price="nan", stop_price=[1], size_mode="", breakeven="x", entry_timeout_min=0)
    assert got == ["side", "entry_price", "stop_price", "size_mode", "breakeven", "entry_timeout_s"]


@pytest.mark.parametrize(("raw", "expected"), [(3, 3), ("3", 3), (True, None), (1.9, None), ("1.9", None),
                                               ("", None), (None, None), (-1, None), ("٣", None)])  # fmt: skip
def test_account_ids_are_whole_numbers_only(raw: Any, expected: int | None) -> None:
    assert parse_account_id(raw) == expected


# --- the engine's own bounds, for requests that did not come through the parser ---

LONG = BlockRequest(
    "SOL/USDT", Side.LONG, EntryType.LIMIT, D(100), D(95), (TargetSpec(D(105)),), SizeMode.BASE, D(1)
)  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"entry_price": D("1e58")}, "entry_price"),
        ({"stop_price": D("1e100")}, "stop_price"),
        ({"targets": (TargetSpec(D("1e58")),)}, "targets[0].price"),
        ({"size_value": D("1e20")}, "size_value"),
        ({"entry_timeout_s": 10**20}, "entry_timeout_s"),
        ({"max_duration_s": 1.5}, "max_duration_s"),
        ({"reference_price": D("NaN")}, "entry_price"),
        ({"entry_type": EntryType.STOP, "reference_price": D("NaN")}, "entry_price"),
        ({"symbol": "SOL/USDT\x00"}, "symbol"),
        ({"side": "short"}, "side"),
        ({"targets": (TargetSpec(D(105), D(2)),)}, "targets[0].share"),
    ],
)
def test_the_planner_refuses_out_of_range_values_with_field_errors(changes: dict, field: str) -> None:
    req = replace(LONG, **changes)
    with pytest.raises(BlockRejected) as info:
        plan_block(req, SPOT, D(10_000), D(10_000))
    assert [e.field for e in info.value.errors] == [field]
    shown = preview(req, SPOT, D(10_000))
    assert [e.field for e in shown.errors] == [field]


def test_a_size_whose_money_the_database_cannot_hold_is_refused() -> None:
    huge = replace(LONG, size_mode=SizeMode.QUOTE, size_value=D("1e15"), entry_price=D("0.000001"),
                   stop_price=D("0.0000005"), targets=(TargetSpec(D("0.000002")),))  # fmt: skip
    market = replace(SPOT, price_tick=None, amount_tick=None)
    with pytest.raises(BlockRejected) as info:
        plan_block(huge, market, D(10**20), D(10**20))
    assert [e.field for e in info.value.errors] == ["size_value"]
    assert "beyond the largest size" in info.value.errors[0].message


# --- fuzz on the real database (SQLite, and PostgreSQL when DATABASE_URL says so) ---


@pytest.fixture
def desk(runtime: Runtime) -> tuple[int, int]:
    feed = PathFeed("101")
    feed.flat("101", 2)
    return setup(runtime, feed, balance="1000000")


def _check_submit(runtime: Runtime, user: int, account: int, req: BlockRequest) -> bool:
    """preview and submit answer with figures or field errors; a refused block writes nothing, a
    placed one is stored as requested. Whether it was placed."""
    shown = preview_block(runtime, user, account, req)
    assert isinstance(shown, BlockPreview)
    before = counts(runtime.sessions)
    try:
        block_id = submit_block(runtime, user, account, req, drive=False)
    except BlockRejected as exc:
        rejected = exc
    else:
        rejected = None
    if rejected is not None:
        assert rejected.errors
        assert counts(runtime.sessions) == before
        return False
    block = block_of(runtime.sessions, block_id)
    assert (block.symbol, block.side, block.entry_type, block.size_mode, block.size_value) == (
        req.symbol,
        req.side,
        req.entry_type,
        req.size_mode,
        req.size_value,
    )
    assert (block.entry_timeout_s, block.max_duration_s, block.breakeven_after_first) == (
        req.entry_timeout_s,
        req.max_duration_s,
        req.breakeven_after_first_target,
    )
    assert counts(runtime.sessions)[1] == before[1] + len(req.targets)
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=raw_blocks())
@example(case=PLACEABLE)  # every run places at least this block
def test_fuzz_the_parser_and_the_engine_on_the_database(runtime: Runtime, desk: tuple[int, int], case: Any) -> None:
    result = parse_block(case.raw)
    if case.bad_fields:
        assert isinstance(result, list)
        named = [e.field for e in result]
        assert sorted(named) == sorted(case.bad_fields)  # each wrong field, once, and no other
        return
    assert result == case.intended  # nothing coerced
    assert _check_submit(runtime, *desk, result) or case is not PLACEABLE


_WILD_DECIMALS = st.one_of(
    st.none(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([D("1e58"), D("1e100"), D("-1"), D(0), D("1e-30"), D("100"), D("95"), D("105"), D("NaN")]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entry=_WILD_DECIMALS,
    stop=_WILD_DECIMALS,
    target=_WILD_DECIMALS,
    share=st.one_of(st.none(), _WILD_DECIMALS),
    size=_WILD_DECIMALS,
    reference=_WILD_DECIMALS,
    timeout=st.one_of(st.none(), st.integers(-(2**70), 2**70)),
    symbol=st.one_of(st.just(SYMBOL), st.text(max_size=80)),
    entry_type=st.sampled_from(list(EntryType)),
)
def test_fuzz_requests_built_by_hand_are_refused_by_the_engine_not_raised(
    runtime: Runtime, desk: tuple[int, int], entry, stop, target, share, size, reference, timeout, symbol, entry_type
) -> None:
    req = BlockRequest(
        symbol, Side.LONG, entry_type, entry, stop, (TargetSpec(target, share),), SizeMode.BASE, size,
        entry_timeout_s=timeout, reference_price=reference,
    )  # fmt: skip
    try:
        plan_block(req, SPOT, D(10_000), D(10_000))
    except BlockRejected as exc:
        errors = exc.errors
    else:
        errors = ("planned",)
    assert errors  # a plan, or a refusal with at least one field error
    preview(req, SPOT, D(10_000))
    _check_submit(runtime, *desk, req)

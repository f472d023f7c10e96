"""Rounding to market precision: directions, odd ticks, exactness, and bad input."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.common.precision import (
    RoundMode,
    divide,
    format_balance,
    format_money,
    format_number,
    is_multiple_of_tick,
    quantize_to_tick,
    round_amount,
    round_price,
    to_decimal,
)

D = Decimal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0.1", D("0.1")), (0.1, D("0.1")), (3, D(3)), (D("2.50"), D("2.50")), (" 7.25 ", D("7.25")), (1e-8, D("1E-8"))],
)
def test_to_decimal(raw, expected: Decimal) -> None:
    assert to_decimal(raw) == expected


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity", float("nan"), float("inf"), D("NaN"), "abc", "", True])
def test_to_decimal_refuses(bad) -> None:
    with pytest.raises(ValueError, match="number"):
        to_decimal(bad)


def test_to_decimal_refuses_other_types() -> None:
    with pytest.raises(TypeError):
        to_decimal([1])  # type: ignore[arg-type]


def test_round_amount_goes_down() -> None:
    assert round_amount(D("1.2399"), D("0.01")) == D("1.23")
    assert str(round_amount(D("20"), D("0.001"))) == "20.000"  # keeps the tick's exponent, no 2E+1
    assert round_amount(D("7.9"), D("0.5")) == D("7.5")
    assert round_amount(D("149"), D("25")) == D(125)
    assert round_amount(D("0.0009"), D("0.001")) == 0
    assert round_amount(D("1.23456789"), None) == D("1.23456789")


def test_round_price_modes() -> None:
    assert round_price(D("100.005"), D("0.01")) == D("100.01")  # half rounds up
    assert round_price(D("100.004"), D("0.01")) == D("100.00")
    assert round_price(D("100.001"), D("0.01"), RoundMode.UP) == D("100.01")
    assert round_price(D("100.009"), D("0.01"), RoundMode.DOWN) == D("100.00")
    assert round_price(D("101.3"), D("0.5")) == D("101.5")
    assert round_price(D("101.2"), D("0.5")) == D("101.0")
    assert round_price(D("1.5"), None, RoundMode.UP) == D("1.5")


def test_quantize_is_exact_far_beyond_28_digits() -> None:
    # 1e10 / 1e-18 has 29 digits: the default decimal context would round it.
    value = D("9999999999.999999999999999999")
    assert round_amount(value, D("1E-18")) == D("9999999999.999999999999999999")
    assert round_amount(value + D("1E-19"), D("1E-18")) == value


def test_bad_ticks_are_refused() -> None:
    for tick in (D(0), D(-1), D("NaN")):
        with pytest.raises(ValueError, match="tick size"):
            round_amount(D(1), tick)


def test_is_multiple_of_tick() -> None:
    assert is_multiple_of_tick(D("1.25"), D("0.05"))
    assert not is_multiple_of_tick(D("1.26"), D("0.05"))
    assert is_multiple_of_tick(D("1.26"), None)


def test_divide_directions() -> None:
    assert divide(D(1), D(3), RoundMode.DOWN) < divide(D(1), D(3), RoundMode.UP)
    assert divide(D(2), D(3), RoundMode.NEAREST) == divide(D(2), D(3), RoundMode.UP)
    with pytest.raises(ZeroDivisionError):
        divide(D(1), D(0), RoundMode.DOWN)


amounts = st.decimals(min_value=D(0), max_value=D("1e9"), places=12, allow_nan=False, allow_infinity=False)
ticks = st.sampled_from([D("1E-8"), D("0.001"), D("0.01"), D("0.5"), D(1), D(25), D("0.00025")])


@given(amounts, ticks)
def test_round_amount_never_increases_and_lands_on_the_grid(amount: Decimal, tick: Decimal) -> None:
    rounded = round_amount(amount, tick)
    assert rounded <= amount
    assert amount - rounded < tick
    assert is_multiple_of_tick(rounded, tick)


@given(amounts, ticks)
def test_round_price_nearest_is_within_half_a_tick(price: Decimal, tick: Decimal) -> None:
    rounded = round_price(price, tick)
    assert abs(rounded - price) <= tick / 2
    assert is_multiple_of_tick(rounded, tick)
    assert round_price(price, tick, RoundMode.DOWN) <= price <= round_price(price, tick, RoundMode.UP)
    assert quantize_to_tick(price, tick, ROUND_CEILING) == round_price(price, tick, RoundMode.UP)


@pytest.mark.parametrize(
    ("value", "step", "mode", "shown"),
    [
        (D("33249000000000"), None, RoundMode.NEAREST, "33,249,000,000,000"),
        (D("8999.0182846664"), D("0.01"), RoundMode.DOWN, "8,999.01"),
        (D("8999.0112846664"), D("0.01"), RoundMode.UP, "8,999.02"),
        (D("100.1"), D("0.01"), RoundMode.NEAREST, "100.10"),  # the market's precision
        (D("1E+2"), None, RoundMode.NEAREST, "100"),
        (D("0.00050"), None, RoundMode.NEAREST, "0.0005"),
        (D("1234.25"), D("0.5"), RoundMode.NEAREST, "1,234.5"),
    ],
)
def test_numbers_for_people_have_separators_and_the_steps_decimals(
    value: Decimal, step: Decimal | None, mode: RoundMode, shown: str
) -> None:
    assert format_number(value, step, mode) == shown


def test_money_is_in_cents() -> None:
    assert format_money(D("8999.0182846664")) == "8,999.02"
    assert format_money(D("8999.0182846664"), RoundMode.DOWN) == "8,999.01"
    assert format_money(D(0)) == "0.00"


def test_a_tick_with_trailing_zeros_shows_its_own_decimals() -> None:
    from engine.common.precision import format_number

    assert format_number(Decimal("35000.123"), Decimal("0.010000000000000000")) == "35,000.12"


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        ("8033.1367680664", "USDT", "8,033.14 USDT"),  # seen on Settings as 8,033.1367680664 USDT
        ("12500.5", "usd", "12,500.50 usd"),
        ("0.012300000000000000", "BTC", "0.0123 BTC"),  # PostgreSQL's scale dropped, not read as 0.00
        ("0.000000004", "BTC", "0 BTC"),
        ("1234.567891234", "SOL", "1,234.56789123 SOL"),
    ],
)
def test_balances_read_in_cents_for_cash_and_to_the_satoshi_for_coins(value: str, currency: str, shown: str) -> None:
    assert format_balance(Decimal(value), currency) == shown

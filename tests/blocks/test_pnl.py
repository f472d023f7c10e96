"""Realized P&L, R multiples, average prices and break-even stops, with hand-worked numbers."""

from __future__ import annotations

from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.enums import Side
from engine.blocks.pnl import average_price, breakeven_price, r_multiple, realized_pnl

D = Decimal


def test_realized_pnl_long_and_short() -> None:
    # long 0.5 @ 100 -> 110: 5 profit, minus 0.21 fees
    assert realized_pnl(Side.LONG, D(100), D(110), D("0.5"), D("0.21")) == D("4.79")
    # short 2 @ 100 -> 95: 10 profit, minus 0.39
    assert realized_pnl(Side.SHORT, D(100), D(95), D(2), D("0.39")) == D("9.61")
    # a short that went wrong
    assert realized_pnl(Side.SHORT, D("100.5"), D("101.25"), D("0.004"), D(0)) == D("-0.003")
    # the sums are exact: 0.1 + 0.2 style errors cannot creep in
    assert realized_pnl(Side.LONG, D("0.1"), D("0.3"), D(3), D("0.2")) == D("0.4")


def test_realized_pnl_refuses_negative_amounts() -> None:
    with pytest.raises(ValueError, match="negative"):
        realized_pnl(Side.LONG, D(1), D(2), D(-1), D(0))


def test_r_multiple() -> None:
    assert r_multiple(D(50), D(100)) == D("0.5")
    assert r_multiple(D(-100), D(100)) == D(-1)
    assert r_multiple(D(300), D(100)) == D(3)
    assert r_multiple(D(10), D(0)) is None


def test_average_price() -> None:
    assert average_price([(D(100), D(1)), (D(110), D(3))]) == D("107.5")
    assert average_price([(D("0.5"), D(2))]) == D("0.5")
    assert average_price([(D(100), D(0)), (D(90), D(1))]) == D(90)
    with pytest.raises(ValueError, match="no filled amount"):
        average_price([])


def test_breakeven_price() -> None:
    # long @ 100 with 0.1% fees: 100 * 1.001 / 0.999 = 100.2002002..., rounded UP to 100.21
    assert breakeven_price(Side.LONG, D(100), D("0.001"), D("0.01")) == D("100.21")
    # short @ 100: 100 * 0.999 / 1.001 = 99.8001998..., rounded DOWN to 99.80
    assert breakeven_price(Side.SHORT, D(100), D("0.001"), D("0.01")) == D("99.80")
    # no fees: the entry itself
    assert breakeven_price(Side.LONG, D("123.45"), D(0), D("0.05")) == D("123.45")
    with pytest.raises(ValueError, match="fee rate"):
        breakeven_price(Side.LONG, D(100), D(1))


prices = st.decimals(min_value=D("0.0001"), max_value=D(100000), places=4)
rates = st.decimals(min_value=D(0), max_value=D("0.01"), places=5)
ticks = st.sampled_from([None, D("0.0001"), D("0.01"), D("0.5"), D(5)])


@given(st.sampled_from(list(Side)), prices, rates, ticks)
def test_breakeven_exit_never_loses_money(side: Side, entry: Decimal, rate: Decimal, tick: Decimal | None) -> None:
    amount = D(1)
    exit_price = breakeven_price(side, entry, rate, tick)
    with localcontext(Context(prec=200)):  # the fees exactly, whatever digits the break-even price has
        fees = (entry + exit_price) * amount * rate
    assert realized_pnl(side, entry, exit_price, amount, fees) >= 0

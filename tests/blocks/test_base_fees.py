"""Fees charged in the base coin (a spot buy on Binance without BNB): their quote value, and the amount a
long then holds, protects and sells (engine.blocks.pnl.fee_parts, engine.blocks.views, engine.blocks.rules). Pure."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.enums import BlockStatus, CloseReason, OrderRole, OrderStatus, OrderType, ProtectionMode, Side, TradeStatus
from engine.blocks.pnl import FeeParts, fee_parts
from engine.blocks.rules import CloseTrade, PlaceOrder, decide
from engine.blocks.views import BlockView, OrderView, TradeView, fill_pnl, held_amount, settle_trade
from engine.common.precision import is_multiple_of_tick

D = Decimal
OS, R, S, T = OrderStatus, OrderRole, OrderType, TradeStatus
STEP = D("0.001")  # LTC/USDT's amount step on binance


# --- fee_parts: the one conversion ---


def test_a_quote_fee_is_itself() -> None:
    assert fee_parts(D("0.1"), "USDT", "LTC/USDT", D(100)) == FeeParts(quote=D("0.1"))


def test_a_base_fee_is_worth_fee_times_price_and_shrinks_a_spot_position() -> None:
    parts = fee_parts(D("0.00125"), "LTC", "LTC/USDT", D("99.37"))
    assert parts == FeeParts(quote=D("0.1242125"), base=D("0.00125"))  # exact: 0.00125 x 99.37


def test_a_base_fee_on_a_derivative_is_valued_but_takes_nothing_from_the_position() -> None:
    assert fee_parts(D("0.001"), "BTC", "BTC/USD:BTC", D(50000)) == FeeParts(quote=D(50))


def test_a_third_currency_is_kept_apart_not_guessed() -> None:
    assert fee_parts(D("0.00020833"), "BNB", "LTC/USDT", D(100)) == FeeParts(
        other=D("0.00020833"), other_currency="BNB"
    )


def test_no_currency_or_an_unknown_symbol_counts_as_quote_and_zero_is_nothing() -> None:
    assert fee_parts(D("0.1"), None, "LTC/USDT", D(100)) == FeeParts(quote=D("0.1"))
    assert fee_parts(D("0.1"), "LTC", "weird", D(100)) == FeeParts(quote=D("0.1"))
    assert fee_parts(D(0), "LTC", "LTC/USDT", D(100)) == FeeParts()


def test_a_base_fee_without_a_price_still_shrinks_the_position_but_is_not_valued() -> None:
    assert fee_parts(D("0.001"), "LTC", "LTC/USDT", None) == FeeParts(
        base=D("0.001"), other=D("0.001"), other_currency="LTC"
    )


def test_fee_parts_add_up_and_refuse_two_unvalued_currencies() -> None:
    total = FeeParts(quote=D("0.1"), base=D("0.001")) + FeeParts(quote=D("0.2"), other=D(1), other_currency="BNB")
    assert total == FeeParts(quote=D("0.3"), base=D("0.001"), other=D(1), other_currency="BNB")
    with pytest.raises(ValueError, match="two currencies"):
        total + FeeParts(other=D(1), other_currency="XYZ")


# --- the net amount rule ---


def test_held_amount_is_filled_less_base_fee_rounded_down_to_the_step() -> None:
    assert held_amount(D("1.25"), D("0.00125"), STEP) == D("1.248")  # 1.24875 held; 0.00075 is dust
    assert held_amount(D(1), D("0.001"), STEP) == D("0.999")
    assert held_amount(D(1), D(0), STEP) == D(1)  # no base fee: exactly what filled
    assert held_amount(D("1.25"), D("0.00125"), None) == D("1.24875")  # no published step: exact
    assert held_amount(D("0.001"), D("0.000001"), STEP) == D(0)  # nothing sellable is left


@given(
    steps=st.integers(min_value=1, max_value=10**7),
    step=st.sampled_from([D("0.001"), D("0.01"), D("0.00001"), D(1), D("0.5")]),
    rate=st.decimals(min_value=0, max_value=D("0.01"), places=5),
)
def test_the_protected_amount_never_exceeds_what_is_held_and_sits_on_the_step(
    steps: int, step: Decimal, rate: Decimal
) -> None:
    filled = steps * step
    fee = (filled * rate).quantize(D("0.00000001"))
    protected = held_amount(filled, fee, step)
    assert 0 <= protected <= filled - fee
    assert is_multiple_of_tick(protected, step)
    assert filled - fee - protected < step  # the dust is less than one step


# --- the brackets on a base-fee entry ---


def _order(oid: int, role: OrderRole, status: OrderStatus, amount: str, filled: str = "0", **kw: object) -> OrderView:
    default = {R.ENTRY: S.MARKET, R.SL: S.STOP_MARKET, R.TP: S.MARKET, R.EXIT: S.MARKET}[role]
    average = kw.pop("average", "100" if D(filled) else None)
    return OrderView(
        id=oid,
        role=role,
        type=kw.pop("type_", default),  # type: ignore[arg-type]
        side=kw.pop("side", "buy" if role is R.ENTRY else "sell"),  # type: ignore[arg-type]
        amount=D(amount),
        price=None,
        stop_price=D(kw.pop("stop")) if "stop" in kw else None,  # type: ignore[arg-type]
        status=status,
        filled=D(filled),
        average=D(average) if average else None,  # type: ignore[arg-type]
        **{k: D(v) if k.startswith("fee") and k != "fee_other_currency" else v for k, v in kw.items()},  # type: ignore[arg-type]
    )


def _entry(filled: str = "1.25", fee_base: str = "0.00125", **kw: object) -> OrderView:
    fee = str(D(fee_base) * 100)  # valued at the entry price, 100
    return _order(1, R.ENTRY, kw.pop("status", OS.FILLED), "1.25", filled, fee=fee, fee_base=fee_base, **kw)  # type: ignore[arg-type]


def _trade(*orders: OrderView, status: TradeStatus = T.OPEN, reason: CloseReason | None = None) -> TradeView:
    return TradeView(10, 0, status, D("1.25"), D(110), D(95), reason, 0, tuple(orders), amount_tick=STEP)


def _block(*trades: TradeView, side: Side = Side.LONG, **kw: object) -> BlockView:
    return BlockView(1, "LTC/USDT", side, ProtectionMode.STOP_RESTS, D(95), BlockStatus.ACTIVE, 0, tuple(trades), **kw)  # type: ignore[arg-type]


def test_a_long_whose_fee_took_the_coin_is_protected_for_what_it_holds() -> None:
    t = _trade(_entry())
    assert (t.entry_fee_base, t.held_amount, t.open_amount) == (D("0.00125"), D("1.248"), D("1.248"))
    [place] = decide(_block(t), 0, D(100))
    assert isinstance(place, PlaceOrder)
    assert (place.role, place.amount, place.stop_price) == (R.SL, D("1.248"), D(95))


def test_a_stop_for_the_gross_amount_is_replaced_by_one_for_the_net() -> None:
    gross = _order(2, R.SL, OS.ACCEPTED, "1.25", stop="95")
    actions = decide(_block(_trade(_entry(), gross)), 0, D(100))
    assert [type(a).__name__ for a in actions] == ["CancelOrder"]
    net = _order(2, R.SL, OS.ACCEPTED, "1.248", stop="95")
    assert decide(_block(_trade(_entry(), net)), 0, D(100)) == []  # the right stop is left alone


def test_a_partial_entry_is_protected_for_its_net_part() -> None:
    t = _trade(_entry(filled="0.5", fee_base="0.0005", status=OS.PARTIALLY_FILLED))
    [place] = decide(_block(t), 0, D(100))
    assert isinstance(place, PlaceOrder)
    assert place.amount == D("0.499")


@pytest.mark.parametrize(
    ("reason", "role"), [(CloseReason.TARGET, R.TP), (CloseReason.CANCEL, R.EXIT), (CloseReason.TIME, R.EXIT)]
)
def test_the_market_exit_sells_the_net_amount(reason: CloseReason, role: OrderRole) -> None:
    t = _trade(_entry(), _order(2, R.SL, OS.CANCELED, "1.248", stop="95"), reason=reason)
    [place] = decide(_block(t), 0, D(100))
    assert isinstance(place, PlaceOrder)
    assert (place.role, place.type, place.side, place.amount) == (role, S.MARKET, "sell", D("1.248"))


def test_a_target_reached_closes_then_the_exit_takes_the_net_amount() -> None:
    t = _trade(_entry(), _order(2, R.SL, OS.ACCEPTED, "1.248", stop="95"))
    actions = decide(_block(t), 0, D(110))
    assert isinstance(actions[0], CloseTrade)
    assert actions[0].reason is CloseReason.TARGET


def test_selling_the_net_amount_closes_the_trade_and_books_the_fills_in_quote() -> None:
    tp = _order(3, R.TP, OS.FILLED, "1.248", "1.248", average="105", fee="0.13104")
    t = _trade(_entry(), _order(2, R.SL, OS.CANCELED, "1.248", stop="95"), tp, reason=CloseReason.TARGET)
    figures = settle_trade(_block(t), t)
    assert (figures.status, figures.close_reason) == (T.CLOSED, CloseReason.TARGET)
    assert figures.fees == D("0.125") + D("0.13104")
    # 1.248 sold at 105 that cost 100; both fees in full (the fee's own coins are never sold).
    assert figures.realized_pnl == D("1.248") * 5 - D("0.13104") - D("0.125")
    assert fill_pnl(Side.LONG, t, D(105), D("1.248"), D("0.13104")) == figures.realized_pnl
    assert figures.fee_note is None


def test_a_partial_exit_carries_its_share_of_the_entry_fee_by_the_held_amount() -> None:
    sl = _order(2, R.SL, OS.PARTIALLY_FILLED, "1.248", "0.624", average="95", fee="0.05928", stop="95")
    t = _trade(_entry(), sl)
    figures = settle_trade(_block(t), t)
    assert figures.status is T.OPEN
    assert t.open_amount == D("0.624")
    assert figures.realized_pnl == D("0.624") * -5 - D("0.05928") - D("0.125") / 2


def test_a_fee_in_bnb_stays_out_of_the_pnl_with_a_note_and_takes_no_coin() -> None:
    entry = _order(1, R.ENTRY, OS.FILLED, "1", "1", fee_other="0.00016667", fee_other_currency="BNB")
    tp = _order(3, R.TP, OS.FILLED, "1", "1", average="105", fee_other="0.000175", fee_other_currency="BNB")
    t = _trade(entry, tp, reason=CloseReason.TARGET)
    assert t.held_amount == D(1)
    figures = settle_trade(_block(t), t)
    assert (figures.status, figures.fees, figures.realized_pnl) == (T.CLOSED, D(0), D(5))
    assert figures.fee_note is not None
    assert "0.00034167 BNB" in figures.fee_note


def test_a_short_is_unchanged_its_sell_entry_never_shrinks() -> None:
    entry = _order(1, R.ENTRY, OS.FILLED, "1", "1", side="sell", fee="0.1", fee_base="0.001")
    t = TradeView(10, 0, T.OPEN, D(1), D(90), D(105), None, 0, (entry,), amount_tick=STEP)
    assert (t.entry_fee_base, t.held_amount) == (D(0), D(1))
    [place] = decide(_block(t, side=Side.SHORT), 0, D(100))
    assert isinstance(place, PlaceOrder)
    assert place.amount == D(1)

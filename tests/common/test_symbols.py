"""engine.common.symbols: the one parser of ccxt unified symbols."""

from __future__ import annotations

import pytest

from engine.common.symbols import Symbol, SymbolError, parse_symbol, split_symbol


def test_unified_symbols_parse_into_base_quote_and_settle() -> None:
    assert parse_symbol("LTC/USDT") == Symbol("LTC", "USDT", None)
    assert parse_symbol("BTC/USDT:USDT") == Symbol("BTC", "USDT", "USDT")
    assert parse_symbol("BTC/USDT:USDT-250328") == Symbol("BTC", "USDT", "USDT")
    assert split_symbol("ETH/BTC:BTC") == ("ETH", "BTC")


@pytest.mark.parametrize("bad", ["LTCUSDT", "/USDT", "BTC/", "BTC/USDT:", "A/B/C", ""])
def test_anything_else_is_refused(bad: str) -> None:
    with pytest.raises(SymbolError, match="BASE/QUOTE"):
        parse_symbol(bad)

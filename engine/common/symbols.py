"""ccxt unified symbols, parsed in one place: 'BTC/USDT' (spot), 'BTC/USDT:USDT' (a perpetual
settled in USDT), 'BTC/USDT:USDT-250328' (a dated future)."""

from __future__ import annotations

from typing import NamedTuple


class SymbolError(ValueError):
    """Not a ccxt unified symbol (BASE/QUOTE, optionally :SETTLE)."""


class Symbol(NamedTuple):
    base: str
    quote: str
    settle: str | None  # None on spot


def parse_symbol(symbol: str) -> Symbol:
    """The parts of a unified symbol; SymbolError when it is not of that form."""
    base, sep, rest = symbol.partition("/")
    quote, colon, settle = rest.partition(":")
    settle = settle.split("-", 1)[0]  # dated futures: 'BTC/USDT:USDT-250328'
    if not sep or not base or not quote or "/" in quote or (colon and not settle):
        raise SymbolError(f"symbol {symbol!r} is not of the form BASE/QUOTE")
    return Symbol(base, quote, settle or None)


def is_contract(symbol: str) -> bool:
    """Whether the symbol names a perpetual or a future (it has a settle currency); False for spot
    and for what is not a unified symbol."""
    try:
        return parse_symbol(symbol).settle is not None
    except SymbolError:
        return False


def split_symbol(symbol: str) -> tuple[str, str]:
    """(base, quote) of a unified symbol: 'BTC/USDT:USDT' -> ('BTC', 'USDT')."""
    parsed = parse_symbol(symbol)
    return parsed.base, parsed.quote

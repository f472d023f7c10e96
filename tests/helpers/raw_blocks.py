"""Hypothesis strategies of raw trade-block input (what a form or a crafted request may send), each
value drawn with what it should become: the intended value, or BAD (the parser must refuse that
field). `raw_blocks()` draws a whole form and the fields that must come back as errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from db.enums import EntryType, Side, SizeMode
from engine.blocks.api import MAX_MINUTES, BlockRequest, TargetSpec

BAD = object()
SYMBOL = "SOL/USDT"  # a demo market, so accepted requests reach the planner

# Values no field may take: wrong types, text that only looks like a number, out of the bounds.
_JUNK = [True, False, [], [1], {}, {"a": 1}, "abc", " ", "1_000", "0x10", "1,000", "1,000.5", "1.000,5",
         "1,2,3", "5,", "\x00", "1\x00"]  # fmt: skip
_BAD_NUMBERS = [*_JUNK, "NaN", "nan", "inf", "-inf", "Infinity", float("nan"), float("inf"), "-1", -3, 0, "0", "1e58",
                "1e100", 1e58, 1e100, "1e16", 10**30, "1e-19", "0.0000000000000000001", "1" * 70]  # fmt: skip


def _pair(raw: Any, intended: Any) -> tuple[Any, Any]:
    return raw, intended


def _choice(kind: type[Side] | type[EntryType] | type[SizeMode], clean: bool) -> st.SearchStrategy[tuple[Any, Any]]:
    good = st.sampled_from(list(kind)).map(lambda m: _pair(m.value, m))
    if clean:
        return good
    bad_texts = [m.value.upper() for m in kind] + [m.value.title() for m in kind] + [f" {m.value}" for m in kind]
    bad = st.sampled_from([*bad_texts, "", None, 1, *_JUNK]).map(lambda raw: _pair(raw, BAD))
    return st.one_of(good, bad)


def _written(value: Decimal) -> st.SearchStrategy[Any]:
    """`value` as a form may send it: text, an int when whole, a float when that is exact."""
    forms: list[Any] = [str(value), format(value, "f")]
    if value == value.to_integral_value():
        forms.append(int(value))
    if Decimal(str(float(value))) == value:
        forms.append(float(value))
    comma = format(value, "f").replace(".", ",")
    if "," in comma and not re.fullmatch(r"[1-9][0-9]{0,2},[0-9]{3}", comma):  # a lone decimal comma reads as the point
        forms.append(comma)
    return st.sampled_from(forms)


def numbers(good: list[str], clean: bool) -> st.SearchStrategy[tuple[Any, Any]]:
    """A money field: one of `good` in some spelling, empty (None), or a bad value."""
    given = st.sampled_from([Decimal(g) for g in good]).flatmap(lambda d: _written(d).map(lambda raw: _pair(raw, d)))
    if clean:
        return given
    empty = st.sampled_from([None, ""]).map(lambda raw: _pair(raw, None))
    bad = st.sampled_from(_BAD_NUMBERS).map(lambda raw: _pair(raw, BAD))
    return st.one_of(given, given, empty, bad)


def minutes(clean: bool) -> st.SearchStrategy[tuple[Any, Any]]:
    """A duration in minutes -> the seconds it becomes."""
    whole = st.integers(1, MAX_MINUTES).flatmap(
        lambda m: st.sampled_from([m, str(m), float(m)]).map(lambda raw: _pair(raw, m * 60))
    )
    empty = st.sampled_from([None, ""]).map(lambda raw: _pair(raw, None))
    if clean:
        return st.one_of(whole, empty)
    bad = st.sampled_from(
        [*_BAD_NUMBERS, 5.5, "5.5", 1e20, "1e20", MAX_MINUTES + 1, str(MAX_MINUTES + 1), -5, 2**31]
    ).map(lambda raw: _pair(raw, BAD))
    return st.one_of(whole, empty, bad)


def flags(clean: bool) -> st.SearchStrategy[tuple[Any, Any]]:
    good = st.sampled_from([(None, False), (True, True), (False, False)])
    if clean:
        return good
    bad = st.sampled_from(["true", "on", 1, 0, "", [True]]).map(lambda raw: _pair(raw, BAD))
    return st.one_of(good, good, bad)


def symbols(clean: bool) -> st.SearchStrategy[tuple[Any, Any]]:
    if clean:
        return st.just((SYMBOL, SYMBOL))
    bad = st.sampled_from(["SOL/USDT\x00", "", "\n", "SOL/\tUSDT", " SOL/USDT", "A" * 65, None, 5, ["SOL/USDT"]])
    return st.one_of(st.just((SYMBOL, SYMBOL)), st.just((SYMBOL, SYMBOL)), bad.map(lambda raw: _pair(raw, BAD)))


_PRICES = ["90", "95", "99.5", "100", "100.25", "105", "110", "0.5"]
_SHARES = ["50", "25", "75", "100", "33.5", "66.5"]


# Well-formed blocks the planner accepts too: the stop and the targets on the right sides, in order.
_LAYOUTS = {
    Side.LONG: (["90", "95", "99.5"], ["100.25", "105", "110", "120"]),
    Side.SHORT: (["105", "110"], ["99.5", "95", "90", "80"]),
}
_SPLITS = {1: [["100"]], 2: [["50", "50"], ["25", "75"]], 3: [["33.5", "33", "33.5"]], 4: [["25"] * 4]}


def _spelled(value: str) -> st.SearchStrategy[tuple[Any, Any]]:
    return _written(Decimal(value)).map(lambda raw: _pair(raw, Decimal(value)))


@st.composite
def _placeable(draw: st.DrawFn, side: Side, count: int) -> tuple[Any, Any, list, list]:
    """(entry, stop, target prices, shares) as (raw, intended) pairs that make a valid block for `side`."""
    stops, targets = _LAYOUTS[side]
    entry = draw(_spelled("100"))
    stop = draw(st.sampled_from(stops).flatmap(_spelled))
    chosen = sorted(draw(st.sets(st.sampled_from(targets), min_size=count, max_size=count)), key=targets.index)
    prices = [draw(_spelled(t)) for t in chosen]
    split = draw(st.sampled_from([None, *_SPLITS[count]]))
    shares = [(None, None)] * count if split is None else [draw(_spelled(p)) for p in split]
    return entry, stop, prices, shares


@dataclass(frozen=True)
class RawBlock:
    raw: dict[str, Any]  # the parser's input (keys: engine.blocks.parse.FIELDS)
    bad_fields: frozenset[str]  # the fields the parser must name, and only those
    intended: BlockRequest | None  # what it must return when bad_fields is empty


@st.composite
def raw_blocks(draw: st.DrawFn, fuzz_symbol: bool = True) -> RawBlock:
    """Half of the forms are well formed (so that blocks get planned and placed), half have bad fields.
    `fuzz_symbol` False keeps the symbol SOL/USDT (the form's symbol is the chart's, read on the server)."""
    clean = draw(st.booleans())
    fields = {
        "symbol": draw(symbols(clean or not fuzz_symbol)),
        "side": draw(_choice(Side, clean)),
        "entry_type": draw(_choice(EntryType, clean)),
        "entry_price": draw(numbers(_PRICES, clean=False)),
        "stop_price": draw(numbers(_PRICES, clean=False)),
        "size_mode": draw(_choice(SizeMode, clean)),
        "size_value": draw(numbers(["0.5", "1", "2", "5"], clean)),
        "breakeven": draw(flags(clean)),
        "entry_timeout_min": draw(minutes(clean)),
        "max_duration_min": draw(minutes(clean)),
    }
    count = draw(st.integers(1, 4))
    if clean:
        entry, stop, prices, shares = draw(_placeable(fields["side"][1], count))
        fields["entry_price"], fields["stop_price"] = entry, stop
    else:
        prices = [draw(numbers(_PRICES, clean)) for _ in range(count)]
        shares = draw(
            st.one_of(
                st.just([(None, None)] * count),
                st.lists(numbers(_SHARES, clean), min_size=count, max_size=count),
                st.lists(numbers(_SHARES, clean), max_size=5).filter(lambda s: len(s) != count),
            )
        )
    names = {"entry_timeout_min": "entry_timeout_s", "max_duration_min": "max_duration_s"}
    bad = {names.get(k, k) for k, (_, intended) in fields.items() if intended is BAD}
    if len(shares) != len(prices):
        bad.add("targets")
    else:
        for i, ((_, price), (_, share)) in enumerate(zip(prices, shares, strict=True)):
            if price is BAD:
                bad.add(f"targets[{i}].price")
            if share is BAD:
                bad.add(f"targets[{i}].share")
    raw = {k: v[0] for k, v in fields.items()}
    raw["target_prices"] = [p[0] for p in prices]
    raw["target_shares"] = [s[0] for s in shares]
    intended = None
    if not bad:
        value = {k: v[1] for k, v in fields.items()}
        intended = BlockRequest(
            symbol=value["symbol"],
            side=value["side"],
            entry_type=value["entry_type"],
            entry_price=value["entry_price"],
            stop_price=value["stop_price"],
            targets=tuple(
                TargetSpec(p[1], None if s[1] is None else s[1] / 100) for p, s in zip(prices, shares, strict=True)
            ),
            size_mode=value["size_mode"],
            size_value=value["size_value"],
            breakeven_after_first_target=value["breakeven"],
            entry_timeout_s=value["entry_timeout_min"],
            max_duration_s=value["max_duration_min"],
        )
    return RawBlock(raw, frozenset(bad), intended)


# A form the demo SOL/USDT market (about 95.6) accepts: a limit long with two targets split 25/75.
PLACEABLE = RawBlock(
    raw={
        "symbol": SYMBOL, "side": "long", "entry_type": "limit", "entry_price": 100, "stop_price": "90",
        "target_prices": [105.5, "110"], "target_shares": ["25", 75.0], "size_mode": "base", "size_value": "1.5",
        "breakeven": True, "entry_timeout_min": "30", "max_duration_min": 1440.0,
    },
    bad_fields=frozenset(),
    intended=BlockRequest(
        SYMBOL, Side.LONG, EntryType.LIMIT, Decimal(100), Decimal(90),
        (TargetSpec(Decimal("105.5"), Decimal("0.25")), TargetSpec(Decimal(110), Decimal("0.75"))),
        SizeMode.BASE, Decimal("1.5"), breakeven_after_first_target=True, entry_timeout_s=1800, max_duration_s=86400,
    ),
)  # fmt: skip

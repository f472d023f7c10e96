"""engine.blocks.parse_amend: raw values from the dialog or the REST API -> a BlockAmend, or a message
per wrong field, by the block parser's number rules."""

from __future__ import annotations

import pytest

from engine.blocks.amend_plan import BlockAmend, NewTarget
from engine.blocks.parse_amend import parse_amend
from tests.helpers.trading import D


def test_every_part_is_read_exactly() -> None:
    raw = {
        "stop_price": "97,5",  # a lone decimal comma is the point
        "stop_target": "1",
        "targets": [{"index": 0, "price": 104}, {"index": "2", "price": "110.25"}],
        "add_target_price": "120",
        "add_target_share": "25",
        "remove_target": 3,
        "size": 0.1,
    }
    assert parse_amend(raw) == BlockAmend(
        stop_price=D("97.5"),
        stop_trade=1,
        targets=((0, D("104")), (2, D("110.25"))),
        add_target=NewTarget(D("120"), D("0.25")),
        remove_target=3,
        size=D("0.1"),
    )


def test_empty_values_leave_everything_alone() -> None:
    change = parse_amend({"stop_price": "", "targets": [], "size": None, "remove_target": ""})
    assert isinstance(change, BlockAmend)
    assert change.empty


BAD = {
    "ambiguous comma": ({"stop_price": "1,000"}, "stop_price", "could mean 1000 or 1.000"),
    "not a number": ({"size": "lots"}, "size", "must be a number"),
    "a bool is no index": ({"remove_target": True}, "remove_target", "target number"),
    "negative index": ({"stop_target": -1}, "stop_target", "target number"),
    "moves not a list": ({"targets": {"index": 0}}, "targets", "come as a list"),
    "a move without a price": ({"targets": [{"index": 1, "price": ""}]}, "targets[1].price", "new price"),
    "the same target twice": ({"targets": [{"index": 1, "price": 5}, {"index": 1, "price": 6}]}, "targets", "once"),
    "a share of everything": ({"add_target_price": "5", "add_target_share": "100"}, "add_target.share", "below 100%"),
    "a share without a price": ({"add_target_share": "10"}, "add_target.price", "Enter the new target's price"),
    "breakeven as text": ({"breakeven": "yes"}, "breakeven", "on or off"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_wrong_value_is_named_at_its_field(case: str) -> None:
    raw, field, words = BAD[case]
    errors = parse_amend(raw)
    assert isinstance(errors, list)
    assert [e.field for e in errors] == [field]
    assert words in errors[0].message

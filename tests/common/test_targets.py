"""The one "a price reaches the target" rule (engine.common.targets)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.enums import Side
from engine.common.targets import target_reached

D = Decimal


@pytest.mark.parametrize(
    ("side", "last", "reached"),
    [
        (Side.LONG, "104.99", False),
        (Side.LONG, "105", True),
        (Side.LONG, "106", True),
        (Side.SHORT, "105.01", False),
        (Side.SHORT, "105", True),
        (Side.SHORT, "104", True),
    ],
)
def test_a_target_is_reached_at_it_or_beyond_it_in_the_trade_s_favour(side: Side, last: str, reached: bool) -> None:
    assert target_reached(side, D(last), D(105)) is reached

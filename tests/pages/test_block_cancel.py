"""The /blocks page's words after a cancel: what really happened to the block."""

from __future__ import annotations

import pytest

from db.enums import BlockStatus
from engine.blocks.api import CancelOutcome
from pages.components.block_cancel import cancel_message

A, P, CA, CL = BlockStatus.ACTIVE, BlockStatus.PENDING, BlockStatus.CANCELED, BlockStatus.CLOSED


@pytest.mark.parametrize(
    ("outcome", "close", "says", "color"),
    [
        (CancelOutcome(2, P, CA, 0), False, "Block #2 canceled: none of its entries had filled.", "success"),
        (CancelOutcome(2, A, CL, 0), True, "Block #2 canceled: its open positions were closed at market.", "success"),
        (CancelOutcome(2, A, A, 1), False, "its 1 open position keep", "info"),
        (CancelOutcome(2, A, A, 2), False, "stays active until they exit", "info"),
        (CancelOutcome(2, A, A, 2), True, "closing its 2 open positions at market", "warning"),
        (CancelOutcome(2, P, P, 0), False, "cancel sent; the block ends as soon as the exchange confirms", "warning"),
        (CancelOutcome(2, CL, CL, 0), True, "Block #2 is already closed: nothing to cancel.", "info"),
    ],
)
def test_a_cancel_says_what_happened(outcome: CancelOutcome, close: bool, says: str, color: str) -> None:
    text, shade = cancel_message(outcome, close)
    assert says in text
    assert shade == color
    if outcome.after is BlockStatus.ACTIVE:
        assert "canceled:" not in text  # a block that keeps working is not reported canceled

"""What the /blocks page tells a trader after a cancel: what really happened to the block."""

from __future__ import annotations

from db.enums import BlockStatus
from engine.blocks.api import CancelOutcome


def cancel_message(outcome: CancelOutcome, close: bool) -> tuple[str, str]:
    """What the trader is told after a cancel, and the alert's colour: what really happened, not
    "canceled" for a block that keeps working."""
    n = f"Block #{outcome.block_id}"
    if outcome.before in (BlockStatus.CANCELED, BlockStatus.CLOSED):
        return f"{n} is already {outcome.before.value}: nothing to cancel.", "info"
    if outcome.after is BlockStatus.CANCELED:
        return f"{n} canceled: none of its entries had filled.", "success"
    if outcome.after is BlockStatus.CLOSED:
        return f"{n} canceled: its open positions were closed at market.", "success"
    if not outcome.open_trades:
        return f"{n}: cancel sent; the block ends as soon as the exchange confirms it.", "warning"
    held = f"{outcome.open_trades} open position{'s' if outcome.open_trades != 1 else ''}"
    if close:
        return f"{n}: closing its {held} at market; the block ends when the exits fill.", "warning"
    return (
        f"{n}: unfilled entries canceled; its {held} keep their stop and targets, so the block stays"
        " active until they exit.",
        "info",
    )

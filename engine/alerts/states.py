"""A price alert's states and its one transition function: ACTIVE -> TRIGGERED (the price crossed
its level) or ACTIVE -> CANCELLED (by its user); both ends are final."""

from __future__ import annotations

from db.enums import AlertState

_MOVES: dict[AlertState, frozenset[AlertState]] = {
    AlertState.ACTIVE: frozenset({AlertState.TRIGGERED, AlertState.CANCELLED}),
    AlertState.TRIGGERED: frozenset(),
    AlertState.CANCELLED: frozenset(),
}


class AlertStateError(ValueError):
    """A move the alert's state does not allow (a triggered alert cancelled, say)."""


def transition(current: AlertState, target: AlertState) -> AlertState:
    """`target` when an alert in `current` may move there; AlertStateError otherwise."""
    if target not in _MOVES[current]:
        raise AlertStateError(f"a {current.value} alert cannot become {target.value}")
    return target

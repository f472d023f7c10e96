"""OCO protection (ProtectionMode.NATIVE_OCO) as plain data: which orders of a block are legs of an
order list, how a leg names its sibling and its list, and which pair a trade needs (pure rules,
applied by engine.blocks.rules and engine.blocks.oco_exec).

Each open trade of a NATIVE_OCO block rests ONE list: its target (a LIMIT TP) and its stop (an SL)
for exactly the open amount. Both legs are ordinary order rows with the same seq, so their client ids
are tb<block>-<index>-tp-<seq> and tb<block>-<index>-sl-<seq>, and the list's is
tb<block>-<index>-oco-<seq>: the ids of a pair follow from either leg, no column links them. A
pair that no longer fits (another amount: a partial fill; another stop: break-even or a move;
another target) is canceled as one list and, once it is gone, the next seq is placed.
"""

from __future__ import annotations

from db.enums import OrderRole, OrderType, ProtectionMode

LEG_ROLES = (OrderRole.TP, OrderRole.SL)


def is_leg(mode: ProtectionMode, role: OrderRole, kind: OrderType) -> bool:
    """Whether an order of a block protected this way is a leg of an OCO list (market exits are not)."""
    return mode is ProtectionMode.NATIVE_OCO and role in LEG_ROLES and kind is not OrderType.MARKET


def pair_ids(client_order_id: str) -> tuple[str, str, str]:
    """(list, limit leg, stop leg) client ids of the pair a leg's client id belongs to."""
    prefix, _role, seq = client_order_id.rsplit("-", 2)
    return f"{prefix}-oco-{seq}", f"{prefix}-{OrderRole.TP.value}-{seq}", f"{prefix}-{OrderRole.SL.value}-{seq}"

"""How a filled entry is protected on a venue: the one decision, from the market type and what the
venue can do.

REDUCE_ONLY on swaps/futures whose venue has reduce-only orders (target and stop both rest), and on
any market of a venue that lets both exits rest (a replay's margin account: its targets fill by the
fill rules, never by the engine acting on a later price);
NATIVE_OCO on the other (spot) markets of a venue with OCO order lists (binance spot, the quirks
table): each trade's target and stop rest as one list selling the same coins, the venue cancels one
when the other fills; a move is one list canceled and one placed (engine.blocks.oco);
STOP_RESTS everywhere else (the stop rests, the engine takes profit at the target; on spot the coins
are locked by one resting order, so a target and a stop cannot both sell them).
"""

from __future__ import annotations

from db.enums import ProtectionMode
from engine.exchanges.quirks import DERIVATIVES
from engine.exchanges.venue import VenueCapabilities


def protection_mode(capabilities: VenueCapabilities, market_type: str) -> ProtectionMode:
    rest_together = market_type in DERIVATIVES or capabilities.exits_rest_together
    if rest_together and capabilities.supports_reduce_only:
        return ProtectionMode.REDUCE_ONLY
    if market_type not in DERIVATIVES and capabilities.supports_oco:
        return ProtectionMode.NATIVE_OCO
    return ProtectionMode.STOP_RESTS

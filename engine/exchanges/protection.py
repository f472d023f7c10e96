"""How a filled entry is protected on a venue: the one decision, from the market type and what the
venue can do.

REDUCE_ONLY on swaps/futures whose venue has reduce-only orders (target and stop both rest);
STOP_RESTS everywhere else (the stop rests, the engine takes profit at the target; on spot the coins
are locked by one resting order, so a target and a stop cannot both sell them). NATIVE_OCO is not
used yet: an OCO pair holds one target, and a block's trades are resized and moved (break-even) by
cancel/replace, which a native pair would turn into two cancels per move.
"""

from __future__ import annotations

from db.enums import ProtectionMode
from engine.exchanges.quirks import DERIVATIVES
from engine.exchanges.venue import VenueCapabilities


def protection_mode(capabilities: VenueCapabilities, market_type: str) -> ProtectionMode:
    if market_type in DERIVATIVES and capabilities.supports_reduce_only:
        return ProtectionMode.REDUCE_ONLY
    return ProtectionMode.STOP_RESTS

"""What rests on the venue for a block and what the desk watches, in words for the form's preview:
one sentence per protection mode (engine.exchanges.api.protection_mode decides the mode per venue and
market type, from the quirks table)."""

from __future__ import annotations

from db.enums import AccountKind, ProtectionMode


def protection_note(mode: ProtectionMode, kind: AccountKind, exchange: str) -> str:
    """E.g. "Targets rest on binance as OCO with the stop." for a live binance spot account."""
    where = exchange if kind is AccountKind.LIVE else f"the {kind.value} account"
    if mode is ProtectionMode.NATIVE_OCO:
        return f"Targets rest on {where} as OCO with the stop."
    if mode is ProtectionMode.REDUCE_ONLY:
        return f"Targets and stop rest on {where} as reduce-only orders."
    return f"The stop rests on {where}; targets are watched by the desk (a market exit when crossed)."

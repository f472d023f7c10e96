"""The webhooks package's public surface: a user's TradingView alert webhook (made or rotated
with a secret shown once, its template saved after checks, its audit log) and `receive`, which
turns one call into a trade block through engine.blocks.api or a logged refusal."""

from engine.webhooks.alerts import MAX_BODY
from engine.webhooks.hooks import (
    AUDIT_ROWS,
    CallView,
    HookView,
    NewSecret,
    get_hook,
    recent_calls,
    rotate_secret,
    save_template,
)
from engine.webhooks.receive import Outcome, receive
from engine.webhooks.template import (
    ENTRY_TYPES,
    PRICE_MODES,
    SIDES,
    TIMEFRAMES,
    TRADINGVIEW_IPS,
    Template,
    check_template,
)

__all__ = [
    "AUDIT_ROWS",
    "ENTRY_TYPES",
    "MAX_BODY",
    "PRICE_MODES",
    "SIDES",
    "TIMEFRAMES",
    "TRADINGVIEW_IPS",
    "CallView",
    "HookView",
    "NewSecret",
    "Outcome",
    "Template",
    "check_template",
    "get_hook",
    "receive",
    "recent_calls",
    "rotate_secret",
    "save_template",
]

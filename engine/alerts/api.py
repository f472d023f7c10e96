"""The alerts package's public surface: price alerts, levels that tell their user when the price
crosses them. Set (on a series of the user's watchlist, at the market's tick), list, cancel; the
desk's toast takes the triggered ones it has not shown (`take_unshown`); and the engine's check,
run on each sync tick and each new candle (engine.scheduler), which fires an alert once and books
its notification (engine.notify) in the same transaction. Above engine.conditions: the checks
read the very price the conditional blocks read (engine.conditions.api.market_price)."""

from engine.alerts.check import AlertReport, check_alerts
from engine.alerts.states import AlertStateError, transition
from engine.alerts.store import (
    NOTE_MAX,
    AlertAccessError,
    AlertRefused,
    AlertView,
    cancel_alert,
    create_alert,
    get_alert,
    list_alerts,
    take_unshown,
)

__all__ = [
    "NOTE_MAX",
    "AlertAccessError",
    "AlertRefused",
    "AlertReport",
    "AlertStateError",
    "AlertView",
    "cancel_alert",
    "check_alerts",
    "create_alert",
    "get_alert",
    "list_alerts",
    "take_unshown",
    "transition",
]

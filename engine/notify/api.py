"""The notify package's public surface: each user's notification URL (save, remove, show, test, and
re-encrypting them all after a key rotation),
booking events in the caller's transaction (`notify`, and `book` with the message builders that
engine.blocks uses for fills, finished blocks, refused and failed orders), and the engine's
delivery job (`deliver_due`). Below engine.blocks: the blocks engine calls it, never the reverse."""

from engine.notify.channels import ChannelView, NotifyError, channel_of, remove_url, rotate_urls, save_url, send_test
from engine.notify.delivery import MAX_ATTEMPTS as DELIVERY_ATTEMPTS
from engine.notify.delivery import DeliveryReport, backoff, deliver_due
from engine.notify.messages import (
    BLOCK_DONE,
    ENTRY_FILLED,
    EXIT_FILLED,
    KINDS,
    ORDER_FAILED,
    ORDER_REFUSED,
    PRICE_ALERT,
    STOP_FILLED,
    TARGET_FILLED,
    WEBHOOK_REFUSED,
    BlockFacts,
    Message,
    block_done,
    order_failed,
    order_filled,
    order_refused,
    scrub,
)
from engine.notify.outbox import book, notify
from engine.notify.sender import SendResult

__all__ = [
    "BLOCK_DONE",
    "DELIVERY_ATTEMPTS",
    "ENTRY_FILLED",
    "EXIT_FILLED",
    "KINDS",
    "ORDER_FAILED",
    "ORDER_REFUSED",
    "PRICE_ALERT",
    "STOP_FILLED",
    "TARGET_FILLED",
    "WEBHOOK_REFUSED",
    "BlockFacts",
    "ChannelView",
    "DeliveryReport",
    "Message",
    "NotifyError",
    "SendResult",
    "backoff",
    "block_done",
    "book",
    "channel_of",
    "deliver_due",
    "notify",
    "order_failed",
    "order_filled",
    "order_refused",
    "remove_url",
    "rotate_urls",
    "save_url",
    "scrub",
    "send_test",
]

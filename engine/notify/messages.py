"""The words of every notification: plain facts in, a title and a body out (no database, no apprise).

Amounts and prices read at the market's ticks (engine.common.precision.format_number), money in
cents; a venue's error text is scrubbed first (`scrub`: no URL query strings, no long token-like
runs), because some venues echo a signed request URL into their errors. Nothing secret is ever a
fact here: no URL, key or credential reaches these functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from engine.common.precision import RoundMode, format_money, format_number

ENTRY_FILLED = "entry_filled"
TARGET_FILLED = "target_filled"
STOP_FILLED = "stop_filled"
EXIT_FILLED = "exit_filled"
BLOCK_DONE = "block_done"
ORDER_REFUSED = "order_refused"
ORDER_FAILED = "order_failed"
PRICE_ALERT = "price_alert"
WEBHOOK_REFUSED = "webhook_refused"
TEST = "test"
KINDS = frozenset(
    {ENTRY_FILLED, TARGET_FILLED, STOP_FILLED, EXIT_FILLED, BLOCK_DONE, ORDER_REFUSED, ORDER_FAILED}
    | {PRICE_ALERT, WEBHOOK_REFUSED, TEST}
)
TITLE_MAX = 200
BODY_MAX = 2000
_REASON_MAX = 300
_QUERY = re.compile(r"(https?://[^\s?#]+)\?\S*")
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9+/=_\-]{24,}")
# The order roles of engine.blocks (db.enums.OrderRole values) -> what the trader calls them.
_FILL_KIND = {"entry": ENTRY_FILLED, "tp": TARGET_FILLED, "sl": STOP_FILLED, "exit": EXIT_FILLED}
_ROLE_WORD = {"entry": "entry", "tp": "target", "sl": "stop", "exit": "exit"}


@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    body: str


@dataclass(frozen=True)
class BlockFacts:
    """What every trading message names: the block and its market's ticks."""

    block_id: int
    symbol: str
    side: str  # "long" or "short"
    price_tick: Decimal | None = None
    amount_tick: Decimal | None = None

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[-1].split(":")[0]

    @property
    def name(self) -> str:
        return f"{self.symbol} {self.side} block #{self.block_id}"


def scrub(text: str) -> str:
    """A venue's error text fit for a message: query strings and long token-like runs removed, short."""
    text = _TOKEN_LIKE.sub("[…]", _QUERY.sub(r"\1?[…]", text.strip()))
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"


def fill_kind(role: str) -> str:
    """The event kind of a filled order of this role."""
    return _FILL_KIND[role]


def order_filled(block: BlockFacts, role: str, trade_index: int, side: str, amount: Decimal, price: Decimal) -> Message:
    """An entry, target, stop or exit order filled: what was bought or sold, at what, worth what."""
    word = _ROLE_WORD[role]
    verb = "bought" if side == "buy" else "sold"
    shown_amount = format_number(amount, block.amount_tick, RoundMode.DOWN)  # never more than was traded
    shown_price = format_number(price, block.price_tick)
    worth = format_money(amount * price)
    title = f"{word.capitalize()} filled: {block.symbol} #{block.block_id}"
    body = f"{block.name}, trade {trade_index + 1}: {verb} {shown_amount} at {shown_price} ({worth} {block.quote})."
    return Message(fill_kind(role), title, body)


def block_done(block: BlockFacts, trades: int, realized_pnl: Decimal, funding: Decimal = Decimal(0)) -> Message:
    """`realized_pnl`: the trades' own (fees included); `funding`: perpetual funding booked to the
    block, which the total told counts (as the block's P&L everywhere in the desk does)."""
    total = realized_pnl + funding
    sign = "+" if total > 0 else ""
    title = f"Block done: {block.symbol} #{block.block_id}"
    plural = "trade" if trades == 1 else "trades"
    body = f"{block.name} closed: {trades} {plural}, realized P&L {sign}{format_money(total)} {block.quote}"
    if funding:
        paid = "received" if funding > 0 else "paid"
        body += f" (funding {paid}: {format_money(abs(funding))} {block.quote})"
    return Message(BLOCK_DONE, title, body + ".")


def order_refused(block: BlockFacts, role: str, reason: str) -> Message:
    title = f"Order refused: {block.symbol} #{block.block_id}"
    body = f"{block.name}: the venue refused the {_ROLE_WORD[role]} order: {scrub(reason)}"
    return Message(ORDER_REFUSED, title, body)


def order_failed(block: BlockFacts, role: str, attempts: int, reason: str) -> Message:
    title = f"Order not placed: {block.symbol} #{block.block_id}"
    body = f"{block.name}: the {_ROLE_WORD[role]} order is still not placed after {attempts} attempts: {scrub(reason)}"
    return Message(ORDER_FAILED, title, body)


def custom(kind: str, title: str, body: str) -> Message:
    """A message another package raises (price alert, webhook refused): checked and cut to size."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ValueError("a notification needs a title and a body")
    return Message(kind, title[:TITLE_MAX], body[:BODY_MAX])

"""engine.blocks.market_hours: the note an order waiting for the open carries, and whether the desk
may decide on a venue's price now."""

from __future__ import annotations

from engine.blocks.market_hours import tradeable, waiting_note
from engine.exchanges.venue import VenueUnavailable


class Hours:
    def __init__(self, closed: bool | None) -> None:
        self.closed = closed

    def market_closed(self, symbol: str) -> bool:
        if self.closed is None:
            raise VenueUnavailable("clock unreadable")
        return self.closed


def test_the_note_says_which_order_waits_and_until_when() -> None:
    assert waiting_note("entry", "tb1-0-entry-1", 1_721_293_833_389) == (
        "waiting for the market to open: the entry order tb1-0-entry-1 is sent at 2024-07-18 09:10 UTC"
    )
    assert waiting_note("sl", "tb1-0-sl-2", None) == (
        "waiting for the market to open: the sl order tb1-0-sl-2 is sent once it opens"
    )


def test_no_decision_on_a_price_while_the_market_is_closed_and_any_venue_without_hours_trades() -> None:
    assert tradeable(Hours(closed=False), "AAPL/USD")
    assert not tradeable(Hours(closed=True), "AAPL/USD")
    assert tradeable(Hours(closed=None), "AAPL/USD")  # an unreadable clock: the desk acts as anywhere
    assert tradeable(object(), "BTC/USDT")

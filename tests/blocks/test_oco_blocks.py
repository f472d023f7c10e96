"""Targets resting on binance spot as native OCO lists (ProtectionMode.NATIVE_OCO): each trade of a
block rests one list of its target (LIMIT_MAKER) and its stop (STOP_LOSS_LIMIT) once its entry fills;
a leg's fill expires the other on the venue; break-even, a stop move and a partial fill are one list
canceled and one placed. A real CcxtTradingVenue over ccxt's binance class, the stateful simulator
(tests/helpers/binance_spot_sim.py) as its HTTP layer. SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import ccxt
import pytest

from db.enums import AccountKind, BlockStatus, CloseReason, EntryType, ProtectionMode, TradeStatus
from engine.blocks.amend import amend_block
from engine.blocks.amend_plan import BlockAmend
from engine.blocks.commands import preview_block, submit_block
from engine.blocks.resting import protection_note
from engine.blocks.sync import sync_tick
from engine.runtime import Runtime
from tests.helpers.binance_desk import Desk, make_desk, orders_match_venue
from tests.helpers.trading import block_of, fills_of, request, trades_of

D = Decimal
SYMBOL = "LTC/USDT"


@pytest.fixture
def desk(runtime: Runtime) -> Desk:
    return make_desk(runtime, "quote", oco=True)


def long_block(desk: Desk, **options: object) -> int:
    req = request(None, "95", ("105", "110"), "2", entry_type=EntryType.MARKET, symbol=SYMBOL, **options)
    return submit_block(desk.runtime, desk.user_id, desk.account_id, req)


def lists_on_venue(desk: Desk) -> dict[str, list[tuple[str, str, D, D, D]]]:
    """list client id -> its legs (type, status, quantity, price, trigger) on the exchange."""
    return {
        cid: [
            (o["type"], o["status"], D(o["origQty"]), D(o["price"]), D(o["stopPrice"]))
            for o in (desk.sim.orders[i] for i in ids)
        ]
        for cid, ids in desk.sim.lists.items()
    }


def list_cancels(desk: Desk) -> list[str]:
    """The listClientOrderId of every DELETE /api/v3/orderList sent."""
    return [
        dict(parse_qsl(urlsplit(r.url).query)).get("listClientOrderId", "")
        for r in desk.sim.requests
        if r.method == "DELETE" and urlsplit(r.url).path == "/api/v3/orderList"
    ]


def assert_db_is_venue(desk: Desk, block_id: int) -> None:
    """Every sent order is on the exchange with the same status, fill and id; fills are the venue's."""
    by_venue_id = {venue_id: order.id for venue_id, order in orders_match_venue(desk, block_id).items()}
    venue_fills = sorted((t["id"], by_venue_id[t["orderId"]], D(t["qty"])) for t in desk.sim.trades)
    db_fills = sorted((f.exchange_trade_id, f.order_id, f.amount) for f in fills_of(desk.runtime.sessions, block_id))
    assert db_fills == venue_fills


def test_a_block_on_binance_spot_rests_each_target_as_an_oco_with_its_stop(desk: Desk) -> None:
    block_id = long_block(desk)
    assert block_of(desk.runtime.sessions, block_id).protection_mode is ProtectionMode.NATIVE_OCO
    trades = trades_of(desk.runtime.sessions, block_id)
    assert [(t.status, t.entry_filled) for t in trades] == [(TradeStatus.OPEN, D(1))] * 2
    # one list per trade: its target as a maker limit above, its stop (a stop-limit 1% past) below
    assert lists_on_venue(desk) == {
        f"tb{block_id}-0-oco-1": [
            ("LIMIT_MAKER", "NEW", D(1), D(105), D(0)),
            ("STOP_LOSS_LIMIT", "NEW", D(1), D("94.05"), D(95)),
        ],
        f"tb{block_id}-1-oco-1": [
            ("LIMIT_MAKER", "NEW", D(1), D(110), D(0)),
            ("STOP_LOSS_LIMIT", "NEW", D(1), D("94.05"), D(95)),
        ],
    }
    assert dict(desk.sim.list_posts) == {f"tb{block_id}-0-oco-1": 1, f"tb{block_id}-1-oco-1": 1}
    assert (desk.sim.free["LTC"], desk.sim.locked["LTC"]) == (0, 2)  # each list locks its trade's coins once
    sync_tick(desk.runtime)  # nothing to do: the lists rest
    assert dict(desk.sim.list_posts) == {f"tb{block_id}-0-oco-1": 1, f"tb{block_id}-1-oco-1": 1}
    assert_db_is_venue(desk, block_id)


def test_a_target_fill_expires_its_stop_and_the_other_list_moves_to_break_even(desk: Desk) -> None:
    block_id = long_block(desk, breakeven_after_first_target=True)
    assert desk.sim.move_price("105.5") == [f"tb{block_id}-0-tp-1"]  # filled on the venue, as a maker
    report = sync_tick(desk.runtime)
    assert report.errors == []
    trades = trades_of(desk.runtime.sessions, block_id)
    assert (trades[0].status, trades[0].close_reason) == (TradeStatus.CLOSED, CloseReason.TARGET)
    legs = lists_on_venue(desk)
    assert [status for _t, status, *_ in legs[f"tb{block_id}-0-oco-1"]] == ["FILLED", "EXPIRED"]
    # trade 2's stop to break-even: its list canceled as one, the next one placed with the new stop
    assert list_cancels(desk) == [f"tb{block_id}-1-oco-1"]
    assert trades[1].stop_price > D(100)
    new = legs[f"tb{block_id}-1-oco-2"]
    assert [(t, s, q, p) for t, s, q, p, _stop in new] == [
        ("LIMIT_MAKER", "NEW", D(1), D(110)),
        ("STOP_LOSS_LIMIT", "NEW", D(1), new[1][3]),
    ]
    assert new[1][4] == trades[1].stop_price
    desk.sim.move_price("110.5")
    sync_tick(desk.runtime)
    assert block_of(desk.runtime.sessions, block_id).status is BlockStatus.CLOSED
    assert [t.close_reason for t in trades_of(desk.runtime.sessions, block_id)] == [CloseReason.TARGET] * 2
    assert list_cancels(desk) == [f"tb{block_id}-1-oco-1"]  # an expired leg is never canceled again
    assert_db_is_venue(desk, block_id)


def test_a_stop_fill_expires_the_target_and_closes_the_block(desk: Desk) -> None:
    block_id = long_block(desk)
    desk.sim.move_price("94.5")  # both stops trigger and fill above their 94.05 limit
    sync_tick(desk.runtime)
    assert [(t.status, t.close_reason) for t in trades_of(desk.runtime.sessions, block_id)] == [
        (TradeStatus.CLOSED, CloseReason.STOP)
    ] * 2
    assert {legs[0][1] for legs in lists_on_venue(desk).values()} == {"EXPIRED"}
    assert list_cancels(desk) == []
    assert desk.sim.open_orders() == []
    assert_db_is_venue(desk, block_id)


def test_a_partly_filled_target_leaves_a_list_for_what_is_open(desk: Desk) -> None:
    block_id = long_block(desk)
    desk.sim.fill_part(f"tb{block_id}-0-tp-1", "0.4")
    sync_tick(desk.runtime)
    legs = lists_on_venue(desk)
    assert list_cancels(desk) == [f"tb{block_id}-0-oco-1"]
    assert [(s, q) for _t, s, q, *_ in legs[f"tb{block_id}-0-oco-2"]] == [("NEW", D("0.6"))] * 2  # the stop resized
    assert desk.sim.locked["LTC"] == D("1.6")
    desk.sim.move_price("105.2")
    sync_tick(desk.runtime)
    trade = trades_of(desk.runtime.sessions, block_id)[0]
    assert (trade.status, trade.close_reason, trade.exit_filled) == (TradeStatus.CLOSED, CloseReason.TARGET, D(1))
    assert_db_is_venue(desk, block_id)


def test_a_stop_move_cancels_and_replaces_each_list_once(desk: Desk) -> None:
    block_id = long_block(desk)
    amend_block(desk.runtime, desk.user_id, block_id, BlockAmend(stop_price=D("97")))
    legs = lists_on_venue(desk)
    assert sorted(list_cancels(desk)) == [f"tb{block_id}-0-oco-1", f"tb{block_id}-1-oco-1"]
    assert {legs[f"tb{block_id}-{i}-oco-2"][1][4] for i in (0, 1)} == {D(97)}
    assert desk.sim.locked["LTC"] == D(2)
    desk.restart()  # a new process finds the lists as they are
    sync_tick(desk.runtime)
    assert len(desk.sim.lists) == 4
    assert_db_is_venue(desk, block_id)


def test_the_preview_says_where_the_targets_rest(desk: Desk, runtime: Runtime) -> None:
    req = request(None, "95", ("105", "110"), "2", entry_type=EntryType.MARKET, symbol=SYMBOL)
    shown = preview_block(runtime, desk.user_id, desk.account_id, req)
    assert shown.protection == "Targets rest on binance as OCO with the stop."
    desk.venue.quirks = replace(desk.venue.quirks, oco_markets=frozenset())  # a venue without OCO lists
    shown = preview_block(runtime, desk.user_id, desk.account_id, req)
    assert shown.protection == (
        "The stop rests on binance; targets are watched by the desk (a market exit when crossed)."
    )
    assert preview_block(runtime, desk.user_id, desk.account_id, replace(req, symbol="NOPE/USDT")).protection is None


@pytest.mark.parametrize(
    ("mode", "kind", "said"),
    [
        (ProtectionMode.REDUCE_ONLY, AccountKind.LIVE, "Targets and stop rest on okx as reduce-only orders."),
        (ProtectionMode.NATIVE_OCO, AccountKind.PAPER, "Targets rest on the paper account as OCO with the stop."),
    ],
)
def test_the_protection_note_names_the_venue_or_the_simulated_account(
    mode: ProtectionMode, kind: AccountKind, said: str
) -> None:
    assert protection_note(mode, kind, "okx") == said


def test_a_lost_list_answer_is_looked_up_not_posted_again(desk: Desk) -> None:
    req = request("99", "95", ("105", "110"), "2", entry_type=EntryType.LIMIT, symbol=SYMBOL)
    block_id = submit_block(desk.runtime, desk.user_id, desk.account_id, req)  # the entries rest at 99
    desk.sim.fail_next_create(after=ccxt.NetworkError("connection reset"))  # the first list's answer is lost
    desk.sim.fail_next_create(before=ccxt.RequestTimeout("timed out"))  # the second never arrives at first
    desk.sim.move_price("99")
    report = sync_tick(desk.runtime)
    assert report.errors == []
    assert dict(desk.sim.list_posts) == {f"tb{block_id}-0-oco-1": 1, f"tb{block_id}-1-oco-1": 1}
    assert len(lists_on_venue(desk)) == 2
    assert_db_is_venue(desk, block_id)

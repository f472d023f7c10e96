"""State tables of orders, trades and blocks: every listed move works, every other one is refused."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.enums import BlockStatus, OrderStatus, TradeStatus
from engine.blocks.states import (
    BLOCK_TERMINAL,
    BLOCK_TRANSITIONS,
    ORDER_TERMINAL,
    ORDER_TRANSITIONS,
    TRADE_TERMINAL,
    TRADE_TRANSITIONS,
    BlockEvent,
    IllegalTransition,
    OrderEvent,
    TradeEvent,
    advance_block,
    block_status_from_trades,
    ccxt_status_to_event,
    is_open,
    is_order_terminal,
    is_working,
    transition_block,
    transition_order,
    transition_trade,
)

T = TradeStatus
O, E = OrderStatus, OrderEvent  # noqa: E741 - short aliases keep the tables readable

ENTITIES = [
    ("order", OrderStatus, OrderEvent, ORDER_TRANSITIONS, ORDER_TERMINAL, transition_order),
    ("trade", TradeStatus, TradeEvent, TRADE_TRANSITIONS, TRADE_TERMINAL, transition_trade),
    ("block", BlockStatus, BlockEvent, BLOCK_TRANSITIONS, BLOCK_TERMINAL, transition_block),
]


@pytest.mark.parametrize(("entity", "statuses", "events", "table", "terminal", "move"), ENTITIES)
def test_every_pair_is_either_listed_or_refused(entity, statuses, events, table, terminal, move) -> None:
    for status, event in itertools.product(statuses, events):
        if (status, event) in table:
            assert move(status, event) is table[(status, event)]
        else:
            with pytest.raises(IllegalTransition) as info:
                move(status, event)
            assert info.value.entity == entity
            assert info.value.status is status
            assert info.value.event is event
            assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("entity", "statuses", "events", "table", "terminal", "move"), ENTITIES)
def test_terminal_states_are_absorbing(entity, statuses, events, table, terminal, move) -> None:
    assert terminal, entity
    for status in terminal:
        assert not [ev for ev in events if (status, ev) in table], f"{entity} {status} has a way out"
    # and every non-terminal status has at least one way on
    for status in set(statuses) - terminal:
        assert any((status, ev) in table for ev in events), f"{entity} {status} is a dead end"


@pytest.mark.parametrize(("entity", "statuses", "events", "table", "terminal", "move"), ENTITIES)
def test_every_terminal_state_is_reachable(entity, statuses, events, table, terminal, move) -> None:
    assert terminal <= set(table.values())


def test_illegal_transition_message_names_everything() -> None:
    with pytest.raises(IllegalTransition, match=r"illegal order transition: event 'fill' .* status 'canceled'"):
        transition_order(O.CANCELED, E.FILL)


def test_happy_path_and_strings_are_accepted() -> None:
    status = O.INITIALIZED
    for event in [E.SUBMIT, E.ACCEPT, E.PARTIAL_FILL, E.PARTIAL_FILL, E.FILL]:
        status = transition_order(status, event)
    assert status is O.FILLED
    assert transition_order("accepted", "fill") is O.FILLED  # stored values work too


@pytest.mark.parametrize(
    ("event", "expected"),
    [(E.ACCEPT, O.ACCEPTED), (E.FILL, O.FILLED), (E.CANCEL, O.CANCELED), (E.PARTIAL_FILL, O.PARTIALLY_FILLED)],
)
def test_lost_submit_answer_can_be_reconciled(event: OrderEvent, expected: OrderStatus) -> None:
    assert transition_order(O.SUBMITTED, event) is expected


def test_fills_race_a_pending_cancel() -> None:
    assert transition_order(O.PENDING_CANCEL, E.PARTIAL_FILL) is O.PENDING_CANCEL
    assert transition_order(O.PENDING_CANCEL, E.FILL) is O.FILLED
    assert transition_order(O.PENDING_CANCEL, E.CANCEL_REJECT) is O.ACCEPTED
    assert transition_order(O.PENDING_CANCEL, E.CANCEL) is O.CANCELED
    with pytest.raises(IllegalTransition):
        transition_order(O.ACCEPTED, E.CANCEL_REJECT)  # no cancel was pending


def test_order_predicates() -> None:
    assert {O.FILLED, O.CANCELED, O.REJECTED, O.EXPIRED} == ORDER_TERMINAL
    assert is_open(O.INITIALIZED)
    assert not is_working(O.INITIALIZED)
    assert is_working(O.PENDING_CANCEL)
    assert is_order_terminal(O.EXPIRED)
    assert not is_open(O.FILLED)


def test_trade_moves() -> None:
    assert transition_trade(T.PENDING, TradeEvent.ENTRY_FILLED) is T.OPEN
    assert transition_trade(T.PENDING, TradeEvent.ENTRY_CANCELED) is T.CANCELED
    assert transition_trade(T.OPEN, TradeEvent.ENTRY_FILLED) is T.OPEN
    assert transition_trade(T.OPEN, TradeEvent.POSITION_CLOSED) is T.CLOSED
    with pytest.raises(IllegalTransition, match="trade"):
        transition_trade(T.PENDING, TradeEvent.POSITION_CLOSED)


@pytest.mark.parametrize(
    ("trades", "expected"),
    [
        ([T.PENDING, T.PENDING], BlockStatus.PENDING),
        ([T.PENDING, T.CANCELED], BlockStatus.PENDING),
        ([T.PENDING, T.OPEN], BlockStatus.ACTIVE),
        ([T.CLOSED, T.PENDING], BlockStatus.ACTIVE),
        ([T.CLOSED, T.OPEN, T.CANCELED], BlockStatus.ACTIVE),
        ([T.CLOSED, T.CANCELED], BlockStatus.CLOSED),
        ([T.CLOSED], BlockStatus.CLOSED),
        ([T.CANCELED, T.CANCELED], BlockStatus.CANCELED),
    ],
)
def test_block_status_from_trades(trades: list[TradeStatus], expected: BlockStatus) -> None:
    assert block_status_from_trades(trades) is expected


def test_block_needs_trades() -> None:
    with pytest.raises(ValueError, match="at least one trade"):
        block_status_from_trades([])


@given(st.lists(st.sampled_from(list(TradeStatus)), min_size=1, max_size=10))
def test_derived_block_status_is_reachable_from_pending(trades: list[TradeStatus]) -> None:
    assert advance_block(BlockStatus.PENDING, trades) is block_status_from_trades(trades)


def test_advance_block() -> None:
    assert advance_block(BlockStatus.ACTIVE, [T.OPEN, T.PENDING]) is BlockStatus.ACTIVE
    assert advance_block(BlockStatus.ACTIVE, [T.CLOSED, T.CANCELED]) is BlockStatus.CLOSED
    assert advance_block(BlockStatus.CLOSED, [T.CLOSED]) is BlockStatus.CLOSED
    with pytest.raises(IllegalTransition):
        advance_block(BlockStatus.CANCELED, [T.CLOSED])
    with pytest.raises(ValueError, match="none of its trades was ever filled"):
        advance_block(BlockStatus.ACTIVE, [T.PENDING])


@pytest.mark.parametrize(
    ("status", "filled", "amount", "event"),
    [
        ("open", 0, 1, E.ACCEPT),
        ("open", None, 1, E.ACCEPT),
        ("open", "0.4", "1", E.PARTIAL_FILL),
        ("open", Decimal(1), Decimal(1), E.FILL),
        ("closed", 1.0, 1.0, E.FILL),
        ("canceled", 0, 1, E.CANCEL),
        ("canceled", 0.5, 1, E.CANCEL),
        ("expired", 0, 1, E.EXPIRE),
        ("rejected", 0, 1, E.REJECT),
    ],
)
def test_ccxt_status_to_event(status: str, filled, amount, event: OrderEvent) -> None:
    assert ccxt_status_to_event(status, filled, amount) is event


def test_ccxt_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ccxt order status 'weird'"):
        ccxt_status_to_event("weird", 0, 1)


def test_ccxt_poll_of_a_resting_order_keeps_it_accepted() -> None:
    status = transition_order(O.SUBMITTED, ccxt_status_to_event("open", 0, 1))
    status = transition_order(status, ccxt_status_to_event("open", 0, 1))
    status = transition_order(status, ccxt_status_to_event("open", "0.3", 1))
    status = transition_order(status, ccxt_status_to_event("open", "0.6", 1))
    assert status is O.PARTIALLY_FILLED
    assert transition_order(status, ccxt_status_to_event("canceled", "0.6", 1)) is O.CANCELED


def test_each_status_set_is_written_once_and_agrees_with_the_tables() -> None:
    from db import enums
    from engine.blocks import states, store, sync, views
    from engine.portfolio import bookings
    from engine.users import settings

    # The live blocks are exactly the non-terminal ones; users' settings and the block store use the one set.
    assert set(enums.LIVE_BLOCKS) == set(BlockStatus) - BLOCK_TERMINAL
    assert states.LIVE_BLOCKS is enums.LIVE_BLOCKS
    assert settings.LIVE_BLOCKS is enums.LIVE_BLOCKS
    assert store.LIVE_BLOCKS is enums.LIVE_BLOCKS
    # Terminal orders are those the transition table never leaves.
    sources = {status for status, _event in ORDER_TRANSITIONS}
    assert not set(ORDER_TERMINAL) & sources
    assert all(is_order_terminal(s) for s in ORDER_TERMINAL)
    assert sync.ORDER_TERMINAL is store.ORDER_TERMINAL is states.ORDER_TERMINAL
    # Exits: every role but the entry, one tuple for blocks and portfolio.
    assert set(enums.EXIT_ROLES) == set(enums.OrderRole) - {enums.OrderRole.ENTRY}
    assert views.EXIT_ROLES is bookings.EXIT_ROLES is enums.EXIT_ROLES

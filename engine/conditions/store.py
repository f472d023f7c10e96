"""Saving, listing and canceling conditions. A condition is saved only when its block would be
placed now (engine.blocks.api.preview_block, the form's own checks, errors at "block.<field>")
and its series and timeframe are the user's; a chain is saved in one transaction, its first step
waiting and the `then` steps pending until the step before fires (engine.conditions.fire)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import BlockCondition
from engine.blocks import api as blocks
from engine.blocks.api import FieldError
from engine.common.precision import format_number
from engine.common.timeframes import levels_above
from engine.conditions.parse import ConditionSpec, parse_condition
from engine.conditions.prices import last_price
from engine.market import api as market
from engine.runtime import Runtime
from engine.users import api as users

OPEN = ("waiting", "pending")
_VERB = {"close_above": "closes above", "close_below": "closes below", "crosses": "crosses"}


class ConditionRefused(ValueError):  # noqa: N818 - the name says what happened to the condition
    """The condition cannot be saved; `errors` holds one FieldError per problem."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class ConditionAccessError(LookupError):
    """No such condition of this user."""


@dataclass(frozen=True)
class ConditionView:
    """A condition as the pages and the API show it; `text` says it in words."""

    id: int
    parent_id: int | None
    kind: str
    account_id: int
    series_id: int | None
    exchange: str | None
    symbol: str | None
    timeframe: str | None
    price: Decimal | None
    at_ms: int | None
    status: str
    reason: str | None
    block_id: int | None
    block_symbol: str
    block_side: str
    block_entry: str
    created_at: datetime
    done_at: datetime | None
    text: str
    block_exchange: str = ""  # the block's market's exchange; "" for the account's own


def now_ms() -> int:
    return int(time.time() * 1000)


def describe(c: BlockCondition) -> str:
    """ "when BTC/USDT closes above 70,000 on 15m", "when BTC/USDT crosses 65,000", "at 2026-12-03 09:00 UTC"."""
    if c.kind == "at_time":
        moment = datetime.fromtimestamp((c.at_ms or 0) / 1000, UTC)
        return f"at {moment:%Y-%m-%d %H:%M} UTC"
    price = format_number(c.price) if c.price is not None else "?"
    where = f" on {c.timeframe}" if c.timeframe else ""
    return f"when {c.symbol} {_VERB[c.kind]} {price}{where}"


def _view(c: BlockCondition) -> ConditionView:
    block = json.loads(c.block)
    return ConditionView(
        c.id, c.parent_id, c.kind, c.account_id, c.series_id, c.exchange, c.symbol, c.timeframe, c.price,
        c.at_ms, c.status, c.reason, c.block_id, str(block.get("symbol", "")), str(block.get("side", "")),
        str(block.get("entry_type", "")), users.as_utc(c.created_at) or c.created_at,
        users.as_utc(c.done_at), describe(c), str(block.get("exchange") or ""),
    )  # fmt: skip


def _steps(spec: ConditionSpec) -> Iterator[tuple[str, ConditionSpec]]:
    """Each step with the prefix of its fields' names ("", "then.", "then.then.", ...)."""
    prefix, step = "", spec
    while step is not None:
        yield prefix, step
        prefix, step = prefix + "then.", step.then


def _step_problems(runtime: Runtime, user_id: int, step: ConditionSpec, now: int) -> list[FieldError]:
    """What keeps this step from being saved: its series, timeframe, time and block, checked now."""
    problems: list[FieldError] = []
    if step.series_id is not None:
        try:
            entry = market.watched(runtime, user_id, step.series_id)
        except market.NotWatchedError:
            problems.append(FieldError("series_id", "Choose a series of your watchlist."))
        else:
            allowed = (entry.timeframe, *levels_above(entry.timeframe))
            if step.timeframe is not None and step.timeframe not in allowed:
                problems.append(FieldError("timeframe", f"Choose one of {', '.join(allowed)} for this series."))
    if step.at_ms is not None and step.at_ms <= now:
        problems.append(FieldError("at", "This time has passed: choose a time to come."))
    try:
        preview = blocks.preview_block(runtime, user_id, step.account_id, step.request)
    except users.AccountAccessError:
        return [*problems, FieldError("account", "Choose one of your accounts.")]
    problems.extend(FieldError(f"block.{e.field}", e.message) for e in preview.errors)
    return problems


def create_condition(runtime: Runtime, user_id: int, raw: dict, now: int | None = None) -> int:
    """Save a condition (and its `then` steps) that would place its block now; returns its id.
    Raises ConditionRefused with every field problem, writing nothing."""
    now = now if now is not None else now_ms()
    spec = parse_condition(raw)
    if isinstance(spec, list):
        raise ConditionRefused(spec)
    errors = [
        FieldError(prefix + e.field, e.message)
        for prefix, step in _steps(spec)
        for e in _step_problems(runtime, user_id, step, now)
    ]
    if errors:
        raise ConditionRefused(errors)
    with runtime.sessions.begin() as s:
        parent: int | None = None
        first: int | None = None
        for _prefix, step in _steps(spec):
            row = _row(runtime, user_id, step, parent, now)
            s.add(row)
            s.flush()
            first = first if first is not None else row.id
            parent = row.id
    assert first is not None
    return first


def _row(runtime: Runtime, user_id: int, step: ConditionSpec, parent: int | None, now: int) -> BlockCondition:
    exchange = symbol = None
    if step.series_id is not None:
        entry = market.watched(runtime, user_id, step.series_id)
        exchange, symbol = entry.exchange, entry.symbol
    row = BlockCondition(
        user_id=user_id,
        account_id=step.account_id,
        parent_id=parent,
        kind=step.kind,
        series_id=step.series_id,
        exchange=exchange,
        symbol=symbol,
        timeframe=step.timeframe,
        price=step.price,
        at_ms=step.at_ms,
        block=json.dumps(step.block, default=str),
        status="pending" if parent is not None else "waiting",
        armed_at_ms=None if parent is not None else now,
    )
    if parent is None and step.kind == "crosses":
        row.reference = last_price(runtime, user_id, row)
    return row


def list_conditions(runtime: Runtime, user_id: int, open_only: bool | None = True) -> list[ConditionView]:
    """The user's conditions, newest first: open ones (waiting or pending), done ones, or all."""
    query = select(BlockCondition).where(BlockCondition.user_id == user_id)
    if open_only is True:
        query = query.where(BlockCondition.status.in_(OPEN))
    elif open_only is False:
        query = query.where(BlockCondition.status.not_in(OPEN))
    with runtime.sessions() as s:
        return [_view(c) for c in s.scalars(query.order_by(BlockCondition.id.desc()).limit(500))]


def get_condition(runtime: Runtime, user_id: int, condition_id: int) -> ConditionView:
    with runtime.sessions() as s:
        return _view(_owned(s, user_id, condition_id))


def chain(runtime: Runtime, user_id: int, condition_id: int) -> list[ConditionView]:
    """The condition and the steps after it, in order."""
    with runtime.sessions() as s:
        row: BlockCondition | None = _owned(s, user_id, condition_id)
        found = []
        while row is not None:
            found.append(_view(row))
            row = s.scalar(select(BlockCondition).where(BlockCondition.parent_id == row.id))
        return found


def _owned(s: Session, user_id: int, condition_id: int) -> BlockCondition:
    row = s.get(BlockCondition, condition_id)
    if row is None or row.user_id != user_id:
        raise ConditionAccessError(f"no condition {condition_id} of this user")
    return row


def cancel_condition(runtime: Runtime, user_id: int, condition_id: int) -> ConditionView:
    """Cancel a condition that has not fired, with the steps after it; one that has fired (or was
    refused) is left as it is. Returns the condition as it is now."""
    with runtime.sessions.begin() as s:
        _owned(s, user_id, condition_id)
        end_chain(s, condition_id, "canceled", "Canceled by you.", include_self=True)
    return get_condition(runtime, user_id, condition_id)


def end_chain(s: Session, condition_id: int, status: str, reason: str, include_self: bool) -> None:
    """Mark the open steps of the chain from `condition_id` on (itself too, or only those after it)."""
    ids = [condition_id] if include_self else []
    frontier = [condition_id]
    while frontier:
        frontier = list(s.scalars(select(BlockCondition.id).where(BlockCondition.parent_id.in_(frontier))))
        ids.extend(frontier)
    if ids:
        done = datetime.now(UTC)
        s.execute(
            update(BlockCondition)
            .where(BlockCondition.id.in_(ids), BlockCondition.status.in_(OPEN))
            .values(status=status, reason=reason, done_at=done)
        )

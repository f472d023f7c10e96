"""The engine's side: on each sync tick and each new candle, every waiting condition is checked,
and one that is met places its block through engine.blocks.api.submit_block, the condition
marked fired (and its `then` step armed) inside the very transaction that writes the block and
its entry intents: a crash before that commit leaves the condition waiting and no block (the next
check fires it again), after it leaves both, so a condition places its block exactly once.

The block is checked again when it fires (prices have moved since it was saved): a refusal is
recorded on the condition with the reasons, and the steps after it end with it. A condition
canceled while its block was being planned is not fired (the conditional update finds it gone
and the block is rolled back)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import BlockCondition
from engine.blocks import api as blocks
from engine.conditions.prices import closes_since, last_price
from engine.conditions.store import end_chain, now_ms
from engine.runtime import Runtime
from engine.users import api as users

log = logging.getLogger(__name__)
_LOCK_KEY = "conditions"  # one check at a time in this process (the sync and candle jobs both call it)


class _GoneError(Exception):
    """The condition was canceled (or fired) meanwhile: the block must not be written."""


@dataclass
class CheckReport:
    fired: list[int] = field(default_factory=list)  # block ids placed
    refused: list[int] = field(default_factory=list)  # condition ids refused at fire time
    errors: list[str] = field(default_factory=list)


def check_conditions(runtime: Runtime, now: int | None = None) -> CheckReport:
    """Check every waiting condition once; fire those that are met."""
    report = CheckReport()
    with runtime.trading.account_lock(_LOCK_KEY):
        with runtime.sessions() as s:
            waiting = list(s.scalars(select(BlockCondition).where(BlockCondition.status == "waiting")))
            s.expunge_all()
        for c in waiting:
            try:
                if _met(runtime, c, now if now is not None else now_ms()):
                    _fire(runtime, c, report)
            except Exception as exc:  # one bad condition must not stop the others; it is checked again
                log.exception("condition %d could not be checked", c.id)
                report.errors.append(f"condition {c.id}: {exc}")
    return report


def _met(runtime: Runtime, c: BlockCondition, now: int) -> bool:
    if c.kind == "at_time":
        return c.at_ms is not None and now >= c.at_ms
    if c.price is None:
        return False
    if c.kind == "close_above":
        return any(close > c.price for close in closes_since(runtime, c.user_id, c))
    if c.kind == "close_below":
        return any(close < c.price for close in closes_since(runtime, c.user_id, c))
    price = last_price(runtime, c.user_id, c)
    if price is None:
        return False
    if c.reference is None:  # armed before any price was seen: this is where it starts from
        with runtime.sessions.begin() as s:
            s.execute(update(BlockCondition).where(BlockCondition.id == c.id).values(reference=price))
        c.reference = price
    ref, level = c.reference, c.price
    return ref == level or ref < level <= price or ref > level >= price


def _mark_fired(condition_id: int, now: int) -> Callable[[Session, int], None]:
    def within(s: Session, block_id: int) -> None:
        done = datetime.fromtimestamp(now / 1000, UTC)
        claimed = s.execute(
            update(BlockCondition)
            .where(BlockCondition.id == condition_id, BlockCondition.status == "waiting")
            .values(status="fired", block_id=block_id, done_at=done)
        )
        if claimed.rowcount != 1:
            raise _GoneError(condition_id)
        s.execute(
            update(BlockCondition)
            .where(BlockCondition.parent_id == condition_id, BlockCondition.status == "pending")
            .values(status="waiting", armed_at_ms=now)
        )

    return within


def _fire(runtime: Runtime, c: BlockCondition, report: CheckReport) -> None:
    req = blocks.parse_block(json.loads(c.block))
    if isinstance(req, list):
        _refuse(runtime, c, "; ".join(e.message for e in req), report)
        return
    now = now_ms()
    try:
        block_id = blocks.submit_block(runtime, c.user_id, c.account_id, req, within=_mark_fired(c.id, now))
    except blocks.BlockRejected as exc:
        _refuse(runtime, c, "; ".join(e.message for e in exc.errors), report)
        return
    except users.AccountAccessError:
        _refuse(runtime, c, "The account is no longer yours.", report)
        return
    except _GoneError:
        log.info("condition %d ended while its block was planned: not fired", c.id)
        return
    log.info("condition %d fired: block %d", c.id, block_id)
    report.fired.append(block_id)


def _refuse(runtime: Runtime, c: BlockCondition, why: str, report: CheckReport) -> None:
    reason = f"Met, but the block was refused: {why}"[:2000]
    with runtime.sessions.begin() as s:
        claimed = s.execute(
            update(BlockCondition)
            .where(BlockCondition.id == c.id, BlockCondition.status == "waiting")
            .values(status="refused", reason=reason, done_at=datetime.now(UTC))
        )
        if claimed.rowcount == 1:
            end_chain(s, c.id, "canceled", f"Step #{c.id} before it was refused.", include_self=False)
    log.warning("condition %d refused at fire time: %s", c.id, why)
    report.refused.append(c.id)

"""One webhook call, from the bytes TradingView posts to the block it places or the refusal it
gets. In order: the hook (unknown: 401, not logged: there is no one to show it to), its rate
(per hook and minute), the sender's address (the template's allow-list), the JSON, the secret,
the alert's age (its timenow/time within the template's window), a retry (the same alert key as
an accepted call: answered with that block, nothing placed), then the template turns the alert
into the block's fields and engine.blocks' parse_block and submit_block do the rest.

Every call to a known hook is logged for its user (accepted -> block id, refused -> why; never
the secret or the body). An accepted call's row, with its unique alert key, is written in the
block's own transaction (submit_block's `also`): a crash before that commit leaves neither, after
it both; two copies of one alert racing each other place one block (the second hits the unique key
and is answered as a retry).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.enums import Role
from db.models import Webhook, WebhookCall
from engine.blocks import api as blocks
from engine.market import api as market
from engine.notify import api as notify
from engine.runtime import Runtime
from engine.users.api import AccountAccessError, get_account, load_user
from engine.webhooks.alerts import Alert, AlertError, alert_side, in_allowlist, read_alert
from engine.webhooks.hooks import find_hook, secret_matches
from engine.webhooks.template import Template, block_fields, load_template

log = logging.getLogger(__name__)
RATE_WINDOW = timedelta(seconds=60)
TRADING_ROLES = (Role.ADMIN, Role.TRADER)
FLOOD_LOGGED = 2  # beyond this many times the rate in a minute, refusals are no longer logged


@dataclass(frozen=True)
class Outcome:
    """The HTTP answer: a status and a JSON body (never a secret)."""

    status: int
    body: dict[str, Any]


class _RefusedError(Exception):
    def __init__(self, status: int, reason: str, logged: bool = True) -> None:
        super().__init__(reason)
        self.status, self.reason, self.logged = status, reason, logged


class _RetryError(_RefusedError):
    def __init__(self, block_id: int | None) -> None:
        super().__init__(200, f"Already received: block {block_id}.")
        self.block_id = block_id


def receive(runtime: Runtime, hook_id: str, body: bytes, remote_ip: str, now: datetime | None = None) -> Outcome:
    """Handle one call of the hook `hook_id`."""
    now = now or datetime.now(UTC)
    with runtime.sessions() as s:
        hook = find_hook(s, hook_id)
        if hook is None:
            secret_matches(None, "")  # as long as a wrong secret takes
            return Outcome(401, {"error": "Unknown webhook or wrong secret."})
        hook_pk, user_id, template = hook.id, hook.user_id, load_template(hook.template)
        try:
            alert: Alert | None = _admit(runtime, s, hook, template, body, remote_ip, now)
            refused: _RefusedError | None = None
        except _RefusedError as exc:
            alert, refused = None, exc
    try:
        if refused is not None:
            raise refused
        assert alert is not None
        assert template is not None
        return _place(runtime, hook_pk, user_id, template, alert, remote_ip, now)
    except _RetryError as retry:
        _log(runtime, hook_pk, now, retry.reason, remote_ip)
        return Outcome(200, {"status": "duplicate", "block_id": retry.block_id})
    except _RefusedError as exc:
        if exc.logged:
            # An admitted alert (its secret checked) that placed nothing is told to its owner;
            # forged or flooding calls are only logged, so they cannot flood the user's phone.
            told = user_id if refused is None else None
            _log(runtime, hook_pk, now, exc.reason, remote_ip, told)
        return Outcome(exc.status, {"error": exc.reason})


def _admit(
    runtime: Runtime, s: Session, hook: Webhook, t: Template | None, body: bytes, ip: str, now: datetime
) -> Alert:
    """The alert, once the hook's rate, allow-list, secret and time window let it through."""
    rate = t.rate_per_min if t is not None else 6
    recent = s.scalar(
        select(func.count()).where(WebhookCall.webhook_id == hook.id, WebhookCall.received_at > now - RATE_WINDOW)
    )
    if (recent or 0) >= rate:
        raise _RefusedError(429, f"Rate limit: at most {rate} calls a minute.", logged=recent < rate * FLOOD_LOGGED)
    if t is not None and not in_allowlist(ip, t.allowed_ips):
        raise _RefusedError(403, f"The address {ip[:64]} is not on this webhook's allow-list.")
    try:
        alert = read_alert(body)
    except AlertError as exc:
        raise _RefusedError(400, str(exc)) from None
    if not secret_matches(hook, alert.secret):
        raise _RefusedError(401, "Unknown webhook or wrong secret.")
    if t is None:
        raise _RefusedError(422, "Save the webhook's template in Settings first.")
    owner = load_user(runtime, hook.user_id)
    if owner is None or not owner.is_active or owner.role not in TRADING_ROLES:
        raise _RefusedError(403, "This webhook's user is disabled or no longer trades.")
    if alert.sent_at is None:
        raise _RefusedError(422, 'The alert has no time: send "timenow": "{{timenow}}".')
    age = (now - alert.sent_at).total_seconds()
    if abs(age) > t.max_age_s:
        raise _RefusedError(422, f"Stale alert: sent {int(age)} s ago, the window is {t.max_age_s} s.")
    done = _accepted_block(s, hook.id, alert.key)
    if done is not None:
        raise _RetryError(done)
    return alert


def _accepted_block(s: Session, webhook_id: int, key: str) -> int | None:
    """The block of the accepted call with this alert key (None when there is none)."""
    row = s.scalar(select(WebhookCall).where(WebhookCall.webhook_id == webhook_id, WebhookCall.alert_key == key))
    return None if row is None else row.block_id or 0


def _place(runtime: Runtime, hook_pk: int, user_id: int, t: Template, alert: Alert, ip: str, now: datetime) -> Outcome:
    fields = _fields(runtime, user_id, t, alert, now)
    req = blocks.parse_block(fields)
    if isinstance(req, list):
        raise _RefusedError(422, "Refused: " + " ".join(e.message for e in req))
    summary = f"{fields['side']} {fields['symbol']} {fields['entry_type']}"

    def accepted(s: Session, block_id: int) -> None:
        s.add(
            WebhookCall(
                webhook_id=hook_pk,
                received_at=now,
                accepted=True,
                alert_key=alert.key,
                block_id=block_id,
                reason=summary,
                remote_ip=ip[:64],
            )
        )

    try:
        block_id = blocks.submit_block(runtime, user_id, t.account_id, req, within=accepted)
    except blocks.BlockRejected as exc:
        raise _RefusedError(422, "Refused: " + " ".join(e.message for e in exc.errors)) from None
    except AccountAccessError:
        raise _RefusedError(422, "The template's account is not one of yours.") from None
    except IntegrityError:  # the same alert, accepted by a parallel call a moment ago
        with runtime.sessions() as s:
            raise _RetryError(_accepted_block(s, hook_pk, alert.key)) from None
    log.info("webhook %d placed block %d", hook_pk, block_id)
    return Outcome(201, {"status": "accepted", "block_id": block_id})


def _fields(runtime: Runtime, user_id: int, t: Template, alert: Alert, now: datetime) -> dict[str, Any]:
    side = alert_side(alert.fields) if t.side == "alert" else t.side
    if side is None:
        raise _RefusedError(422, 'The template takes the side from the alert: send "action": "buy" or "sell".')
    with runtime.sessions() as s:
        try:
            exchange = get_account(s, user_id, t.account_id).exchange
        except AccountAccessError:
            raise _RefusedError(422, "The template's account is not one of yours.") from None
        symbol = _symbol(s, exchange, alert.fields.get("ticker"))
        info = market.get_market(s, exchange, symbol)
        tick = info.price_tick if info is not None else None
        atr = _atr(s, exchange, symbol, t, now) if t.price_mode == "atr" else None
    return block_fields(t, alert.fields, side, symbol, exchange, atr, tick)


def _symbol(s: Session, exchange: str, ticker: Any) -> str:
    """The market of `exchange` a TradingView ticker names: BTCUSDT, BINANCE:BTCUSDT, BTCUSDT.P."""
    if not isinstance(ticker, str) or not 0 < len(ticker) <= 40:
        raise _RefusedError(422, 'The alert has no ticker: send "ticker": "{{ticker}}".')
    wanted = ticker.split(":")[-1].removesuffix(".P").upper()
    compact = wanted.replace("/", "").replace("-", "")
    for found in market.list_markets(s, exchange, compact, limit=20):
        if found.symbol.upper() == wanted or found.symbol.replace("/", "").replace(":", "").upper() == compact:
            return found.symbol
    raise _RefusedError(422, f"No market {ticker[:40]} on {exchange}.")


def _atr(s: Session, exchange: str, symbol: str, t: Template, now: datetime) -> Decimal:
    """ATR(`atr_period`) of the closed candles stored at `atr_timeframe` (engine.market's, Wilder's
    smoothing as TradingView's); refused when too few are stored."""
    atr = market.latest_atr(s, exchange, symbol, t.atr_timeframe, t.atr_period, now)
    if atr is None:
        need = t.atr_period + 1
        raise _RefusedError(
            422, f"The ATR needs {need} stored {t.atr_timeframe} candles of {symbol}: watch it on the chart."
        )
    return atr


def _log(runtime: Runtime, hook_pk: int, now: datetime, reason: str, ip: str, told: int | None = None) -> None:
    with runtime.sessions.begin() as s:
        s.add(WebhookCall(webhook_id=hook_pk, received_at=now, accepted=False, reason=reason[:2000], remote_ip=ip[:64]))
        if told is not None:
            notify.notify(s, told, notify.WEBHOOK_REFUSED, "TradingView alert refused", reason[:500])

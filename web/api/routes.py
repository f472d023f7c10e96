"""The REST API's routes under /api/v1: thin handlers over the engine's public functions (as
freqtrade's rpc/api_server/api_v1.py is over its RPC), each authorized by web.api.access and typed
by web.api.schemas. No rule lives here: a block is parsed by parse_block and checked by
preview_block/submit_block exactly as the chart's form does; another user's ids answer 404.
An amend (PATCH /blocks/<id>) is parsed by parse_amend and checked by amend_block, as the /blocks
dialog's is.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint
from spectree import Response as Resp

from engine.blocks import api as blocks
from engine.market import api as market
from engine.portfolio import api as portfolio
from engine.users import api as users
from web.api import schemas as sc
from web.api.access import allow, authorize, caller, refusal
from web.api.spec import spec
from web.auth import READERS, TRADERS, current_runtime

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
bp.before_request(authorize)

REFUSALS = {"HTTP_401": sc.ApiError, "HTTP_403": sc.ApiError}
NOT_FOUND = {**REFUSALS, "HTTP_404": sc.ApiError}


def _not_found(what: str) -> Any:
    return refusal(404, f"No such {what} of yours.")


def _errors(errors: Any, what: str = "block") -> Any:
    fields: dict[str, str] = {}
    for error in errors:
        fields[error.field] = f"{fields[error.field]} {error.message}" if error.field in fields else error.message
    return refusal(422, f"The {what} was refused: see the message at each field.", fields)


@bp.get("/me")
@spec.validate(resp=Resp(HTTP_200=sc.Me, **REFUSALS), tags=["tokens"])
@allow("read", READERS)
def me() -> Any:
    """The user and scope of the token sent."""
    who = caller()
    return sc.Me(user_id=who.user.id, username=who.user.username, role=who.user.role.value, scope=who.scope)


# --- blocks ---


@bp.get("/blocks")
@spec.validate(query=sc.BlocksQuery, resp=Resp(HTTP_200=sc.BlockList, **REFUSALS), tags=["blocks"])
@allow("read", TRADERS)
def list_blocks(query: sc.BlocksQuery) -> Any:
    """Your blocks with their trades, newest first (at most 500)."""
    live = {"live": True, "closed": False, "all": None}[query.status]
    found = blocks.list_blocks(current_runtime(), caller().user.id, live)
    return sc.BlockList(blocks=[sc.BlockOut.model_validate(b) for b in found])


@bp.get("/blocks/<int:block_id>")
@spec.validate(resp=Resp(HTTP_200=sc.BlockDetailOut, **NOT_FOUND), tags=["blocks"])
@allow("read", TRADERS)
def get_block(block_id: int) -> Any:
    """One of your blocks with its trades, orders and fills."""
    if block_id > sc.MAX_ID:
        return _not_found("block")
    try:
        detail = blocks.block_detail(current_runtime(), caller().user.id, block_id)
    except blocks.BlockAccessError:
        return _not_found("block")
    return sc.BlockDetailOut.model_validate(detail)


def _request(body: sc.BlockIn) -> Any:
    raw = body.model_dump(exclude={"account_id"})
    for choice in ("side", "entry_type", "size_mode"):
        raw[choice] = raw[choice].value
    return blocks.parse_block(raw)


@bp.post("/blocks/preview")
@spec.validate(json=sc.BlockIn, resp=Resp(HTTP_200=sc.PreviewOut, **NOT_FOUND), tags=["blocks"])
@allow("read", TRADERS)
def preview_block(json: sc.BlockIn) -> Any:
    """What placing this block would do (size, risk, reward:risk, every field error); writes nothing."""
    req = _request(json)
    if isinstance(req, list):
        errors = [sc.FieldMessage.model_validate(e) for e in req]
        empty = {"size": None, "cost": None, "risk": None, "risk_pct": None, "amounts": None, "price_tick": None}
        return sc.PreviewOut(**empty, reward_risk=[], errors=errors, notes=[])
    try:
        shown = blocks.preview_block(current_runtime(), caller().user.id, json.account_id, req)
    except users.AccountAccessError:
        return _not_found("account")
    return sc.PreviewOut.model_validate(shown)


@bp.post("/blocks")
@spec.validate(json=sc.BlockIn, resp=Resp(HTTP_201=sc.BlockDetailOut, **NOT_FOUND), tags=["blocks"])
@allow("trade", TRADERS)
def create_block(json: sc.BlockIn) -> Any:
    """Place a block: checked like the chart's form; a refused block writes nothing (422)."""
    req = _request(json)
    if isinstance(req, list):
        return _errors(req)
    runtime, user_id = current_runtime(), caller().user.id
    try:
        block_id = blocks.submit_block(runtime, user_id, json.account_id, req)
    except blocks.BlockRejected as exc:
        return _errors(exc.errors)
    except users.AccountAccessError:
        return _not_found("account")
    return sc.BlockDetailOut.model_validate(blocks.block_detail(runtime, user_id, block_id)), 201


@bp.post("/blocks/<int:block_id>/cancel")
@spec.validate(json=sc.CancelIn, resp=Resp(HTTP_200=sc.CancelOut, **NOT_FOUND), tags=["blocks"])
@allow("trade", TRADERS)
def cancel_block(block_id: int, json: sc.CancelIn) -> Any:
    """Cancel a block's unfilled entries; open positions keep their protection or close at market."""
    if block_id > sc.MAX_ID:
        return _not_found("block")
    try:
        done = blocks.cancel_block(current_runtime(), caller().user.id, block_id, json.close_positions)
    except blocks.BlockAccessError:
        return _not_found("block")
    return sc.CancelOut.model_validate(done)


@bp.patch("/blocks/<int:block_id>")
@spec.validate(json=sc.AmendIn, resp=Resp(HTTP_200=sc.BlockDetailOut, **NOT_FOUND), tags=["blocks"])
@allow("trade", TRADERS)
def amend_block(block_id: int, json: sc.AmendIn) -> Any:
    """Amend a live block: stop (all trades or one), break-even, target moves, add or remove a
    target, the size of what is not filled yet. A refused amend changes nothing (422)."""
    if block_id > sc.MAX_ID:
        return _not_found("block")
    raw = json.model_dump()
    raw["targets"] = [m.model_dump() for m in json.targets]
    change = blocks.parse_amend(raw)
    if isinstance(change, list):
        return _errors(change, "amend")
    runtime, user_id = current_runtime(), caller().user.id
    try:
        blocks.amend_block(runtime, user_id, block_id, change)
    except blocks.BlockAccessError:
        return _not_found("block")
    except blocks.BlockRejected as exc:
        return _errors(exc.errors, "amend")
    return sc.BlockDetailOut.model_validate(blocks.block_detail(runtime, user_id, block_id))


# --- accounts, positions, market data ---


@bp.get("/accounts")
@spec.validate(resp=Resp(HTTP_200=sc.AccountList, **REFUSALS), tags=["accounts"])
@allow("read", TRADERS)
def list_accounts() -> Any:
    """Your exchange accounts (credentials are never returned)."""
    found = users.list_accounts(current_runtime(), caller().user.id)
    return sc.AccountList(accounts=[sc.AccountOut.model_validate(a) for a in found])


@bp.get("/positions")
@spec.validate(resp=Resp(HTTP_200=sc.PositionList, **REFUSALS), tags=["accounts"])
@allow("read", READERS)
def list_positions() -> Any:
    """Your open positions with unrealized P&L at the last price."""
    found = portfolio.open_positions(current_runtime(), caller().user.id)
    return sc.PositionList(positions=[sc.PositionOut.model_validate(p) for p in found])


@bp.get("/series")
@spec.validate(resp=Resp(HTTP_200=sc.SeriesList, **REFUSALS), tags=["market"])
@allow("read", READERS)
def list_series() -> Any:
    """The series on your watchlist (their ids are what /candles takes)."""
    found = market.watchlist(current_runtime(), caller().user.id)
    rows = [
        sc.SeriesOut(
            series_id=e.series_id,
            exchange=e.exchange,
            symbol=e.symbol,
            timeframe=e.timeframe,
            backfill_status=e.backfill_status.value,
            progress=e.progress,
        )
        for e in found
    ]
    return sc.SeriesList(series=rows)


@bp.get("/series/<int:series_id>/candles")
@spec.validate(query=sc.CandlesQuery, resp=Resp(HTTP_200=sc.CandlesOut, **NOT_FOUND), tags=["market"])
@allow("read", READERS)
def candles(series_id: int, query: sc.CandlesQuery) -> Any:
    """Candles of a watched series over [start, end), at most the point budget (a coarser level
    when the range holds more, as the chart reads them)."""
    runtime, user_id = current_runtime(), caller().user.id
    if series_id > sc.MAX_ID:
        return _not_found("series")
    try:
        read = market.window_candles(runtime, user_id, series_id, query.start, query.end)
    except market.NotWatchedError:
        return _not_found("series")
    if read is None:
        return sc.CandlesOut(
            timeframe="", requested="", coarser=False, ts=[], open=[], high=[], low=[], close=[], volume=[]
        )
    return sc.CandlesOut.model_validate(read)


# --- the calendar and statistics ---


def _period(query: sc.PeriodQuery) -> Any:
    who = caller().user
    today = datetime.now(ZoneInfo(who.timezone)).date()
    anchor = query.date or today
    return portfolio.calendar_page(current_runtime(), who.id, who.timezone, query.view, anchor, query.unit, today)


@bp.get("/calendar")
@spec.validate(query=sc.PeriodQuery, resp=Resp(HTTP_200=sc.CalendarOut, **REFUSALS), tags=["portfolio"])
@allow("read", READERS)
def calendar(query: sc.PeriodQuery) -> Any:
    """Realized P&L per day of a month, week or year, in your timezone."""
    page = _period(query)
    days = [
        sc.DayOut(day=cell.day, pnl=cell.pnl, pct=cell.pct, r=cell.r, trades=cell.trades, fees=cell.fees)
        for cell in _cells(page)
        if page.first <= cell.day <= page.last
    ]
    pnl = sum((d.pnl for d in days), start=Decimal(0))
    return sc.CalendarOut(
        view=page.view,
        title=page.title,
        first=page.first,
        last=page.last,
        pnl=pnl,
        trades=sum(d.trades for d in days),
        days=days,
    )


def _cells(page: Any) -> list[Any]:
    months = page.months or ([page.month] if page.month else [])
    weeks = [w for m in months for w in m.weeks] or ([page.week] if page.week else [])
    seen: dict[Any, Any] = {}
    for week in weeks:
        for cell in week.cells:
            if cell.in_period or page.week is not None:
                seen.setdefault(cell.day, cell)
    return sorted(seen.values(), key=lambda c: c.day)


@bp.get("/stats")
@spec.validate(query=sc.PeriodQuery, resp=Resp(HTTP_200=sc.StatsOut, **REFUSALS), tags=["portfolio"])
@allow("read", READERS)
def stats(query: sc.PeriodQuery) -> Any:
    """The statistics of a period (the calendar's), in the chosen unit."""
    page = _period(query)
    return sc.StatsOut.model_validate({**vars(page.stats), "first": page.first, "last": page.last})

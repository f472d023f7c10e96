"""The REST API's conditional blocks under /api/v1/conditions: thin handlers over
engine.conditions.api, authorized like every route (web.api.access). A condition is checked when
saved exactly as POST /blocks checks its block (422 with a message per field, nothing written);
another user's condition answers 404."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from spectree import Response as Resp

from engine.conditions import api as conditions
from web.api import condition_schemas as cs
from web.api.access import allow, authorize, caller, refusal
from web.api.schemas import MAX_ID, ApiError
from web.api.spec import spec
from web.auth import TRADERS, current_runtime

bp = Blueprint("api_v1_conditions", __name__, url_prefix="/api/v1")
bp.before_request(authorize)

NOT_FOUND = {"HTTP_401": ApiError, "HTTP_403": ApiError, "HTTP_404": ApiError}
_OPEN = {"open": True, "done": False, "all": None}


def _out(view: Any) -> cs.ConditionOut:
    return cs.ConditionOut.model_validate(view)


@bp.get("/conditions")
@spec.validate(
    query=cs.ConditionsQuery,
    resp=Resp(HTTP_200=cs.ConditionList, HTTP_401=ApiError, HTTP_403=ApiError),
    tags=["conditions"],
)
@allow("read", TRADERS)
def list_conditions(query: cs.ConditionsQuery) -> Any:
    """Your conditional blocks, newest first: open ones (waiting or pending), done ones, or all."""
    found = conditions.list_conditions(current_runtime(), caller().user.id, _OPEN[query.status])
    return cs.ConditionList(conditions=[_out(v) for v in found])


@bp.post("/conditions")
@spec.validate(
    json=cs.ConditionIn, resp=Resp(HTTP_201=cs.ConditionList, HTTP_422=ApiError, **NOT_FOUND), tags=["conditions"]
)
@allow("trade", TRADERS)
def create_condition(json: cs.ConditionIn) -> Any:
    """Save a block that waits for a condition (and its `then` steps, returned in order); refused
    (422, nothing saved) when its block would be refused now."""
    runtime, user_id = current_runtime(), caller().user.id
    try:
        first = conditions.create_condition(runtime, user_id, json.raw())
    except conditions.ConditionRefused as exc:
        fields: dict[str, str] = {}
        for e in exc.errors:
            fields[e.field] = f"{fields[e.field]} {e.message}" if e.field in fields else e.message
        return refusal(422, "The condition was refused: see the message at each field.", fields)
    chain = conditions.chain(runtime, user_id, first)
    return cs.ConditionList(conditions=[_out(v) for v in chain]), 201


@bp.delete("/conditions/<int:condition_id>")
@spec.validate(resp=Resp(HTTP_200=cs.ConditionOut, **NOT_FOUND), tags=["conditions"])
@allow("trade", TRADERS)
def cancel_condition(condition_id: int) -> Any:
    """Cancel a condition that has not fired, with its later steps; one that fired or was refused
    is left as it is (its status says which)."""
    if condition_id > MAX_ID:
        return refusal(404, "No such condition of yours.")
    try:
        view = conditions.cancel_condition(current_runtime(), caller().user.id, condition_id)
    except conditions.ConditionAccessError:
        return refusal(404, "No such condition of yours.")
    return _out(view)

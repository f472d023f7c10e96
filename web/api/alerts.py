"""The REST API's price alerts under /api/v1/alerts: thin handlers over engine.alerts.api,
authorized like every route (web.api.access): a read token lists, a trade token sets and cancels.
A refused alert answers 422 with a message per field and writes nothing; another user's alert
answers 404."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from spectree import Response as Resp

from db.enums import AlertState
from engine.alerts import api as alerts
from web.api import alert_schemas as sch
from web.api.access import allow, authorize, caller, refusal
from web.api.schemas import MAX_ID, ApiError
from web.api.spec import spec
from web.auth import READERS, TRADERS, current_runtime

bp = Blueprint("api_v1_alerts", __name__, url_prefix="/api/v1")
bp.before_request(authorize)

NOT_FOUND = {"HTTP_401": ApiError, "HTTP_403": ApiError, "HTTP_404": ApiError}


def _out(view: alerts.AlertView) -> sch.AlertOut:
    return sch.AlertOut.model_validate(view)


@bp.get("/alerts")
@spec.validate(
    query=sch.AlertsQuery, resp=Resp(HTTP_200=sch.AlertList, HTTP_401=ApiError, HTTP_403=ApiError), tags=["alerts"]
)
@allow("read", READERS)
def list_alerts(query: sch.AlertsQuery) -> Any:
    """Your price alerts, newest first: of one state, or all."""
    state = None if query.state == "all" else AlertState(query.state)
    found = alerts.list_alerts(current_runtime(), caller().user.id, state)
    return sch.AlertList(alerts=[_out(v) for v in found])


@bp.post("/alerts")
@spec.validate(json=sch.AlertIn, resp=Resp(HTTP_201=sch.AlertOut, HTTP_422=ApiError, **NOT_FOUND), tags=["alerts"])
@allow("trade", TRADERS)
def create_alert(json: sch.AlertIn) -> Any:
    """Set a price alert; refused (422, nothing saved) for a series not on your watchlist, a bad
    price, or a level the price is already past in the direction asked."""
    try:
        view = alerts.create_alert(current_runtime(), caller().user.id, json.model_dump())
    except alerts.AlertRefused as exc:
        return refusal(422, "The alert was refused: see the message at each field.", exc.fields)
    return _out(view), 201


@bp.delete("/alerts/<int:alert_id>")
@spec.validate(resp=Resp(HTTP_200=sch.AlertOut, **NOT_FOUND), tags=["alerts"])
@allow("trade", TRADERS)
def cancel_alert(alert_id: int) -> Any:
    """Cancel an active alert; a triggered or cancelled one is left as it is (its state says which)."""
    if alert_id > MAX_ID:
        return refusal(404, "No such alert of yours.")
    try:
        view = alerts.cancel_alert(current_runtime(), caller().user.id, alert_id)
    except alerts.AlertAccessError:
        return refusal(404, "No such alert of yours.")
    return _out(view)

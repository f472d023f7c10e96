"""The API's spectree instance: the OpenAPI 3 document at /api/docs/openapi.json, the Bearer security
scheme, and validation errors answered as ApiError (422, one message per field) rather than
pydantic's raw list, so bad input reads the same whether spectree or the engine refused it."""

from __future__ import annotations

from typing import Any

from flask import abort
from spectree import SecurityScheme, SecuritySchemeData, SpecTree

from web.api.access import refusal
from web.api.schemas import ApiError


def field_name(loc: tuple[Any, ...]) -> str:
    """`("target_prices", 2, "str")` -> `target_prices[2]`: the field, not pydantic's union branch."""
    name = str(loc[0]) if loc else "body"
    for part in loc[1:]:
        if not isinstance(part, int):
            break
        name += f"[{part}]"
    return name


def validation_messages(errors: list[dict[str, Any]]) -> dict[str, str]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        messages = fields.setdefault(field_name(tuple(error.get("loc") or ())), [])
        if error.get("msg") and error["msg"] not in messages:
            messages.append(str(error["msg"]))
    return {name: " ".join(messages) for name, messages in fields.items()}


def _before(_req: Any, _resp: Any, error: Exception | None, _instance: Any, adapter: Any) -> None:
    if error is not None:
        fields = validation_messages(adapter.validation_errors(error))
        abort(refusal(422, "The request is not valid: see the message at each field.", fields))


spec = SpecTree(
    "flask",
    title="Tradeblock API",
    version="1.0.0",
    path="api/docs",  # the document at /api/docs/openapi.json, beside its page
    mode="strict",  # only the API's own routes, none of Dash's
    page_templates={},  # the docs page is ours (web.api.docs): it must load no script from a CDN
    before=_before,
    validation_error_model=ApiError,
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))],
    security={"bearer": []},
    annotations=True,
)

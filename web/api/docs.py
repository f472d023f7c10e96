"""The API's docs page at /api/docs: Swagger UI over /api/docs/openapi.json, its scripts and styles
served from this app (the offapi package ships Swagger UI's files), so the page works offline and
under the Content-Security-Policy (scripts from this origin only, no inline ones)."""

from __future__ import annotations

from pathlib import Path

import offapi
from flask import Blueprint, Response, abort, send_from_directory

bp = Blueprint("api_docs", __name__, url_prefix="/api/docs")

_SWAGGER = Path(offapi.__file__).parent
_OURS = Path(__file__).parent / "static"
_FILES = {"swagger_bundle.js": _SWAGGER, "swagger_preset.js": _SWAGGER, "swagger_style.css": _SWAGGER}
_FILES["swagger-init.js"] = _OURS

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tradeblock API</title>
<link rel="stylesheet" href="/api/docs/swagger_style.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger_bundle.js"></script>
<script src="/api/docs/swagger_preset.js"></script>
<script src="/api/docs/swagger-init.js"></script>
</body>
</html>
"""


@bp.get("")
def page() -> Response:
    return Response(PAGE, mimetype="text/html")


@bp.get("/<name>")
def asset(name: str) -> Response:
    folder = _FILES.get(name)
    if folder is None:
        abort(404)
    return send_from_directory(folder, name, max_age=3600)

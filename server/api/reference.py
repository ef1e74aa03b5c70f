"""``GET /api/openapi.json`` (the generated OpenAPI document) and ``GET /api/docs`` (a page reading it).

The document is built once per app from the app's own routes
(:func:`server.api.openapi.build_document`) and carries the server's version. The
page is three small files in ``reference_page/``, served from here so it works offline
and under the server's CSP (``script-src 'self'``, no inline script or style); its
script renders every string of the document as text, never as HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import __version__
from server.api.http import JSONResponse
from server.api.openapi import build_document, describe
from server.errors import not_found
from server.language.interface import N_

PAGE_DIR = Path(__file__).resolve().parent / "reference_page"
ASSETS = {
    "docs.js": "text/javascript; charset=utf-8",
    "docs.css": "text/css; charset=utf-8",
}
CACHE = "public, max-age=300"


_built: WeakKeyDictionary[Any, bytes] = WeakKeyDictionary()


def _document(app: Any) -> bytes:
    """The encoded document of ``app``'s routes, built on first use and kept for the app's life."""
    body = _built.get(app)
    if body is None:
        body = _built[app] = orjson.dumps(build_document(app.routes, __version__))
    return body


@describe(
    summary="This OpenAPI 3.1 document",
    description="Generated from the server's routes; `info.version` is the server's version.",
    responses={200: {"type": "object", "required": ["openapi", "info", "paths"]}},
)
async def openapi_json(request: Request) -> Response:
    body = _document(request.app)
    return Response(body, media_type=JSONResponse.media_type, headers={"Cache-Control": CACHE})


@describe(
    summary="The API reference page",
    description="A self-contained page (no third-party files) that renders /api/openapi.json.",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def docs_page(request: Request) -> Response:
    body = (PAGE_DIR / "index.html").read_bytes()
    return Response(body, media_type="text/html; charset=utf-8", headers={"Cache-Control": CACHE})


@describe(
    summary="A file of the API reference page",
    query={},
    responses={
        200: {
            "content": {
                "text/javascript": {"schema": {"type": "string"}},
                "text/css": {"schema": {"type": "string"}},
            }
        }
    },
)
async def docs_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        raise not_found(N_("That file"))
    body = (PAGE_DIR / name).read_bytes()
    return Response(body, media_type=ASSETS[name], headers={"Cache-Control": CACHE})


routes = [
    Route("/api/openapi.json", openapi_json, methods=["GET"]),
    Route("/api/docs", docs_page, methods=["GET"]),
    Route("/api/docs/{name}", docs_asset, methods=["GET"]),
]
